"""Landing and archive buckets: the audit trail of every byte the sources ever delivered.

Landing receives DMS files and SFTP pulls; every object is replicated (same-region replication) to
the archive bucket the moment it lands, because S3 lifecycle rules can only change storage class,
never move an object to another bucket. Landing keeps a year for reloads; the archive keeps seven
years under Object Lock and moves to Glacier Deep Archive once nothing reads it routinely.

Object Lock mode: GOVERNANCE, not COMPLIANCE. Both stop every role of this platform from deleting
or overwriting an archived version for seven years. COMPLIANCE would also stop the food bank from
honouring a legally required erasure (donor email/phone arrive in `intake.donors` CDC files) and
from fixing a mistaken upload, with no way back even for the account root. GOVERNANCE keeps such an
erasure possible only for a principal holding `s3:BypassGovernanceRetention`, which no role here is
granted: it is a break-glass, CloudTrail-logged procedure (deploy/README.md).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from . import iam_util

ARCHIVE_YEARS = 7
ARCHIVE_DAYS = 2557  # 7 * 365 + 2 leap days
LANDING_DAYS = 400  # a year of reloads from landing plus a margin; the archive has the rest
DEEP_ARCHIVE_AFTER_DAYS = 30  # retention exports are verified within days, then only audits read them
WAREHOUSE_EXPORT_PREFIX = "warehouse/"  # rows leaving Snowflake after 3 years (foodbank_platform.retention)


def checkov_skip(resource, *skips: tuple[str, str]) -> None:
    """Suppress a checkov rule on one resource, with the reason next to it in the template."""
    cfn = resource.node.default_child or resource
    cfn.add_metadata("checkov", {"skip": [{"id": i, "comment": why} for i, why in skips]})


class DataBuckets(Construct):
    def __init__(self, scope: Construct, cid: str, *, key: kms.IKey) -> None:
        super().__init__(scope, cid)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,  # log delivery via bucket policy
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(ARCHIVE_DAYS), noncurrent_version_expiration=Duration.days(30)
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        checkov_skip(
            self.access_logs,
            ("CKV_AWS_18", "this is the access-log bucket; logging it into itself would loop"),
            ("CKV_AWS_145", "S3 server access log delivery supports SSE-S3 only, not SSE-KMS"),
            ("CKV_AWS_144", "access logs are operational; a second-region copy is not worth its cost"),
        )

        self.archive = s3.Bucket(
            self,
            "Archive",
            **self._data_bucket_posture(key),
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.governance(Duration.days(ARCHIVE_DAYS)),
            server_access_logs_prefix="archive/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="deep-archive-then-expire-after-7-years",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.DEEP_ARCHIVE,
                            transition_after=Duration.days(DEEP_ARCHIVE_AFTER_DAYS),
                        )
                    ],
                    expiration=Duration.days(ARCHIVE_DAYS),
                    noncurrent_version_expiration=Duration.days(ARCHIVE_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        checkov_skip(
            self.archive,
            (
                "CKV_AWS_144",
                (
                    "cross-region replication would double a 7-year archive; "
                    "Object Lock + versioning already protect it, RPO accepted"
                ),
            ),
        )

        self.landing = s3.Bucket(
            self,
            "Landing",
            **self._data_bucket_posture(key),
            server_access_logs_prefix="landing/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="landing-kept-a-year-archive-has-the-rest",
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INFREQUENT_ACCESS, transition_after=Duration.days(30)
                        )
                    ],
                    expiration=Duration.days(LANDING_DAYS),
                    noncurrent_version_expiration=Duration.days(LANDING_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        checkov_skip(
            self.landing,
            (
                "CKV_AWS_144",
                ("landing is replicated to the archive bucket (same region); a second region is not worth its cost"),
            ),
        )
        self._replicate_landing_to_archive(key)

    def _data_bucket_posture(self, key: kms.IKey) -> dict:
        """What every data bucket (landing, archive) is: KMS-encrypted with the platform key, private,
        TLS only, versioned, owned by this account, its access logged to the access-log bucket."""
        return dict(
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
        )

    def _replicate_landing_to_archive(self, key: kms.IKey) -> None:
        role = iam.Role(
            self,
            "ReplicationRole",
            assumed_by=iam.ServicePrincipal("s3.amazonaws.com"),
            description="Copies every new landing object version to the archive bucket",
        )
        iam_util.attach(
            role,
            [
                iam.PolicyStatement(
                    actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[self.landing.bucket_arn]
                ),
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                        "s3:GetObjectRetention",
                        "s3:GetObjectLegalHold",
                    ],
                    resources=[self.landing.arn_for_objects("*")],
                ),
                iam.PolicyStatement(
                    actions=["s3:ReplicateObject", "s3:ReplicateTags"],
                    # Replicas keep their landing keys (dms/…, sftp/…): replication cannot rename.
                    resources=[self.archive.arn_for_objects("*")],
                ),
                iam_util.use_key(key),
                iam.PolicyStatement(actions=["kms:Encrypt"], resources=[key.key_arn]),
            ],
        )
        cfn: s3.CfnBucket = self.landing.node.default_child
        cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
            role=role.role_arn,
            rules=[
                s3.CfnBucket.ReplicationRuleProperty(
                    id="everything-to-archive",
                    status="Enabled",
                    priority=1,
                    filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
                    # Deletes are not replicated: the archive must outlive anything done to landing.
                    delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(status="Disabled"),
                    source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                        sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(status="Enabled")
                    ),
                    destination=s3.CfnBucket.ReplicationDestinationProperty(
                        bucket=self.archive.bucket_arn,
                        encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                            replica_kms_key_id=key.key_arn
                        ),
                    ),
                )
            ],
        )
