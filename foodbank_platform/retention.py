"""Three years hot: raw rows leave the warehouse only once the archive provably holds them.

The brief keeps 3 years in the warehouse and 7 years in S3. Deleting from the warehouse is the one
irreversible step of the platform, and food traceability audits need every row for 7 years, so the
rule is: a partition (one raw table, one month of `_loaded_at`) is exported to the archive bucket,
read back from S3, and deleted only when the archived copy and the warehouse agree on the row count
and on an order-independent checksum of every value, the archived bytes are the bytes the manifest
names, and (in production) S3 Object Lock holds the object. Anything else stops the deletion and
says why.

`_loaded_at` is the partition key because every raw table has it and it never changes: an old month
cannot gain rows after the check. The delete runs in one transaction with its `audit.retention_log`
row and is rolled back if it would remove a different number of rows than were verified.

Plain Python over a DuckDB connection and a boto3 S3 client (tested on DuckDB and a moto S3 server).
In Snowflake the same steps are `COPY INTO @audit.archive/... FILE_FORMAT = audit.archive_parquet`
and the fingerprint query over both the table and the staged Parquet (`SNOWFLAKE_ROW_HASH`), so both
sides are again hashed by one engine. The Dagster asset that schedules this lives in `defs/`.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

HOT_MONTHS = 36
ARCHIVE_PREFIX = "warehouse"  # the archive bucket's prefix for rows that left the warehouse
ARCHIVE_DAYS = 2557  # 7 years with their leap days, as the archive bucket's default retention
NULL_TOKEN = "\\N"
FIELD_SEPARATOR = "\x1f"  # unit separator: cannot be confused with a value's own commas or pipes

# One engine hashes both sides. DuckDB: md5 of the row's text, low 64 bits, summed (order-independent).
DUCKDB_ROW_HASH = "md5_number_lower({row_text})"
SNOWFLAKE_ROW_HASH = "TO_NUMBER(SUBSTR(MD5({row_text}), 17, 16), 'XXXXXXXXXXXXXXXX')"


class ArchiveNotVerified(RuntimeError):
    """The archive does not provably hold the partition: nothing was deleted."""


@dataclass(frozen=True)
class Partition:
    raw_table: str
    loaded_month: date  # first day of the month

    @property
    def next_month(self) -> date:
        return add_months(self.loaded_month, 1)

    @property
    def key_prefix(self) -> str:
        return f"{ARCHIVE_PREFIX}/raw/{self.raw_table}/loaded_month={self.loaded_month:%Y-%m}/"

    @property
    def data_key(self) -> str:
        return self.key_prefix + "part-0.parquet"

    @property
    def manifest_key(self) -> str:
        return self.key_prefix + "manifest.json"

    def where(self) -> str:
        return f"_loaded_at >= TIMESTAMP '{self.loaded_month}' AND _loaded_at < TIMESTAMP '{self.next_month}'"


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    checksum: str


@dataclass
class Verification:
    partition: Partition
    warehouse: Fingerprint
    archive: Fingerprint | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- months -------------------------------------------------------------------------------------


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def cutoff_month(today: date, hot_months: int = HOT_MONTHS) -> date:
    """Months strictly before this one are past the hot window."""
    return add_months(date(today.year, today.month, 1), -hot_months)


def due_partitions(
    con: duckdb.DuckDBPyConnection, raw_tables: list[str], today: date, hot_months: int = HOT_MONTHS
) -> list[Partition]:
    """Partitions older than the hot window that are still in the warehouse, oldest first."""
    ensure_retention_log(con)
    cutoff = cutoff_month(today, hot_months)
    found = []
    for raw_table in raw_tables:
        months = con.execute(
            f"SELECT DISTINCT CAST(date_trunc('month', _loaded_at) AS DATE) AS m FROM raw.{raw_table} "
            f"WHERE _loaded_at < ? ORDER BY m",
            [cutoff],
        ).fetchall()
        found += [Partition(raw_table, m) for (m,) in months]
    return sorted(found, key=lambda p: (p.loaded_month, p.raw_table))


# --- fingerprints -------------------------------------------------------------------------------


def row_text_sql(columns: list[str]) -> str:
    """Every value as text, NULL as `\\N`, joined: the canonical form a row is hashed in."""
    parts = [f"coalesce(CAST(\"{c}\" AS VARCHAR), '{NULL_TOKEN}')" for c in columns]
    return f"concat_ws('{FIELD_SEPARATOR}', {', '.join(parts)})"


def fingerprint(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str], where: str = "TRUE") -> Fingerprint:
    row_hash = DUCKDB_ROW_HASH.format(row_text=row_text_sql(columns))
    rows, total = con.execute(f"SELECT count(*), coalesce(sum({row_hash}), 0) FROM {relation} WHERE {where}").fetchone()
    return Fingerprint(int(rows), str(total))


def table_columns(con: duckdb.DuckDBPyConnection, raw_table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = ? "
            "ORDER BY ordinal_position",
            [raw_table],
        ).fetchall()
    ]


# --- export -------------------------------------------------------------------------------------


def export_partition(
    con: duckdb.DuckDBPyConnection,
    s3,
    bucket: str,
    partition: Partition,
    *,
    lock: bool = True,
    now: datetime | None = None,
) -> dict:
    """Write the partition as Parquet plus a manifest (row count, checksum, sha256 of the bytes).

    With `lock`, the Parquet object carries its own GOVERNANCE retention for the archive period, on
    top of the bucket's default, so the guarantee does not depend on how the bucket was configured.
    """
    now = now or datetime.now(UTC)
    columns = table_columns(con, partition.raw_table)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "part-0.parquet"
        con.execute(
            f"COPY (SELECT * FROM raw.{partition.raw_table} WHERE {partition.where()} "
            f"ORDER BY _file, _row_number) TO '{local}' (FORMAT PARQUET)"
        )
        data = local.read_bytes()
    retention = (
        {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": now + timedelta(days=ARCHIVE_DAYS)}
        if lock
        else {}
    )
    s3.put_object(Bucket=bucket, Key=partition.data_key, Body=data, **retention)
    manifest = {
        "raw_table": partition.raw_table,
        "loaded_month": partition.loaded_month.isoformat(),
        "data_key": partition.data_key,
        "sha256": hashlib.sha256(data).hexdigest(),
        "columns": columns,
        **asdict(fingerprint(con, f"raw.{partition.raw_table}", columns, partition.where())),
    }
    s3.put_object(Bucket=bucket, Key=partition.manifest_key, Body=json.dumps(manifest, indent=2).encode())
    return manifest


# --- verification -------------------------------------------------------------------------------


def _lock_problems(s3, bucket: str, key: str, now: datetime) -> list[str]:
    """The archived object must be under Object Lock until at least the end of the archive period.

    Read from HEAD (S3 returns the lock headers to a caller allowed s3:GetObjectRetention).
    """
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except Exception as exc:  # noqa: BLE001 - any failure to prove the lock is a reason not to delete
        return [f"no Object Lock retention on s3://{bucket}/{key}: {exc}"]
    mode, until = head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")
    if mode not in ("GOVERNANCE", "COMPLIANCE") or until is None:
        return [f"no Object Lock retention on s3://{bucket}/{key}"]
    needed = now + timedelta(days=ARCHIVE_DAYS - 31)  # a month of slack between export and check
    if until < needed:
        return [f"Object Lock on s3://{bucket}/{key} ends {until:%Y-%m-%d}, before {needed:%Y-%m-%d}"]
    return []


def verify_partition(
    con: duckdb.DuckDBPyConnection,
    s3,
    bucket: str,
    partition: Partition,
    *,
    require_lock: bool = True,
    now: datetime | None = None,
) -> Verification:
    """Compare the archived copy in S3 with the warehouse rows of the partition; list every problem."""
    now = now or datetime.now(UTC)
    columns = table_columns(con, partition.raw_table)
    warehouse = fingerprint(con, f"raw.{partition.raw_table}", columns, partition.where())
    problems: list[str] = []
    try:
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=partition.manifest_key)["Body"].read())
        data = s3.get_object(Bucket=bucket, Key=partition.data_key)["Body"].read()
    except Exception as exc:  # noqa: BLE001 - a missing or unreadable archive is a reason, not a crash
        return Verification(partition, warehouse, None, [f"archive not readable: {exc}"])
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        problems.append("archived bytes differ from the manifest's sha256")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "part-0.parquet"
        local.write_bytes(data)
        try:
            archive = fingerprint(duckdb.connect(), f"read_parquet('{local}')", columns)
        except duckdb.Error as exc:
            return Verification(partition, warehouse, None, problems + [f"archive not readable as Parquet: {exc}"])
    if archive != warehouse:
        problems.append(
            f"archive has {archive.rows} rows / checksum {archive.checksum}, "
            f"warehouse {warehouse.rows} rows / checksum {warehouse.checksum}"
        )
    if (manifest["rows"], manifest["checksum"]) != (warehouse.rows, warehouse.checksum):
        problems.append("the warehouse changed since the export (manifest fingerprint differs)")
    if require_lock:
        problems += _lock_problems(s3, bucket, partition.data_key, now)
    return Verification(partition, warehouse, archive, problems)


# --- retirement ---------------------------------------------------------------------------------


def ensure_retention_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("""CREATE TABLE IF NOT EXISTS audit.retention_log (
        raw_table VARCHAR NOT NULL, loaded_month DATE NOT NULL, archive_uri VARCHAR NOT NULL,
        row_count BIGINT NOT NULL, checksum VARCHAR NOT NULL, verified_at TIMESTAMP NOT NULL,
        deleted_rows BIGINT NOT NULL)""")


def retire_partition(
    con: duckdb.DuckDBPyConnection,
    s3,
    bucket: str,
    partition: Partition,
    *,
    require_lock: bool = True,
    now: datetime | None = None,
) -> Verification:
    """Delete a verified partition from the warehouse and log it; raise ArchiveNotVerified otherwise."""
    now = now or datetime.now(UTC)
    ensure_retention_log(con)
    verification = verify_partition(con, s3, bucket, partition, require_lock=require_lock, now=now)
    if not verification.ok:
        raise ArchiveNotVerified(
            f"{partition.raw_table} {partition.loaded_month:%Y-%m}: " + "; ".join(verification.problems)
        )
    con.execute("BEGIN TRANSACTION")
    try:
        (deleted,) = con.execute(f"DELETE FROM raw.{partition.raw_table} WHERE {partition.where()}").fetchone()
        if deleted != verification.warehouse.rows:
            raise ArchiveNotVerified(f"would delete {deleted} rows, verified {verification.warehouse.rows}")
        con.execute(
            "INSERT INTO audit.retention_log VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                partition.raw_table,
                partition.loaded_month,
                f"s3://{bucket}/{partition.data_key}",
                verification.warehouse.rows,
                verification.warehouse.checksum,
                now.replace(tzinfo=None),
                deleted,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return verification
