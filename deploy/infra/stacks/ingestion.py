"""AWS DMS: the three PostgreSQL systems into the landing bucket, in the contract's file shape.

DMS Serverless, one replication per system: no instance to size or patch, and capacity follows the
load (1 DCU for the steady CDC trickle — a few rows a second — up to 4 DCU when an operator reloads a
table). Single-AZ: after an AZ failure DMS resumes from the replication slot's checkpoint and the
slot keeps the WAL meanwhile, so the outage costs latency, never rows; Multi-AZ would double the bill.

Every setting that shapes the files comes from `deploy/infra/dms_contract.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_dms as dms
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from .. import dms_contract
from . import iam_util
from .network import Network
from .storage import checkov_skip

MIN_DCU, MAX_DCU = 1, 4


@dataclass(frozen=True)
class SourceDatabase:
    """Where a source system's read replica / logical-replication endpoint is (from CDK context)."""

    system: str
    host: str
    database: str
    port: int = 5432


class Replication(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        network: Network,
        key: kms.IKey,
        landing: s3.IBucket,
        sources: list[SourceDatabase],
        create_service_roles: bool,
    ) -> None:
        super().__init__(scope, cid)
        self.security_group = ec2.SecurityGroup(
            self,
            "DmsSg",
            vpc=network.vpc,
            description="DMS replications: out to sources and S3",
            allow_all_outbound=True,
        )
        service_roles = self._service_roles() if create_service_roles else []
        subnets = dms.CfnReplicationSubnetGroup(
            self,
            "Subnets",
            replication_subnet_group_description="foodbank DMS private subnets",
            subnet_ids=network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
        )
        for role in service_roles:
            subnets.node.add_dependency(role)
        self.secrets_role = iam.Role(
            self,
            "SecretsAccess",
            assumed_by=iam.ServicePrincipal(f"dms.{Stack.of(self).region}.amazonaws.com"),
            description="DMS reads the source database credentials",
        )
        self.replication_ids: list[str] = []
        for source in sources:
            self._replicate(source, subnets, key, landing)

    def _service_roles(self) -> list[iam.Role]:
        """The account-wide roles DMS expects by name; an empty account does not have them yet."""
        return [
            iam.Role(
                self,
                cid,
                role_name=name,
                assumed_by=iam.ServicePrincipal("dms.amazonaws.com"),
                managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{policy}")],
            )
            for cid, name, policy in (
                ("DmsVpcRole", "dms-vpc-role", "AmazonDMSVPCManagementRole"),
                ("DmsLogsRole", "dms-cloudwatch-logs-role", "AmazonDMSCloudWatchLogsRole"),
            )
        ]

    def _replicate(
        self, source: SourceDatabase, subnets: dms.CfnReplicationSubnetGroup, key: kms.IKey, landing: s3.IBucket
    ) -> None:
        name = source.system.capitalize()
        secret = sm.Secret(
            self,
            f"{name}Credentials",
            encryption_key=key,
            secret_name=f"foodbank/dms/{source.system}",
            description=f"{source.system} replication user: JSON username, password, host, port",
        )
        checkov_skip(
            secret,
            (
                "CKV2_AWS_57",
                ("the source team owns this database user and rotates it; the runbook puts the new value here"),
            ),
        )
        iam_util.attach(
            self.secrets_role,
            [
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn]),
            ],
        )
        source_endpoint = dms.CfnEndpoint(
            self,
            f"{name}Source",
            endpoint_type="source",
            engine_name="postgres",
            endpoint_identifier=f"foodbank-{source.system}-source",
            database_name=source.database,
            ssl_mode="require",
            kms_key_id=key.key_arn,
            postgre_sql_settings=dms.CfnEndpoint.PostgreSqlSettingsProperty(
                secrets_manager_secret_id=secret.secret_arn,
                secrets_manager_access_role_arn=self.secrets_role.role_arn,
                heartbeat_enable=True,  # keeps an idle database's replication slot from holding WAL
            ),
        )
        folder = f"dms/{source.system}"
        writer = iam.Role(
            self,
            f"{name}S3Writer",
            assumed_by=iam.ServicePrincipal("dms.amazonaws.com"),
            description=f"DMS writes {source.system} CDC files under {folder}/ only",
        )
        iam_util.attach(
            writer,
            [
                iam_util.object_access(
                    landing, ["s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"], [f"{folder}/"]
                ),
                iam_util.list_under(landing, [f"{folder}/"]),
                iam_util.use_key(key),
            ],
        )
        target = dms.CfnEndpoint(
            self,
            f"{name}Target",
            endpoint_type="target",
            engine_name="s3",
            endpoint_identifier=f"foodbank-{source.system}-landing",
            kms_key_id=key.key_arn,
        )
        target.add_property_override(
            "S3Settings",
            {
                **dms_contract.S3_TARGET_SETTINGS,
                **dms_contract.S3_TARGET_FILE_SHAPE,
                "BucketName": landing.bucket_name,
                "BucketFolder": folder,
                "ServiceAccessRoleArn": writer.role_arn,
                "EncryptionMode": "SSE_KMS",
                "ServerSideEncryptionKmsKeyId": key.key_arn,
            },
        )
        replication_id = f"foodbank-{source.system}"
        dms.CfnReplicationConfig(
            self,
            f"{name}Replication",
            replication_config_identifier=replication_id,
            replication_type="full-load-and-cdc",
            source_endpoint_arn=source_endpoint.ref,
            target_endpoint_arn=target.ref,
            compute_config=dms.CfnReplicationConfig.ComputeConfigProperty(
                min_capacity_units=MIN_DCU,
                max_capacity_units=MAX_DCU,
                multi_az=False,
                replication_subnet_group_id=subnets.ref,
                vpc_security_group_ids=[self.security_group.security_group_id],
            ),
            table_mappings=dms_contract.table_mappings(source.system),
            replication_settings=dms_contract.replication_settings(),
        )
        self.replication_ids.append(replication_id)
