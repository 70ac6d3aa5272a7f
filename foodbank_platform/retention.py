"""Three years hot: raw rows leave the warehouse only once the archive provably holds them.

Deleting from the warehouse is the platform's one irreversible step, and traceability audits need every row
for 7 years (docs/brief.md). So a partition (one raw table, one month of `_loaded_at`, which never changes) is
exported, read back from the archive, and deleted only when both sides agree on the row count and an
order-independent checksum of every value and (on S3) Object Lock holds the archive; otherwise it stays, and
the reason is said. The same steps run on DuckDB and on Snowflake (`DuckDBSide`, `SnowflakeSide`); the asset
that runs them monthly is `defs/assets/retention.py`. The rule in production: deploy/README.md.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import duckdb

from . import warehouse as duckdb_warehouse

HOT_MONTHS = 36
ARCHIVE_DAYS = 2557  # 7 years with their leap days, as the archive bucket's default retention
NULL_TOKEN = "\\N"
FIELD_SEPARATOR = "\x1f"  # unit separator: cannot be confused with a value's own commas or pipes

# One engine hashes both sides: DuckDB, md5 of the row's text, low 64 bits, summed (order-independent). On
# Snowflake the partition's rows are read over Arrow into DuckDB, so a value is never compared as two engines'
# different text forms of it.
DUCKDB_ROW_HASH = "md5_number_lower({row_text})"


def _scratch() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for hashing and writing Parquet, bounded like every other DuckDB connection."""
    return duckdb_warehouse.bounded(duckdb.connect())


class ArchiveNotVerified(RuntimeError):
    """The archive does not provably hold the partition: nothing was deleted."""


@dataclass(frozen=True)
class Partition:
    raw_table: str
    loaded_month: date  # first day of the month

    @property
    def name(self) -> str:
        return f"{self.raw_table}/{self.loaded_month:%Y-%m}"

    @property
    def next_month(self) -> date:
        return add_months(self.loaded_month, 1)

    @property
    def key_prefix(self) -> str:
        """Under the archive's root (production: `s3://<archive bucket>/warehouse/`)."""
        return f"raw/{self.raw_table}/loaded_month={self.loaded_month:%Y-%m}/"

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


# --- the warehouse side: DuckDB or Snowflake ----------------------------------------------------


@dataclass(frozen=True)
class LogRow:
    partition: Partition
    archive_uri: str
    verification: Verification
    verified_at: datetime  # naive UTC


class WarehouseSide(Protocol):
    """What retention needs of a warehouse: its raw tables' months, a partition's rows and fingerprint, and
    the delete of a partition with its `audit.retention_log` row in one transaction (returns rows deleted)."""

    def tables(self) -> set[str]: ...
    def months_before(self, raw_table: str, cutoff: date) -> list[date]: ...
    def columns(self, raw_table: str) -> list[str]: ...
    def write_parquet(self, partition: Partition, path: Path) -> None: ...
    def fingerprint(self, partition: Partition, columns: list[str]) -> Fingerprint: ...
    def delete_logged(self, log: LogRow, expected_rows: int) -> int: ...


