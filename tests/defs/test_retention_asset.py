"""Retention through Dagster (`audit/retention`, the monthly `retention` job): on whichever warehouse is
configured, raw partitions older than three years are exported, verified and only then deleted, and the
materialization says what happened. DuckDB with a local archive folder; the Snowflake emulator with an
Object-Locked archive bucket on an S3 API server on loopback."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import boto3
import duckdb
import pytest
from dagster import materialize

from foodbank_platform import retention, settings, warehouse
from foodbank_platform.defs.assets.retention import AS_OF_TAG, retention_asset
from foodbank_platform.defs.resources import ArchiveResource, build_resources
from foodbank_platform.sources import catalog

TABLE = "wms__inventory_transactions"
AS_OF = "2026-11-28"  # cutoff 2023-11: 2022-06 … 2023-10 are due
FIRST, CUTOFF = datetime(2022, 6, 1), datetime(2023, 11, 1)
COLUMNS = (
    "op, txn_id, txn_type, status, sku, supplier_lot, cases, occurred_at, _file, _row_number, _loaded_at, _load_id"
)


def rows() -> list[tuple]:
    """One transaction every 10 days from 2022-06 to 2024-02, loaded five minutes after it happened."""
    out, t, i = [], FIRST, 0
    while t < datetime(2024, 2, 1):
        i += 1
        out.append(
            ("I", i, "RECEIPT", "POSTED", "CAN-VEG-0412", None if i % 3 == 0 else f"S{i}", (i % 40) + 0.25, t,
             f"dms/wms/f{i}.csv", 1, t + timedelta(minutes=5), f"load-{i}")
        )  # fmt: skip
        t += timedelta(days=10)
    return out


OLD = sum(1 for r in rows() if r[10] < CUTOFF)
DUE = 17  # months 2022-06 … 2023-10


def outcome_of(result) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.event_specific_data.materialization.metadata.items()}


# --- DuckDB, local archive folder ------------------------------------------------------------------


@pytest.fixture
def duckdb_env(tmp_path):
    s = settings.load({"FOODBANK_HOME": str(tmp_path)})
    con = warehouse.connect(s.duckdb_path)
    warehouse.ensure_raw_table(con, catalog.table(TABLE))
    con.executemany(f"INSERT INTO raw.{TABLE} ({COLUMNS}) VALUES ({', '.join(['?'] * 12)})", rows())
    con.close()
    return s


def duck_count(s, where="TRUE"):
    con = warehouse.connect_read_only(s.duckdb_path)
    try:
        return con.execute(f"SELECT count(*) FROM raw.{TABLE} WHERE {where}").fetchone()[0]
    finally:
        con.close()


def test_retention_on_duckdb_archives_to_a_folder_then_deletes(duckdb_env):
    s = duckdb_env
    resources = build_resources(s)
    assert type(resources["archive"]) is ArchiveResource and s.archive_uri.endswith("/archive")
    total = duck_count(s)
    result = materialize([retention_asset], resources=resources, tags={AS_OF_TAG: AS_OF})
    assert result.success
    out = outcome_of(result)
    assert out["partitions_exported"] == out["partitions_verified"] == out["partitions_deleted"] == DUE
    assert out["rows_deleted"] == OLD and out["partitions_not_verified"] == 0 and out["cutoff_month"] == "2023-11-01"
    assert out["deleted"][0] == f"{TABLE}/2022-06" and len(out["archive_keys"]) == 2 * DUE
    assert duck_count(s, "_loaded_at < TIMESTAMP '2023-11-01'") == 0 and duck_count(s) == total - OLD
    folder = settings.uri_to_path(s.archive_uri)
    manifest = json.loads((folder / f"raw/{TABLE}/loaded_month=2022-06/manifest.json").read_text())
    assert manifest["rows"] == 3 and (folder / manifest["data_key"]).exists()
    con = warehouse.connect_read_only(s.duckdb_path)
    assert con.execute("SELECT count(*), sum(deleted_rows) FROM audit.retention_log").fetchone() == (DUE, OLD)
    con.close()
    again = materialize([retention_asset], resources=resources, tags={AS_OF_TAG: AS_OF})
    assert outcome_of(again)["partitions_exported"] == 0 and duck_count(s) == total - OLD


class ShortWriteArchive(retention.LocalArchive):
    """A store that loses the last bytes of what it is given: the archive does not hold the partition."""

    def put(self, key, data, retain_until=None):
        super().put(key, data[:-16] if key.endswith(".parquet") else data, retain_until)


class ShortWriteResource(ArchiveResource):
    def archive(self):
        return ShortWriteArchive(settings.uri_to_path(self.uri))


def test_retention_on_duckdb_deletes_nothing_the_archive_does_not_hold(duckdb_env):
    s = duckdb_env
    resources = {**build_resources(s), "archive": ShortWriteResource(uri=s.archive_uri)}
    total = duck_count(s)
    result = materialize([retention_asset], resources=resources, tags={AS_OF_TAG: AS_OF}, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "does not provably hold" in failure.event_specific_data.error.message
    assert duck_count(s) == total  # not one row deleted


# --- Snowflake emulator, S3 archive with Object Lock -----------------------------------------------


def archive_bucket(s3_endpoint, lock=True) -> str:
    name = f"archive-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock)
    return name


@pytest.fixture
def snowflake_env(tmp_path, snowflake_db, s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    sf = snowflake_db.connect()
    sf.cursor().executemany(
        f"INSERT INTO raw.{TABLE} ({COLUMNS}) VALUES ({', '.join(['%s'] * 12)})",
        [tuple(v.isoformat(sep=" ") if isinstance(v, datetime) else v for v in r) for r in rows()],
    )
    sf.close()
    return snowflake_db


def sf_count(db, sql):
    con = db.connect()
    try:
        return con.cursor().execute(sql).fetchone()
    finally:
        con.close()


@pytest.mark.slow
def test_retention_on_snowflake_archives_to_locked_s3_then_deletes(snowflake_env, s3_endpoint, tmp_path):
    bucket = archive_bucket(s3_endpoint)
    s = snowflake_env.settings(FOODBANK_HOME=str(tmp_path), FOODBANK_ARCHIVE_URI=f"s3://{bucket}/warehouse/")
    resources = build_resources(s)
    (total,) = sf_count(snowflake_env, f"SELECT count(*) FROM raw.{TABLE}")
    result = materialize([retention_asset], resources=resources, tags={AS_OF_TAG: AS_OF})
    assert result.success
    out = outcome_of(result)
    assert out["partitions_exported"] == out["partitions_verified"] == out["partitions_deleted"] == DUE
    assert out["rows_deleted"] == OLD and out["archive"] == f"s3://{bucket}/warehouse/"
    assert sf_count(snowflake_env, f"SELECT count(*) FROM raw.{TABLE} WHERE _loaded_at < '2023-11-01'") == (0,)
    assert sf_count(snowflake_env, f"SELECT count(*) FROM raw.{TABLE}") == (total - OLD,)
    log = sf_count(snowflake_env, "SELECT count(*), sum(deleted_rows), min(archive_uri) FROM audit.retention_log")
    assert log == (DUE, OLD, f"s3://{bucket}/warehouse/raw/{TABLE}/loaded_month=2022-06/part-0.parquet")
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    head = s3.head_object(Bucket=bucket, Key=f"warehouse/raw/{TABLE}/loaded_month=2022-06/part-0.parquet")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    # what left Snowflake is readable from the archive alone, the same rows as the DuckDB path would archive
    path = tmp_path / "p.parquet"
    key = f"warehouse/raw/{TABLE}/loaded_month=2022-06/part-0.parquet"
    path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    sql = f"SELECT txn_id, supplier_lot, CAST(cases AS DOUBLE) FROM read_parquet('{path}') ORDER BY txn_id"
    assert duckdb.connect().execute(sql).fetchall() == [(r[1], r[5], r[6]) for r in rows()[:3]]


@pytest.mark.slow
def test_retention_on_snowflake_deletes_nothing_without_object_lock(snowflake_env, s3_endpoint, tmp_path):
    bucket = archive_bucket(s3_endpoint, lock=False)  # a bucket created without Object Lock
    s = snowflake_env.settings(FOODBANK_HOME=str(tmp_path), FOODBANK_ARCHIVE_URI=f"s3://{bucket}/warehouse/")
    (total,) = sf_count(snowflake_env, f"SELECT count(*) FROM raw.{TABLE}")
    result = materialize([retention_asset], resources=build_resources(s), tags={AS_OF_TAG: AS_OF}, raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.event_specific_data.error.message
    assert "does not provably hold" in message and "ObjectLockConfiguration" in message  # S3 refuses the locked PUT
    assert sf_count(snowflake_env, f"SELECT count(*) FROM raw.{TABLE}") == (total,)
    assert sf_count(snowflake_env, "SELECT count(*) FROM audit.retention_log") == (0,)
