"""Dagster resources, built from the FOODBANK_* settings of the environment.

The resources only carry configuration and open the plain-Python objects below `defs/` (the
landing store, the SFTP source, the DuckDB warehouse); the work itself lives in those modules.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource

from .. import alerts, warehouse
from .. import settings as fb_settings
from ..dbt_runtime import dbt_resource
from ..landing.store import LandingStore
from ..landing.uri import open_store
from ..quality import Check


class LandingResource(ConfigurableResource):
    uri: str

    def store(self) -> LandingStore:
        return open_store(self.uri)


class SftpResource(ConfigurableResource):
    """The legacy SFTP server (or a local folder laid out like it)."""

    uri: str
    key_path: str | None = None
    known_hosts_path: str | None = None

    def source(self):
        from ..landing.sftp import open_source

        return open_source(self.uri, self.key_path, self.known_hosts_path)


class WarehouseBusy(Exception):
    """A run holds the DuckDB file (one writing process): a sensor looks again on its next tick."""


def _read_only(path: str) -> duckdb.DuckDBPyConnection | None:
    if not Path(path).exists():
        return None
    try:
        return duckdb.connect(path, read_only=True)
    except duckdb.IOException as e:
        raise WarehouseBusy(str(e)) from e


class WarehouseResource(ConfigurableResource):
    duckdb_path: str
    lock_retries: int = 20

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # DuckDB allows one writing process; a dbt build or another loader may hold the file for a
        # few seconds, so wait for it rather than fail the run.
        delay = 0.5
        for attempt in range(self.lock_retries):
            try:
                con = warehouse.connect(self.duckdb_path)
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or attempt == self.lock_retries - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 10)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection for the sensors, None before the first load; never waits for a
        writer: raises WarehouseBusy instead."""
        con = _read_only(self.duckdb_path)
        try:
            yield con
        finally:
            if con is not None:
                con.close()


class QualityResource(ConfigurableResource):
    """Finance's tolerances, per reconciliation (cases), over the defaults in `foodbank_platform.quality`.
    Set in production from `FOODBANK_DQ_TOLERANCES` (JSON), or per run in the launchpad."""

    tolerances_cases: dict[str, float] = {}

    def tolerance(self, check: Check) -> float | None:
        return self.tolerances_cases.get(check.asset[1], check.tolerance)


class AlertsResource(ConfigurableResource):
    """Where alerts go besides the log: an incoming webhook and/or an SNS topic (from the environment)."""

    webhook_url: str | None = None
    sns_topic_arn: str | None = None

    def notifier(self) -> alerts.FanOut:
        env = {
            "FOODBANK_ALERT_WEBHOOK_URL": self.webhook_url or "",
            "FOODBANK_ALERT_SNS_TOPIC_ARN": self.sns_topic_arn or "",
        }
        return alerts.from_environment(env)


def build_resources(s: fb_settings.Settings | None = None) -> dict:
    s = s or fb_settings.load()
    return {
        "landing": LandingResource(uri=s.landing_uri),
        "sftp": SftpResource(uri=s.sftp_uri, key_path=s.sftp_key, known_hosts_path=s.sftp_known_hosts),
        "warehouse": WarehouseResource(duckdb_path=str(s.duckdb_path)),
        "dbt": dbt_resource(s),
        "alerting": AlertsResource(
            webhook_url=os.environ.get("FOODBANK_ALERT_WEBHOOK_URL"),
            sns_topic_arn=os.environ.get("FOODBANK_ALERT_SNS_TOPIC_ARN"),
        ),
        "dq": QualityResource(tolerances_cases=json.loads(os.environ.get("FOODBANK_DQ_TOLERANCES") or "{}")),
    }
