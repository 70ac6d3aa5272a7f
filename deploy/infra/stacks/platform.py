"""The production platform as one stack: keys, buckets, network, DMS, Dagster, alarms.

One stack rather than several: nothing here has a different life cycle, and cross-stack exports
would only make a change of bucket or key harder. The constructs keep the parts readable.
Configuration comes from CDK context (`cdk.json` or `-c name=value`), never from code edits.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from .. import dms_contract
from . import iam_util
from .ingestion import Replication, SourceDatabase
from .monitoring import Alerts
from .network import Network
from .orchestration import LANDING_PREFIXES, Orchestration
from .storage import WAREHOUSE_EXPORT_PREFIX, DataBuckets


def _context(scope: Construct, name: str, default=None):
    value = scope.node.try_get_context(name)
    return default if value is None else value


class FoodbankPlatformStack(Stack):
    def __init__(self, scope: Construct, cid: str, **kwargs) -> None:
        super().__init__(scope, cid, **kwargs)
        self.key = kms.Key(
            self,
            "DataKey",
            alias="alias/foodbank-data",
            enable_key_rotation=True,
            description="Landing, archive, secrets, logs and alerts of the food bank platform",
            removal_policy=RemovalPolicy.RETAIN,
            pending_window=Duration.days(30),
        )
        self._let_services_use_key()
        self.buckets = DataBuckets(self, "Data", key=self.key)
        self.network = Network(self, "Network", key=self.key)
        sources = [
            SourceDatabase(
                system,
                _context(self, f"{system}_host", f"{system}.db.internal"),
                _context(self, f"{system}_database", system),
            )
            for system in dms_contract.DMS_SYSTEMS
        ]
        self.replication = Replication(
            self,
            "Dms",
            network=self.network,
            key=self.key,
            landing=self.buckets.landing,
            sources=sources,
            create_service_roles=str(_context(self, "create_dms_service_roles", "true")).lower() == "true",
        )
        self.dagster = Orchestration(
            self,
            "Dagster",
            network=self.network,
            key=self.key,
            buckets=self.buckets,
            image_tag=_context(self, "image_tag", "latest"),
            # 0 on the very first deploy: the image is pushed to the new repository after it
            desired_count=int(_context(self, "dagster_desired_count", 1)),
        )
        self.alerts = Alerts(
            self,
            "Alerts",
            key=self.key,
            run_logs=[self.dagster.log_groups["run"], self.dagster.log_groups["daemon"]],
            alert_email=_context(self, "alert_email"),
        )
        self.snowflake_role = self._snowflake_storage_role()
        for name, value in (
            ("LandingBucket", self.buckets.landing.bucket_name),
            ("ArchiveBucket", self.buckets.archive.bucket_name),
            ("ImageRepository", self.dagster.repository.repository_uri),
            ("SnowflakeStorageRoleArn", self.snowflake_role.role_arn),
            ("AlertsTopic", self.alerts.topic.topic_arn),
            ("Cluster", self.dagster.cluster.cluster_name),
        ):
            CfnOutput(self, name, value=value)

    def _let_services_use_key(self) -> None:
        """CloudWatch Logs, alarms and EventBridge encrypt with the data key; grant exactly that."""
        for service in (f"logs.{self.region}.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"):
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    resources=["*"],
                    actions=[
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                        "kms:GenerateDataKey",
                        "kms:DescribeKey",
                    ],
                )
            )

    def _snowflake_storage_role(self) -> iam.Role:
        """Assumed by Snowflake's storage integration: read landing (COPY INTO), write/read retention exports.

        Snowflake's IAM user and external id are only known once the integration exists
        (`DESC INTEGRATION`), so the first deploy trusts this account with a placeholder external id
        and the second deploy sets both (deploy/README.md, step 5).
        """
        principal = _context(self, "snowflake_iam_user_arn")
        external_id = _context(self, "snowflake_external_id", "set-after-create-storage-integration")
        trusted = iam.ArnPrincipal(principal) if principal else iam.AccountRootPrincipal()
        role = iam.Role(
            self,
            "SnowflakeStorage",
            role_name="foodbank-snowflake-storage",
            assumed_by=trusted.with_conditions({"StringEquals": {"sts:ExternalId": external_id}}),
            description="Snowflake storage integration for the landing and archive buckets",
        )
        iam_util.attach(
            role,
            [
                iam_util.object_access(self.buckets.landing, ["s3:GetObject", "s3:GetObjectVersion"], LANDING_PREFIXES),
                iam_util.list_under(self.buckets.landing, LANDING_PREFIXES),
                iam_util.object_access(
                    self.buckets.archive, ["s3:GetObject", "s3:PutObject"], [WAREHOUSE_EXPORT_PREFIX]
                ),
                iam_util.list_under(self.buckets.archive, [WAREHOUSE_EXPORT_PREFIX]),
                iam_util.use_key(self.key),
            ],
        )
        return role
