"""`FOODBANK_WAREHOUSE=snowflake` in Dagster: the same raw assets load S3 landing into Snowflake, through
dagster-aws's `S3Resource` (landing on an S3 API server on loopback) and dagster-snowflake's
`SnowflakeResource` (the Snowflake emulator with the migrations applied), exactly once; an unreachable
Snowflake fails the run naming the account and the host, after the asset's retries with backoff."""

from __future__ import annotations

import socket

import boto3
import pytest
from dagster import Backoff, DagsterEventType, RetryPolicy, materialize
from dagster_aws.s3 import S3Resource
from dagster_snowflake import SnowflakeResource

from foodbank_platform import settings
from foodbank_platform.defs.assets.landing import INGEST_RETRY
from foodbank_platform.defs.assets.raw import raw_asset
from foodbank_platform.defs.resources import build_resources
from foodbank_platform.landing.s3 import S3Store
from foodbank_platform.services import snowflake_env
from foodbank_platform.snowflake_warehouse import LOGIN_TIMEOUT_SECONDS
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow
TABLES = [catalog.table("wms__inventory_transactions"), catalog.table("legacy_warehouse__shipments")]


@pytest.fixture
def resources(tmp_path, samples_dir, lay_out_samples, s3_endpoint, s3_bucket, snowflake_db, monkeypatch):
    landing = lay_out_samples(tmp_path / "landing")
    store = S3Store(s3_bucket, client=boto3.client("s3", endpoint_url=s3_endpoint))
    for path in landing.rglob("*"):
        if path.is_file():
            store.write_bytes(path.relative_to(landing).as_posix(), path.read_bytes())
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    s = snowflake_db.settings(FOODBANK_HOME=str(tmp_path), FOODBANK_LANDING_URI=f"s3://{s3_bucket}")
    return build_resources(s)


def test_the_raw_assets_load_s3_landing_into_snowflake_once(resources, snowflake_db):
    assert isinstance(resources["landing"].s3, S3Resource)
    assert isinstance(resources["warehouse"].snowflake, SnowflakeResource)
    used = {k: resources[k] for k in ("landing", "warehouse")}
    first = materialize([raw_asset(t) for t in TABLES], resources=used)
    assert first.success
    loaded = {
        m.asset_key.path[-1]: m.metadata
        for m in (e.event_specific_data.materialization for e in first.get_asset_materialization_events())
    }
    sf = snowflake_db.connect()
    cur = sf.cursor()
    for t in TABLES:
        rows = cur.execute(f"SELECT count(*) FROM raw.{t.raw_table}").fetchone()[0]
        assert rows == loaded[t.raw_table]["rows_loaded"].value == loaded[t.raw_table]["dagster/row_count"].value > 0
    ledger_rows = cur.execute("SELECT count(*) FROM audit.file_ledger").fetchone()[0]
    assert ledger_rows == sum(loaded[t.raw_table]["files_loaded"].value for t in TABLES)
    again = materialize([raw_asset(t) for t in TABLES], resources=used)
    assert again.success
    for e in again.get_asset_materialization_events():
        assert e.event_specific_data.materialization.metadata["rows_loaded"].value == 0
    assert cur.execute("SELECT count(*) FROM audit.file_ledger").fetchone()[0] == ledger_rows
    sf.close()


def test_the_duckdb_connections_are_refused_on_snowflake_not_opened_as_a_local_file(resources, tmp_path):
    for method in ("connect", "read"):
        with pytest.raises(NotImplementedError, match="no DuckDB warehouse file.*dbapi"):
            with getattr(resources["warehouse"], method)():
                pass
    assert not list(tmp_path.rglob("*.duckdb"))


def test_an_unreachable_snowflake_fails_the_run_naming_account_and_host_after_retries_with_backoff(
    tmp_path, lay_out_samples
):
    # A port bound on loopback and never listened on: every connection is refused, and no other
    # process can take the port while the test runs.
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    landing = lay_out_samples(tmp_path / "landing")
    env = {**snowflake_env(port, "FOODBANK"), "SNOWFLAKE_ACCOUNT": "foodbank-prod"}
    s = settings.load({**env, "FOODBANK_HOME": str(tmp_path), "FOODBANK_LANDING_URI": landing.as_uri()})
    resources = build_resources(s)
    assert resources["warehouse"].snowflake.login_timeout == LOGIN_TIMEOUT_SECONDS
    # The production policy retries with exponential backoff; the test's has its shape, with short waits.
    assert raw_asset(TABLES[0]).op.retry_policy == INGEST_RETRY and INGEST_RETRY.backoff is Backoff.EXPONENTIAL
    policy = RetryPolicy(max_retries=2, delay=0.05, backoff=Backoff.EXPONENTIAL)
    try:
        result = materialize(
            [raw_asset(TABLES[0], retry_policy=policy)],
            resources={k: resources[k] for k in ("landing", "warehouse")},
            raise_on_error=False,
        )
    finally:
        closed.close()
    assert not result.success
    events = result.all_events
    retries = [e for e in events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    failures = [e for e in events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert len(retries) == policy.max_retries and len(failures) == 1
    assert events.index(failures[0]) > events.index(retries[-1])  # failed for good after the last retry
    # Backoff: each wait longer than the one before (0.05 s, then 0.15 s).
    waits = [e.event_specific_data.seconds_to_wait for e in retries]
    assert waits == [policy.calculate_delay(1), policy.calculate_delay(2)] and 0 < waits[0] < waits[1]
    # Every attempt failed on the connection, and says where it went.
    where = f"Snowflake account foodbank-prod at 127.0.0.1:{port}"
    for e in [*retries, *failures]:
        error = e.event_specific_data.error.to_string()
        assert "SnowflakeUnreachable" in error and where in error, error
    assert not result.get_asset_materialization_events()