class DuckDBSide:
    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.con = con
        ensure_retention_log(con)

    def tables(self) -> set[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        return {r[0] for r in self.con.execute(sql).fetchall()}

    def months_before(self, raw_table: str, cutoff: date) -> list[date]:
        return [
            m
            for (m,) in self.con.execute(
                f"SELECT DISTINCT CAST(date_trunc('month', _loaded_at) AS DATE) AS m FROM raw.{raw_table} "
                "WHERE _loaded_at < ? ORDER BY m",
                [cutoff],
            ).fetchall()
        ]

    def columns(self, raw_table: str) -> list[str]:
        return table_columns(self.con, raw_table)

    def write_parquet(self, partition: Partition, path: Path) -> None:
        self.con.execute(
            f"COPY (SELECT * FROM raw.{partition.raw_table} WHERE {partition.where()} "
            f"ORDER BY _file, _row_number) TO '{path}' (FORMAT PARQUET)"
        )

    def fingerprint(self, partition: Partition, columns: list[str]) -> Fingerprint:
        return fingerprint(self.con, f"raw.{partition.raw_table}", columns, partition.where())

    def delete_logged(self, log: LogRow, expected_rows: int) -> int:
        p, v = log.partition, log.verification
        self.con.execute("BEGIN TRANSACTION")
        try:
            (deleted,) = self.con.execute(f"DELETE FROM raw.{p.raw_table} WHERE {p.where()}").fetchone()
            if deleted != expected_rows:
                raise ArchiveNotVerified(f"{p.name}: would delete {deleted} rows, verified {expected_rows}")
            self.con.execute(
                "INSERT INTO audit.retention_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    p.raw_table,
                    p.loaded_month,
                    log.archive_uri,
                    v.warehouse.rows,
                    v.warehouse.checksum,
                    log.verified_at,
                    deleted,
                ],
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return int(deleted)


class SnowflakeSide:
    """A Snowflake connection (snowflake-connector). Rows are read over Arrow (column names lower-cased, as
    in DuckDB) and fingerprinted and written to Parquet by DuckDB, so an archive looks the same whichever
    warehouse it left. `audit.retention_log` is created by the migrations (V1.6), never here."""

    def __init__(self, connection):
        self.connection = connection

    def _arrow(self, sql: str, params=None):
        import pyarrow as pa

        cur = self.connection.cursor()
        table = cur.execute(sql, params).fetch_arrow_all()
        if table is None:  # no rows: the connector gives no schema either
            cols = [d[0].lower() for d in cur.description]
            return pa.table({c: pa.array([], pa.string()) for c in cols})
        return table.rename_columns([c.lower() for c in table.column_names])

    def tables(self) -> set[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'RAW'"
        return {r[0].lower() for r in self.connection.cursor().execute(sql).fetchall()}

    def months_before(self, raw_table: str, cutoff: date) -> list[date]:
        sql = (
            f"SELECT DISTINCT DATE_TRUNC('month', _loaded_at)::DATE AS m FROM raw.{raw_table} "
            "WHERE _loaded_at < %s ORDER BY m"
        )
        return [m for (m,) in self.connection.cursor().execute(sql, [cutoff.isoformat()]).fetchall()]

    def columns(self, raw_table: str) -> list[str]:
        sql = (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'RAW' AND table_name = %s "
            "ORDER BY ordinal_position"
        )
        return [r[0].lower() for r in self.connection.cursor().execute(sql, [raw_table.upper()]).fetchall()]

    def _rows(self, partition: Partition):
        return self._arrow(
            f"SELECT * FROM raw.{partition.raw_table} WHERE {partition.where()} ORDER BY _file, _row_number"
        )

    def write_parquet(self, partition: Partition, path: Path) -> None:
        scratch = _scratch()
        scratch.register("partition_rows", self._rows(partition))
        scratch.execute(f"COPY (SELECT * FROM partition_rows) TO '{path}' (FORMAT PARQUET)")

    def fingerprint(self, partition: Partition, columns: list[str]) -> Fingerprint:
        scratch = _scratch()
        scratch.register("partition_rows", self._rows(partition))
        return fingerprint(scratch, "partition_rows", columns)

    def delete_logged(self, log: LogRow, expected_rows: int) -> int:
        p, v = log.partition, log.verification
        cur = self.connection.cursor()
        cur.execute("BEGIN")
        try:
            (deleted,) = cur.execute(f"DELETE FROM raw.{p.raw_table} WHERE {p.where()}").fetchone()
            if deleted != expected_rows:
                raise ArchiveNotVerified(f"{p.name}: would delete {deleted} rows, verified {expected_rows}")
            cur.execute(
                "INSERT INTO audit.retention_log (raw_table, loaded_month, archive_uri, row_count, checksum, "
                "verified_at, deleted_rows) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    p.raw_table,
                    p.loaded_month.isoformat(),
                    log.archive_uri,
                    v.warehouse.rows,
                    v.warehouse.checksum,
                    log.verified_at.isoformat(sep=" "),
                    deleted,
                ],
            )
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return int(deleted)


def side_for(con) -> WarehouseSide:
    """The side for a connection: a DuckDB connection, else a Snowflake one."""
    return DuckDBSide(con) if isinstance(con, duckdb.DuckDBPyConnection) else SnowflakeSide(con)


def _side(con_or_side) -> WarehouseSide:
    return con_or_side if isinstance(con_or_side, (DuckDBSide, SnowflakeSide)) else side_for(con_or_side)


def ensure_retention_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute("""CREATE TABLE IF NOT EXISTS audit.retention_log (
        raw_table VARCHAR NOT NULL, loaded_month DATE NOT NULL, archive_uri VARCHAR NOT NULL,
        row_count BIGINT NOT NULL, checksum VARCHAR NOT NULL, verified_at TIMESTAMP NOT NULL,
        deleted_rows BIGINT NOT NULL)""")


# --- the archive: S3 (production, Object Lock) or a local folder --------------------------------


class Archive(Protocol):
    uri: str  # the root, ending in "/"
    can_lock: bool  # whether objects can carry Object Lock (S3) or not (a local folder)

    def put(self, key: str, data: bytes, retain_until: datetime | None = None) -> None: ...
    def get(self, key: str) -> bytes: ...
    def lock(self, key: str) -> tuple[str | None, datetime | None]: ...


class S3Archive:
    can_lock = True

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.uri = f"s3://{bucket}/{self.prefix}"

    def put(self, key: str, data: bytes, retain_until: datetime | None = None) -> None:
        lock = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": retain_until} if retain_until else {}
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, **lock)

    def get(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read()

    def lock(self, key: str) -> tuple[str | None, datetime | None]:
        """From HEAD (S3 returns the lock headers to a caller allowed s3:GetObjectRetention)."""
        head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + key)
        return head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")


