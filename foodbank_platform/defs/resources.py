"""Dagster resources, built from the FOODBANK_* settings of the environment.

The resources only carry configuration and open the plain-Python objects below `defs/` (the
landing store, the SFTP source, the warehouse); the work itself lives in those modules. Where
landing is S3 its client comes from dagster-aws's `S3Resource`; with `FOODBANK_WAREHOUSE=snowflake`
the warehouse resource reaches Snowflake through dagster-snowflake's `SnowflakeResource`
(`resources_snowflake.py`, imported only then: dagster-snowflake takes seconds to import).
"""

from __future__ import annotations

import json
import os

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource

from .. import alerts, retention, warehouse
from .. import settings as fb_settings
from ..dbt_runtime import dbt_resource
from ..landing.s3 import S3Store
from ..landing.store import LandingStore
from ..landing.uri import open_store
from ..quality import Check

# The assets and sensors import the warehouse resource from here, whichever module defines it.
from .resources_warehouse import WarehouseBusy as WarehouseBusy
from .resources_warehouse import WarehouseResource as WarehouseResource
from .resources_warehouse import secret


class LandingResource(ConfigurableResource):
    uri: str

    def store(self) -> LandingStore:
        return open_store(self.uri)


class S3LandingResource(LandingResource):
    """Landing on S3 (`s3://bucket/prefix`): the client from dagster-aws's `S3Resource`, configured as it
    configures it. A resource of its own, since a nested resource makes Dagster build its parent as a
    context manager, which a local landing does not need."""

    s3: S3Resource

    def store(self) -> LandingStore:
        return S3Store.from_uri(self.uri, client=self.s3.get_client())


class ArchiveResource(ConfigurableResource):
    """Where retention exports raw partitions (FOODBANK_ARCHIVE_URI): a local folder here."""

    uri: str

    def archive(self) -> retention.Archive:
        return retention.open_archive(self.uri)


class S3ArchiveResource(ArchiveResource):
    """The archive on S3 (`s3://bucket/warehouse/`, Object Lock): the client from dagster-aws's `S3Resource`."""

    s3: S3Resource

    def archive(self) -> retention.Archive:
        return retention.open_archive(self.uri, client=self.s3.get_client())


class SftpResource(ConfigurableResource):
    """The legacy SFTP server (or a local folder laid out like it)."""

    uri: str
    key_path: str | None = None
    known_hosts_path: str | None = None

    def source(self):
        from ..sources.sftp import open_source

        return open_source(self.uri, self.key_path, self.known_hosts_path)


class QualityResource(ConfigurableResource):
    """Finance's tolerances, per reconciliation (cases), over the defaults in `foodbank_platform.quality`.
    Set in production from `FOODBANK_DQ_TOLERANCES` (JSON), or per run in the launchpad."""

    tolerances_cases: dict[str, float] = {}

    def tolerance(self, check: Check) -> float | None:
        return self.tolerances_cases.get(check.asset[1], check.tolerance)


class AlertsResource(ConfigurableResource):
    """Where alerts go besides the log: an incoming webhook and/or an SNS topic; and the CloudWatch
    namespace the 10-minute path's lag is published in, if any (all from the environment)."""

    webhook_url: str | None = None
    sns_topic_arn: str | None = None
    metric_namespace: str | None = None

    def metrics(self) -> alerts.MetricPublisher | None:
        return alerts.metrics_from_environment({"FOODBANK_METRIC_NAMESPACE": self.metric_namespace or ""})

    def notifier(self) -> alerts.FanOut:
        env = {
            "FOODBANK_ALERT_WEBHOOK_URL": self.webhook_url or "",
            "FOODBANK_ALERT_SNS_TOPIC_ARN": self.sns_topic_arn or "",
        }
        return alerts.from_environment(env)


def build_resources(s: fb_settings.Settings | None = None) -> dict:
    s = s or fb_settings.load()
    if s.warehouse == "snowflake":
        from .resources_snowflake import SnowflakeWarehouseResource, snowflake_resource

        warehouse_resource = SnowflakeWarehouseResource(
            duckdb_path=str(s.duckdb_path), snowflake=snowflake_resource(s.snowflake), **warehouse.duckdb_settings(s)
        )
    else:
        warehouse_resource = WarehouseResource(duckdb_path=str(s.duckdb_path), **warehouse.duckdb_settings(s))
    s3 = S3Resource(endpoint_url=os.environ.get("AWS_ENDPOINT_URL"))
    if s.landing_uri.startswith("s3://"):
        landing = S3LandingResource(uri=s.landing_uri, s3=s3)
    else:
        landing = LandingResource(uri=s.landing_uri)
    if s.archive_uri.startswith("s3://"):
        archive = S3ArchiveResource(uri=s.archive_uri, s3=s3)
    else:
        archive = ArchiveResource(uri=s.archive_uri)
    return {
        "landing": landing,
        "sftp": SftpResource(uri=s.sftp_uri, key_path=s.sftp_key, known_hosts_path=s.sftp_known_hosts),
        "warehouse": warehouse_resource,
        "archive": archive,
        "dbt": dbt_resource(s),
        "alerting": AlertsResource(
            # A chat webhook's URL is its credential.
            webhook_url=secret("FOODBANK_ALERT_WEBHOOK_URL", os.environ.get("FOODBANK_ALERT_WEBHOOK_URL")),
            sns_topic_arn=os.environ.get("FOODBANK_ALERT_SNS_TOPIC_ARN"),
            metric_namespace=os.environ.get("FOODBANK_METRIC_NAMESPACE"),
        ),
        "dq": QualityResource(tolerances_cases=json.loads(os.environ.get("FOODBANK_DQ_TOLERANCES") or "{}")),
    }
