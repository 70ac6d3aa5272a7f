"""The raw load into Snowflake, exactly once: the loader's batch committed in one Snowflake transaction.

The loader reads, types and quarantines into a scratch DuckDB exactly as it does for the DuckDB
warehouse, so one reader judges every rule; this target only moves the result (typed Parquet, PUT to
a stage, COPY inside one BEGIN … COMMIT). The statements, why each is there, and the emulator's gaps
are in docs/design.md, "Raw load into Snowflake".
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Iterator

import duckdb

from .. import warehouse
from ..settings import SnowflakeSettings
from ..sources.catalog import SourceTable
from . import ledger
from .loader import RawTarget

STAGE = "audit.loads"
# Re-deliveries touched per UPDATE statement.
TOUCHES_PER_STATEMENT = 500


class LoadConflict(RuntimeError):
    """Another load committed one of this batch's file versions first: this batch rolled back."""


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return f"'{value.isoformat(sep=' ')}'::TIMESTAMP_NTZ"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


class SnowflakeTarget(RawTarget):
    """Snowflake as the loader's target. `connection` is an open `snowflake.connector` connection
    (dagster-snowflake's resource hands one over); without one, each table opens its own session from
    `settings` (a transaction belongs to a session, and tables load side by side)."""

    def __init__(
        self,
        settings: SnowflakeSettings | None = None,
        bounds: dict[str, str] | None = None,
        connection=None,
        lock: threading.Lock | None = None,
    ):
        self.settings = settings
        self.bounds = bounds
        self._con = connection
        self._owned = False
        # Tables sharing one given session take turns at its transaction.
        self._lock = lock or threading.Lock()
        self._parts: list[tuple[str, Path, int]] = []

    @property
    def con(self):
        if self._con is None:
            from ..snowflake_warehouse import connect

            if self.settings is None:
                raise ValueError("SnowflakeTarget needs a connection or the Snowflake settings")
            self._con = connect(self.settings)
            self._owned = True
        return self._con

    def for_table(self) -> "SnowflakeTarget":
        if self.settings is None:  # one given session: the tables take turns on it
            return SnowflakeTarget(None, self.bounds, self.con, self._lock)
        return SnowflakeTarget(self.settings, self.bounds)

    def close(self) -> None:
        if self._owned and self._con is not None:
            self._con.close()
            self._con = None

    def row_count(self, table: SourceTable) -> int:
        with self._lock:
            return int(self.con.cursor().execute(f"SELECT count(*) FROM raw.{table.raw_table}").fetchone()[0])

    def ledger_state(self, raw_table: str):
        seen, versions = set(), {}
        with self._lock:
            rows = (
                self.con.cursor()
                .execute(
                    "SELECT file_identity, size_bytes, source_mtime, checksum, version FROM audit.file_ledger "
                    "WHERE source_table = %s",
                    (raw_table,),
                )
                .fetchall()
            )
        for ident, size, mtime, checksum, version in rows:
            seen.add((ident, int(size), None if mtime is None else float(mtime)))
            versions.setdefault(ident, {})[checksum] = int(version)
        return seen, versions

    @contextlib.contextmanager
    def batch(self, table: SourceTable) -> Iterator[duckdb.DuckDBPyConnection]:
        self._parts, self._records, self._touches = [], [], []
        with tempfile.TemporaryDirectory(prefix="foodbank-snowflake-") as tmp:
            self._tmp = Path(tmp)
            scratch = warehouse.connect(":memory:", self.bounds)
            try:
                ledger.ensure(scratch)
                warehouse.ensure_raw_table(scratch, table)
                yield scratch
                self.chunk_loaded(scratch, table)
                with self._lock:
                    self._commit(scratch, table)
            finally:
                scratch.close()

    def chunk_loaded(self, con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
        """The chunk's raw and quarantined rows leave memory as Parquet files, to be staged at commit."""
        for name, qualified in (("raw", f"raw.{table.raw_table}"), ("quarantine", "audit.quarantine")):
            rows = con.execute(f"SELECT count(*) FROM {qualified}").fetchone()[0]
            if rows:
                path = self._tmp / f"{name}-{len(self._parts):04d}.parquet"
                con.execute(f"COPY {qualified} TO '{path.as_posix()}' (FORMAT PARQUET)")
                con.execute(f"DELETE FROM {qualified}")
                self._parts.append((qualified, path, rows))

    def write_ledger(self, con, records, touches) -> None:
        self._records, self._touches = records, touches
        if records:
            ledger.record(con, records)
            path = self._tmp / "ledger.parquet"
            con.execute(f"COPY audit.file_ledger TO '{path.as_posix()}' (FORMAT PARQUET)")
            self._parts.insert(0, ("audit.file_ledger", path, len(records)))

    def _commit(self, scratch: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
        if not self._parts and not self._touches:
            return
        cur = self.con.cursor()
        self._add_new_columns(cur, scratch, table)
        attempt = uuid.uuid4().hex
        for _, path, _ in self._parts:
            cur.execute(f"PUT 'file://{path.as_posix()}' @{STAGE}/{attempt}/ AUTO_COMPRESS = FALSE")
        cur.execute("BEGIN")
        try:
            for qualified, path, rows in self._parts:
                self._copy(cur, qualified, f"@{STAGE}/{attempt}/{path.name}", rows)
                if qualified == "audit.file_ledger":
                    self._check_no_conflict(cur, self._records[0][ledger.LEDGER_COLUMNS.index("load_id")])
            for start in range(0, len(self._touches), TOUCHES_PER_STATEMENT):
                self._touch(cur, self._touches[start : start + TOUCHES_PER_STATEMENT])
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    @staticmethod
    def _copy(cur, qualified: str, staged: str, rows: int) -> None:
        result = cur.execute(
            f"COPY INTO {qualified} FROM {staged} FILE_FORMAT = (TYPE = PARQUET) "
            "MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE PURGE = TRUE"
        ).fetchall()
        loaded = sum(int(r[3] or 0) for r in result if len(r) > 3 and str(r[1]).upper() == "LOADED")
        if loaded != rows:
            raise RuntimeError(f"COPY INTO {qualified} from {staged} loaded {loaded} rows, the batch holds {rows}")

    @staticmethod
    def _check_no_conflict(cur, load_id: str) -> None:
        taken = cur.execute(
            "SELECT n.file_identity FROM audit.file_ledger n JOIN audit.file_ledger o "
            "ON o.file_identity = n.file_identity AND o.checksum = n.checksum "
            "AND (o.load_id IS NULL OR o.load_id <> n.load_id) WHERE n.load_id = %s LIMIT 5",
            (load_id,),
        ).fetchall()
        if taken:
            raise LoadConflict(
                f"another load committed {', '.join(r[0] for r in taken)} first; this batch is rolled back"
            )

    @staticmethod
    def _touch(cur, touches: list[tuple]) -> None:
        values = ", ".join(
            f"({_literal(ident)}, {_literal(checksum)}, {_literal(mtime)}::FLOAT, {_literal(seen)})"
            for ident, checksum, mtime, seen in touches
        )
        cur.execute(
            "UPDATE audit.file_ledger SET last_seen_at = t.seen_at, source_mtime = t.mtime "
            f"FROM (VALUES {values}) AS t(file_identity, checksum, mtime, seen_at) "
            "WHERE audit.file_ledger.file_identity = t.file_identity AND audit.file_ledger.checksum = t.checksum"
        )

    @staticmethod
    def _add_new_columns(cur, scratch: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
        """Columns the batch has that Snowflake's raw table lacks (a source added one): added as text,
        before the transaction, since DDL commits implicitly."""
        have = {
            r[0].upper()
            for r in cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'RAW' AND table_name = %s",
                (table.raw_table.upper(),),
            ).fetchall()
        }
        if not have:
            raise RuntimeError(f"raw.{table.raw_table} does not exist in Snowflake: apply deploy/snowflake/migrations")
        for name in warehouse.existing_columns(scratch, f"raw.{table.raw_table}"):
            if name.upper() not in have:
                cur.execute(f'ALTER TABLE raw.{table.raw_table} ADD COLUMN "{name.upper()}" VARCHAR')