class LocalArchive:
    """A folder (local runs and tests): no Object Lock exists here, so nothing is locked or checked for it."""

    can_lock = False

    def __init__(self, root: Path):
        self.root = Path(root)
        self.uri = self.root.resolve().as_uri() + "/"

    def put(self, key: str, data: bytes, retain_until: datetime | None = None) -> None:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def lock(self, key: str) -> tuple[str | None, datetime | None]:
        return None, None


def open_archive(uri: str, client=None) -> Archive:
    """`s3://bucket/prefix/` (client: a boto3 S3 client) or a local folder (`file:///…` or a path)."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        if client is None:
            import boto3

            client = boto3.client("s3")
        return S3Archive(client, bucket, prefix)
    from .settings import uri_to_path

    return LocalArchive(uri_to_path(uri))


# --- export, verify, retire ---------------------------------------------------------------------


def due_partitions(con, raw_tables: list[str], today: date, hot_months: int = HOT_MONTHS) -> list[Partition]:
    """Partitions older than the hot window that are still in the warehouse, oldest first."""
    side = _side(con)
    cutoff = cutoff_month(today, hot_months)
    present = side.tables()
    found = [Partition(t, m) for t in raw_tables if t in present for m in side.months_before(t, cutoff)]
    return sorted(found, key=lambda p: (p.loaded_month, p.raw_table))


def export_partition(
    con, archive: Archive, partition: Partition, *, lock: bool = True, now: datetime | None = None
) -> dict:
    """Write the partition as Parquet plus a manifest (row count, checksum, sha256 of the bytes).

    With `lock` (on an archive that can), the Parquet object carries its own GOVERNANCE retention for the
    archive period, on top of the bucket's default, so the guarantee does not depend on how the bucket was
    configured.
    """
    side = _side(con)
    now = now or datetime.now(UTC)
    columns = side.columns(partition.raw_table)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "part-0.parquet"
        side.write_parquet(partition, local)
        data = local.read_bytes()
    retain_until = now + timedelta(days=ARCHIVE_DAYS) if lock and archive.can_lock else None
    archive.put(partition.data_key, data, retain_until)
    manifest = {
        "raw_table": partition.raw_table,
        "loaded_month": partition.loaded_month.isoformat(),
        "data_key": partition.data_key,
        "sha256": hashlib.sha256(data).hexdigest(),
        "columns": columns,
        **asdict(side.fingerprint(partition, columns)),
    }
    archive.put(partition.manifest_key, json.dumps(manifest, indent=2).encode())
    return manifest


def _lock_problems(archive: Archive, key: str, now: datetime) -> list[str]:
    """The archived object must be under Object Lock until at least the end of the archive period."""
    where = archive.uri + key
    try:
        mode, until = archive.lock(key)
    except Exception as exc:  # noqa: BLE001 - any failure to prove the lock is a reason not to delete
        return [f"no Object Lock retention on {where}: {exc}"]
    if mode not in ("GOVERNANCE", "COMPLIANCE") or until is None:
        return [f"no Object Lock retention on {where}"]
    needed = now + timedelta(days=ARCHIVE_DAYS - 31)  # a month of slack between export and check
    if until < needed:
        return [f"Object Lock on {where} ends {until:%Y-%m-%d}, before {needed:%Y-%m-%d}"]
    return []


def verify_partition(
    con, archive: Archive, partition: Partition, *, require_lock: bool | None = None, now: datetime | None = None
) -> Verification:
    """Compare the archived copy with the warehouse rows of the partition; list every problem.
    `require_lock` defaults to whether the archive can lock (S3: yes; a local folder: no)."""
    side = _side(con)
    now = now or datetime.now(UTC)
    require_lock = archive.can_lock if require_lock is None else require_lock
    columns = side.columns(partition.raw_table)
    warehouse = side.fingerprint(partition, columns)
    problems: list[str] = []
    try:
        manifest = json.loads(archive.get(partition.manifest_key))
        data = archive.get(partition.data_key)
    except Exception as exc:  # noqa: BLE001 - a missing or unreadable archive is a reason, not a crash
        return Verification(partition, warehouse, None, [f"archive not readable: {exc}"])
    if hashlib.sha256(data).hexdigest() != manifest["sha256"]:
        problems.append("archived bytes differ from the manifest's sha256")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "part-0.parquet"
        local.write_bytes(data)
        try:
            archived = fingerprint(_scratch(), f"read_parquet('{local}')", columns)
        except duckdb.Error as exc:
            return Verification(partition, warehouse, None, problems + [f"archive not readable as Parquet: {exc}"])
    if archived != warehouse:
        problems.append(
            f"archive has {archived.rows} rows / checksum {archived.checksum}, "
            f"warehouse {warehouse.rows} rows / checksum {warehouse.checksum}"
        )
    if (manifest["rows"], manifest["checksum"]) != (warehouse.rows, warehouse.checksum):
        problems.append("the warehouse changed since the export (manifest fingerprint differs)")
    if require_lock:
        problems += _lock_problems(archive, partition.data_key, now)
    return Verification(partition, warehouse, archived, problems)


def retire_partition(
    con, archive: Archive, partition: Partition, *, require_lock: bool | None = None, now: datetime | None = None
) -> Verification:
    """Delete a verified partition from the warehouse and log it; raise ArchiveNotVerified otherwise.

    The delete and its `audit.retention_log` row are one transaction, rolled back if it would remove a
    different number of rows than were verified."""
    side = _side(con)
    now = now or datetime.now(UTC)
    verification = verify_partition(side, archive, partition, require_lock=require_lock, now=now)
    if not verification.ok:
        raise ArchiveNotVerified(f"{partition.name}: " + "; ".join(verification.problems))
    log = LogRow(partition, archive.uri + partition.data_key, verification, now.astimezone(UTC).replace(tzinfo=None))
    side.delete_logged(log, verification.warehouse.rows)
    return verification


# --- one monthly pass ---------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one pass did: partitions (`table/YYYY-MM`) exported, verified and deleted, rows deleted, the
    archive keys written, and the partitions kept with the reason."""

    archive: str
    cutoff: date
    exported: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    rows_deleted: int = 0
    archive_keys: list[str] = field(default_factory=list)
    not_verified: dict[str, str] = field(default_factory=dict)


def run(
    con,
    archive: Archive,
    raw_tables: list[str],
    today: date,
    *,
    hot_months: int = HOT_MONTHS,
    now: datetime | None = None,
) -> Outcome:
    """Export, verify and delete every due partition; a partition the archive does not provably hold stays
    and is listed with its reason, and the others still go."""
    side = _side(con)
    now = now or datetime.now(UTC)
    outcome = Outcome(archive.uri, cutoff_month(today, hot_months))
    for partition in due_partitions(side, raw_tables, today, hot_months):
        try:
            export_partition(side, archive, partition, now=now)
        except Exception as exc:  # noqa: BLE001 - an export that failed is a reason to keep the rows, said below
            outcome.not_verified[partition.name] = f"export to {archive.uri} failed: {exc}"
            continue
        outcome.exported.append(partition.name)
        outcome.archive_keys += [partition.data_key, partition.manifest_key]
        try:
            verification = retire_partition(side, archive, partition, now=now)
        except ArchiveNotVerified as exc:
            outcome.not_verified[partition.name] = str(exc).removeprefix(f"{partition.name}: ")
            continue
        outcome.verified.append(partition.name)
        outcome.deleted.append(partition.name)
        outcome.rows_deleted += verification.warehouse.rows
    return outcome
