"""One VPC for DMS, the Dagster services and their database.

Private subnets for everything that runs; one NAT gateway (Snowflake, the SFTP host) instead of one
per AZ, because a NAT outage delays the 10-minute path but loses nothing. ECR, CloudWatch Logs and
Secrets Manager are reached through VPC endpoints and S3 through the free gateway endpoint: every
Dagster run pulls the image, and pulling ~1 GB 150 times a day through a NAT gateway would cost more
than the endpoints (deploy/cost.py).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .storage import checkov_skip

LOG_RETENTION = logs.RetentionDays.ONE_YEAR


class Network(Construct):
    def __init__(self, scope: Construct, cid: str, *, key: kms.IKey) -> None:
        super().__init__(scope, cid)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            # The default security group is left unused (every ENI below gets its own group); CDK's
            # restriction would add a custom-resource Lambda just to empty it.
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
        )
        checkov_skip(
            self.vpc,
            (
                "CKV2_AWS_12",
                ("no resource uses the default security group; each service has its own group with explicit rules"),
            ),
        )
        flow_logs = logs.LogGroup(
            self, "FlowLogs", encryption_key=key, retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        for name, service in (
            ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
            ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
            ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
            ("Secrets", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
        ):
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
            )

    @property
    def private(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

    @property
    def isolated(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
