"""Retention: rows leave the warehouse only after the S3 archive provably holds them.

Real DuckDB warehouse, real S3 API (moto server on loopback) with Object Lock, as in production.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import boto3
import duckdb
import pytest

from foodbank_platform import retention, warehouse
from foodbank_platform.sources import catalog

TABLE = "wms__inventory_transactions"
TODAY = date(2026, 11, 28)
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
def archive(s3_endpoint):
    """A fresh Object-Locked archive bucket, under its `warehouse/` prefix as in production: (client, bucket, archive)."""
    import uuid

    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    bucket = f"archive-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    return s3, bucket, retention.open_archive(f"s3://{bucket}/warehouse/", client=s3)


@pytest.fixture
def con(tmp_path):
    """A warehouse with one transaction per 10 days from 2022-06 to 2026-11, loaded as it happened."""
    con = warehouse.connect(tmp_path / "wh.duckdb")
    warehouse.ensure_raw_table(con, catalog.table(TABLE))
    con.execute(f"""
        INSERT INTO raw.{TABLE} (op, dms_commit_ts, dms_change_seq, txn_id, txn_type, status, sku, lot_code,
            supplier_lot, cases, lbs, occurred_at, _file, _file_version, _file_checksum, _row_number, _loaded_at, _load_id)
        SELECT 'I', t, NULL, i, 'RECEIPT', 'POSTED', 'CAN-VEG-0412', 'L' || i,
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'S' || i END, (i % 40) + 0.25, (i % 40) * 27.5, t,
               'dms/wms/f' || i || '.csv', 1, 'sha' || i, 1, t + INTERVAL 5 MINUTE, 'load-' || i
        FROM (SELECT row_number() OVER () AS i, t FROM range(TIMESTAMP '2022-06-01', TIMESTAMP '2026-11-28',
              INTERVAL 10 DAY) r(t))""")
    return con


def count(con, where="TRUE"):
    return con.execute(f"SELECT count(*) FROM raw.{TABLE} WHERE {where}").fetchone()[0]


def test_cutoff_is_three_years_before_this_month():
    assert retention.cutoff_month(TODAY) == date(2023, 11, 1)
    assert retention.cutoff_month(date(2026, 1, 5)) == date(2023, 1, 1)
    assert retention.add_months(date(2025, 12, 1), 1) == date(2026, 1, 1)


def test_fingerprint_ignores_order_and_sees_any_changed_value(con):
    cols = retention.table_columns(con, TABLE)
    base = retention.fingerprint(con, f"raw.{TABLE}", cols)
    shuffled = retention.fingerprint(con, f"(SELECT * FROM raw.{TABLE} ORDER BY random())", cols)
    assert shuffled == base and base.rows == count(con)
    con.execute(f"UPDATE raw.{TABLE} SET supplier_lot = NULL WHERE txn_id = 7")  # a value -> NULL
    assert retention.fingerprint(con, f"raw.{TABLE}", cols) != base


def test_old_partitions_are_archived_verified_and_only_then_deleted(con, archive, tmp_path):
    s3, bucket, store = archive
    before_cutoff = "_loaded_at < TIMESTAMP '2023-11-01'"
    old_rows, recent_rows = count(con, before_cutoff), count(con, f"NOT ({before_cutoff})")
    due = retention.due_partitions(con, [TABLE], TODAY)
    assert due[0].loaded_month == date(2022, 6, 1) and due[-1].loaded_month == date(2023, 10, 1)
    assert len(due) == 17
    for partition in due:
        manifest = retention.export_partition(con, store, partition, now=NOW)
        assert manifest["rows"] == count(con, partition.where()) > 0
        retention.retire_partition(con, store, partition, now=NOW)
    assert count(con, before_cutoff) == 0
    assert count(con) == recent_rows  # nothing in the hot window touched
    log = con.execute("SELECT sum(deleted_rows), sum(row_count), count(*) FROM audit.retention_log").fetchone()
    assert log == (old_rows, old_rows, 17)
    assert retention.due_partitions(con, [TABLE], TODAY) == []
    # the archive really holds them, readable without the warehouse
    path = tmp_path / "first.parquet"
    key = f"warehouse/raw/{TABLE}/loaded_month=2022-06/"  # deploy/README.md's layout
    path.write_bytes(s3.get_object(Bucket=bucket, Key=key + "part-0.parquet")["Body"].read())
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key + "manifest.json")["Body"].read())
    assert duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0] == manifest["rows"]


def test_a_short_archive_stops_the_deletion(con, archive, tmp_path):
    s3, bucket, store = archive
    (partition, *_) = retention.due_partitions(con, [TABLE], TODAY)
    retention.export_partition(con, store, partition, now=NOW)
    rows = count(con, partition.where())
    # someone re-uploads the Parquet with a row missing (a new object version; Object Lock keeps the old)
    short = tmp_path / "short.parquet"
    con.execute(
        f"COPY (SELECT * FROM raw.{TABLE} WHERE {partition.where()} LIMIT {rows - 1}) TO '{short}' (FORMAT PARQUET)"
    )
    s3.put_object(
        Bucket=bucket,
        Key="warehouse/" + partition.data_key,
        Body=short.read_bytes(),
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=NOW + timedelta(days=2557),
    )
    with pytest.raises(retention.ArchiveNotVerified, match="sha256|rows"):
        retention.retire_partition(con, store, partition, now=NOW)
    assert count(con, partition.where()) == rows


def test_a_warehouse_changed_after_export_stops_the_deletion(con, archive):
    s3, bucket, store = archive
    (partition, *_) = retention.due_partitions(con, [TABLE], TODAY)
    retention.export_partition(con, store, partition, now=NOW)
    con.execute(f"UPDATE raw.{TABLE} SET cases = cases + 1 WHERE txn_id = 1")
    verification = retention.verify_partition(con, store, partition, now=NOW)
    assert not verification.ok and verification.archive.rows == verification.warehouse.rows
    assert any("checksum" in p for p in verification.problems)
    with pytest.raises(retention.ArchiveNotVerified):
        retention.retire_partition(con, store, partition, now=NOW)


def test_missing_archive_or_missing_lock_stops_the_deletion(con, archive):
    s3, bucket, store = archive
    first, second, *_ = retention.due_partitions(con, [TABLE], TODAY)
    with pytest.raises(retention.ArchiveNotVerified, match="not readable"):
        retention.retire_partition(con, store, first, now=NOW)
    retention.export_partition(con, store, second, lock=False, now=NOW)
    with pytest.raises(retention.ArchiveNotVerified, match="Object Lock"):
        retention.retire_partition(con, store, second, now=NOW)
    assert count(con, first.where()) > 0 and count(con, second.where()) > 0
    # the same archive without the lock requirement is verified: the lock was the only problem
    assert retention.verify_partition(con, store, second, require_lock=False, now=NOW).ok
