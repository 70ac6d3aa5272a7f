"""Dagster OSS on ECS Fargate: webserver, daemon, and one Fargate task per run (EcsRunLauncher).

One image (from ECR, built by `Dockerfile`) serves all three. The webserver and daemon are
long-lived services with one task each; the daemon launches each run as a task of the `run` task
definition, whose role is the only one that can read and write the data buckets and read the
Snowflake/SFTP secrets. Run and event storage is RDS PostgreSQL with an RDS-managed (rotated)
master password. There is no load balancer: engineers reach the UI through an SSM port-forward to
the webserver task (deploy/README.md), which keeps the UI off the internet and saves an ALB.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from . import iam_util
from .network import LOG_RETENTION, Network
from .storage import WAREHOUSE_EXPORT_PREFIX, DataBuckets, checkov_skip

APP_DIR = "/opt/dagster/app"
DAGSTER_HOME = "/opt/dagster/home"
# The first business day production closes: the nightly partitions start here.
GO_LIVE = "2026-01-01"
METRIC_NAMESPACE = "FoodbankPlatform"
RUN_CONTAINER = "run"
# Sized for the work: the webserver and daemon are mostly idle; a run executes the loader and dbt.
SIZES = {"webserver": (512, 1024), "daemon": (512, 2048), "run": (1024, 4096)}
LANDING_PREFIXES = ["dms/", "sftp/", "_versions/"]
# Environment variable <- field of the JSON secret. Snowflake uses key-pair auth (service users);
# the SFTP key and host key become files in deploy/entrypoint.sh.
SNOWFLAKE_FIELDS = {
    "SNOWFLAKE_ACCOUNT": "account",
    "SNOWFLAKE_USER": "user",
    "SNOWFLAKE_PRIVATE_KEY": "private_key",
    "SNOWFLAKE_ROLE": "role",
    "SNOWFLAKE_WAREHOUSE": "warehouse",
}
SFTP_FIELDS = {
    "FOODBANK_SFTP_URI": "uri",
    "FOODBANK_SFTP_PRIVATE_KEY": "private_key",
    "FOODBANK_SFTP_KNOWN_HOSTS_LINE": "known_hosts",
}


class Orchestration(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        network: Network,
        key: kms.IKey,
        buckets: DataBuckets,
        image_tag: str,
        desired_count: int = 1,
    ) -> None:
        super().__init__(scope, cid)
        self.buckets = buckets
        self.repository = ecr.Repository(
            self,
            "Image",
            repository_name="foodbank-platform",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,  # a tag is a git commit, never moved
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=key,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=50)],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.snowflake = self._external_secret(
            "Snowflake", "foodbank/snowflake", key, "JSON: " + ", ".join(SNOWFLAKE_FIELDS.values())
        )
        self.sftp = self._external_secret("Sftp", "foodbank/sftp", key, "JSON: " + ", ".join(SFTP_FIELDS.values()))
        self.tasks_sg = ec2.SecurityGroup(
            self,
            "TasksSg",
            vpc=network.vpc,
            allow_all_outbound=True,
            description="Dagster webserver, daemon and run tasks",
        )
        self.database = self._database(network, key)
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=network.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED
        )
        self.log_groups = {
            name: logs.LogGroup(
                self,
                f"{name.capitalize()}Logs",
                encryption_key=key,
                retention=LOG_RETENTION,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for name in SIZES
        }
        image = ecs.ContainerImage.from_ecr_repository(self.repository, tag=image_tag)
        self.run_task = self._task("run", image, key, command=None)
        self._grant_run_role(self.run_task.task_role, key, buckets)
        webserver = self._task(
            "webserver",
            image,
            key,
            command=["dagster-webserver", "-h", "0.0.0.0", "-p", "3000", "-w", f"{APP_DIR}/deploy/workspace.yaml"],
        )
        daemon = self._task(
            "daemon", image, key, command=["dagster-daemon", "run", "-w", f"{APP_DIR}/deploy/workspace.yaml"]
        )
        self._grant_launcher(daemon.task_role)
        self._grant_launcher(webserver.task_role)  # the UI can terminate runs
        # Sensors run in the daemon and look for new files: read-only on landing. The alerts sensor
        # publishes MinutesBehindSource every minute, in the platform's namespace only.
        iam_util.attach(
            daemon.task_role,
            [
                iam_util.list_under(buckets.landing, LANDING_PREFIXES),
                iam_util.object_access(buckets.landing, ["s3:GetObject"], LANDING_PREFIXES),
                iam_util.use_key(key, encrypt=False),
                iam.PolicyStatement(
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
                ),
            ],
        )
        for name, task in (("webserver", webserver), ("daemon", daemon)):
            ecs.FargateService(
                self,
                f"{name.capitalize()}Service",
                cluster=self.cluster,
                task_definition=task,
                desired_count=desired_count,
                assign_public_ip=False,
                vpc_subnets=network.private,
                security_groups=[self.tasks_sg],
                enable_execute_command=True,
                # Exactly one daemon may run: stop the old task before starting the new one.
                min_healthy_percent=0,
                max_healthy_percent=100,
                circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            )
            policy = task.task_role.node.find_child("DefaultPolicy").node.default_child
            checkov_skip(
                policy,
                (
                    "CKV_AWS_111",
                    (
                        "the unconstrained actions are ECS Exec's ssmmessages:* channel "
                        "calls and ecs:DescribeTaskDefinition, which have no "
                        "resource-level permissions"
                    ),
                ),
            )

    def _external_secret(self, cid: str, name: str, key: kms.IKey, description: str) -> sm.Secret:
        secret = sm.Secret(self, cid, secret_name=name, encryption_key=key, description=description)
        checkov_skip(
            secret,
            (
                "CKV2_AWS_57",
                (
                    "issued by an external system (Snowflake key pair, SFTP "
                    "account); rotated there and put here by the runbook"
                ),
            ),
        )
        return secret

    def _database(self, network: Network, key: kms.IKey) -> rds.CfnDBInstance:
        db_sg = ec2.SecurityGroup(
            self, "DbSg", vpc=network.vpc, allow_all_outbound=False, description="Dagster run/event storage"
        )
        db_sg.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(5432), "Dagster tasks to PostgreSQL")
        subnets = rds.CfnDBSubnetGroup(
            self,
            "DbSubnets",
            db_subnet_group_description="Dagster storage, isolated subnets",
            subnet_ids=network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        monitoring = iam.Role(
            self,
            "DbMonitoring",
            assumed_by=iam.ServicePrincipal("monitoring.rds.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonRDSEnhancedMonitoringRole")
            ],
        )
        db = rds.CfnDBInstance(
            self,
            "DagsterDb",
            engine="postgres",
            engine_version="17.5",
            db_instance_class="db.t4g.small",
            allocated_storage="20",
            max_allocated_storage=100,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.key_arn,
            db_name="dagster",
            master_username="dagster",
            manage_master_user_password=True,  # RDS keeps it in Secrets Manager and rotates it
            master_user_secret=rds.CfnDBInstance.MasterUserSecretProperty(kms_key_id=key.key_arn),
            multi_az=True,
            publicly_accessible=False,
            db_subnet_group_name=subnets.ref,
            vpc_security_groups=[db_sg.security_group_id],
            backup_retention_period=7,
            deletion_protection=True,
            auto_minor_version_upgrade=True,
            copy_tags_to_snapshot=True,
            enable_iam_database_authentication=True,
            enable_cloudwatch_logs_exports=["postgresql"],
            monitoring_interval=60,
            monitoring_role_arn=monitoring.role_arn,
            enable_performance_insights=True,
            performance_insights_kms_key_id=key.key_arn,
            performance_insights_retention_period=7,
        )
        db.apply_removal_policy(RemovalPolicy.SNAPSHOT)
        return db

    def _task(
        self, name: str, image: ecs.ContainerImage, key: kms.IKey, command: list[str] | None
    ) -> ecs.FargateTaskDefinition:
        cpu, memory = SIZES[name]
        task = ecs.FargateTaskDefinition(
            self, f"{name.capitalize()}Task", cpu=cpu, memory_limit_mib=memory, family=f"foodbank-dagster-{name}"
        )
        db_secret = sm.Secret.from_secret_complete_arn(
            self, f"{name.capitalize()}DbSecret", self.database.attr_master_user_secret_secret_arn
        )
        secrets = {"DAGSTER_PG_PASSWORD": ecs.Secret.from_secrets_manager(db_secret, "password")}
        environment = {
            "DAGSTER_HOME": DAGSTER_HOME,
            "FOODBANK_ENV": "prod",
            "FOODBANK_WAREHOUSE": "snowflake",  # the code location's warehouse and dbt's target (`snowflake`)
            "DAGSTER_PG_HOST": self.database.attr_endpoint_address,
            "DAGSTER_PG_DB": "dagster",
            "DAGSTER_PG_USER": "dagster",
            "DAGSTER_RUN_CONTAINER": RUN_CONTAINER,
            "FOODBANK_METRIC_NAMESPACE": METRIC_NAMESPACE,
            "FOODBANK_FIRST_BUSINESS_DAY": GO_LIVE,
            "FOODBANK_LANDING_URI": f"s3://{self.buckets.landing.bucket_name}",
            "FOODBANK_ARCHIVE_URI": f"s3://{self.buckets.archive.bucket_name}/{WAREHOUSE_EXPORT_PREFIX}",
            "SNOWFLAKE_DATABASE": "FOODBANK",
        }
        # Code references in the Dagster UI link into the repository the image was built from:
        # `cdk deploy -c git_url=https://github.com/<org>/<repo> -c git_ref=<commit>`.
        if self.node.try_get_context("git_url"):
            environment["FOODBANK_GIT_URL"] = self.node.try_get_context("git_url")
            environment["FOODBANK_GIT_REF"] = self.node.try_get_context("git_ref") or "main"
        # Every task loads the code location, whose warehouse resource (FOODBANK_WAREHOUSE=snowflake) needs the
        # Snowflake login to be built at all; the daemon's sensors ask the ledger on Snowflake, runs load raw and
        # run dbt. Only runs pull SFTP.
        fields_and_secrets = [(SNOWFLAKE_FIELDS, self.snowflake)] + (
            [(SFTP_FIELDS, self.sftp)] if name == "run" else []
        )
        for fields, secret in fields_and_secrets:
            secrets.update({env: ecs.Secret.from_secrets_manager(secret, field) for env, field in fields.items()})
        if name != "run":
            environment["DAGSTER_RUN_TASK_DEFINITION"] = self.run_task.task_definition_arn
        task.add_container(
            RUN_CONTAINER if name == "run" else name,
            image=image,
            command=command,
            environment=environment,
            secrets=secrets,
            readonly_root_filesystem=False,
            essential=True,
            logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=self.log_groups[name]),
            port_mappings=[ecs.PortMapping(container_port=3000)] if name == "webserver" else None,
        )
        return task

    def _grant_run_role(self, role: iam.IRole, key: kms.IKey, buckets: DataBuckets) -> None:
        """Runs load files into Snowflake, pull SFTP into landing and export/verify retention partitions."""
        iam_util.attach(
            role,
            [
                iam_util.object_access(
                    buckets.landing, ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], LANDING_PREFIXES
                ),
                iam_util.list_under(buckets.landing, LANDING_PREFIXES),
                iam_util.object_access(
                    buckets.archive,
                    ["s3:GetObject", "s3:PutObject", "s3:GetObjectRetention"],
                    [WAREHOUSE_EXPORT_PREFIX],
                ),
                iam_util.list_under(buckets.archive, [WAREHOUSE_EXPORT_PREFIX]),
                iam_util.use_key(key),
            ],
        )

    def _grant_launcher(self, role: iam.IRole) -> None:
        """What EcsRunLauncher calls: run/describe/stop tasks of the run definition on this cluster."""
        stack = Stack.of(self)
        family = self.run_task.family
        tasks_arn = stack.format_arn(service="ecs", resource="task", resource_name=f"{self.cluster.cluster_name}/*")
        iam_util.attach(
            role,
            [
                iam.PolicyStatement(
                    actions=["ecs:RunTask"],
                    resources=[
                        stack.format_arn(service="ecs", resource="task-definition", resource_name=f"{family}:*")
                    ],
                    conditions={"ArnEquals": {"ecs:cluster": self.cluster.cluster_arn}},
                ),
                iam.PolicyStatement(
                    actions=["ecs:DescribeTasks", "ecs:StopTask", "ecs:TagResource"], resources=[tasks_arn]
                ),
                # DescribeTaskDefinition supports no resource-level restriction.
                iam.PolicyStatement(actions=["ecs:DescribeTaskDefinition"], resources=["*"]),
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[self.run_task.task_role.role_arn, self.run_task.obtain_execution_role().role_arn],
                ),
            ],
        )
