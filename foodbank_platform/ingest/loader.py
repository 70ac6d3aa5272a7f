"""One loader for every raw table: landing files → `raw.<system>__<table>`, exactly once.

For one catalog table the loader
1. lists the table's files in landing and drops those the ledger has already seen unchanged
   (same identity, size and mtime), so a 10-minute cycle does not re-read history;
2. hashes each remaining file; bytes already in the ledger are a re-delivery (touched, not loaded),
   new bytes under a known name are the next version;
3. checks each file as a whole (`formats.prepare`): an unreadable file is recorded as failed with
   the reason, and tried again only when new bytes arrive;
4. reads all good files of one header shape with ONE DuckDB `read_csv` call — that is what keeps the
   load near DuckDB's own speed — types every value as the format says, and splits the rows into
   raw rows and quarantined rows (structural CSV errors and values that do not parse);
5. writes raw rows, quarantined rows and the ledger rows in one transaction.

Step 5 is the crash guarantee: if the process dies anywhere, DuckDB rolls the open transaction
back and the next run sees the same files as new again. Deduplication of *business events*
(DMS replays, re-sent shipment lines) is not done here: raw keeps every delivered row with its
lineage, and dbt's staging picks the winning version by the source's own ordering keys.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import duckdb

from .. import warehouse
from ..formats import FileRejected, ReadPlan, prepare, value_sql
from ..landing.store import LandingStore, StoredFile
from ..sources import catalog
from ..sources.catalog import Column, SourceTable
from . import ledger

# Files per read_csv call; bounds memory (the batch is materialised as text once).
MAX_BATCH_BYTES = 512 * 1024 * 1024


@dataclass
class FileResult:
    landing_key: str
    status: str  # loaded | failed | redelivered
    version: int = 0
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None


@dataclass
class TableReport:
    table: str
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)


@dataclass
class LoadReport:
    tables: list[TableReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables)

    def failed_files(self) -> list[FileResult]:
        return [f for t in self.tables for f in t.files if f.status == "failed"]


@dataclass
class _Candidate:
    listed: StoredFile
    identity: str
    data: bytes
    checksum: str
    version: int = 0
    landing_key: str = ""
    plan: ReadPlan | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def load_new_files(store: LandingStore, con: duckdb.DuckDBPyConnection,
                   tables: Iterable[SourceTable] | None = None, run_id: str | None = None,
                   on_progress: Callable[[str], None] | None = None) -> LoadReport:
    """Load everything new in landing for the given tables (default: all). Safe to re-run anytime."""
    started = time.perf_counter()
    ledger.ensure(con)
    report = LoadReport()
    for table in (tables or catalog.TABLES):
        report.tables.append(load_table(store, con, table, run_id=run_id))
        if on_progress:
            t = report.tables[-1]
            on_progress(f"{table.raw_table}: {t.count('loaded')} files, {t.rows_loaded} rows loaded, "
                        f"{t.rows_quarantined} quarantined, {t.count('failed')} failed")
    report.seconds = time.perf_counter() - started
    return report


def load_table(store: LandingStore, con: duckdb.DuckDBPyConnection, table: SourceTable,
               run_id: str | None = None) -> TableReport:
    ledger.ensure(con)
    warehouse.ensure_raw_table(con, table)
    report = TableReport(table.raw_table)
    seen = ledger.seen_stamps(con, table.raw_table)
    listed = [f for f in store.list(table.landing_prefix, _file_pattern(table))
              if (ledger.identity(f.key), f.size, f.mtime) not in seen]
    now = _utcnow()
    fresh: list[_Candidate] = []
    claimed = ledger.versions(con, table.raw_table)  # identity -> {checksum: version}, incl. this call's
    for f in sorted(listed, key=lambda f: f.key):
        data = store.read_bytes(f.key)
        c = _Candidate(f, ledger.identity(f.key), data, hashlib.sha256(data).hexdigest())
        known = claimed.setdefault(c.identity, {})
        if c.checksum in known:
            ledger.touch(con, c.identity, c.checksum, f.mtime, now)
            report.files.append(FileResult(f.key, "redelivered", known[c.checksum]))
            continue
        c.version = max(known.values(), default=0) + 1
        known[c.checksum] = c.version
        c.landing_key = _keep_version(store, table, c)
        fresh.append(c)

    good: list[_Candidate] = []
    failed: list[tuple[_Candidate, str]] = []
    for c in fresh:
        try:
            c.plan = prepare(table, c.data)
            good.append(c)
        except FileRejected as e:
            failed.append((c, str(e)))

    load_id = uuid.uuid4().hex
    records: list[tuple] = []
    con.execute("BEGIN TRANSACTION")
    try:
        for c, message in failed:
            records.append(_record(table, c, now, load_id, run_id, status="failed", error=message))
            report.files.append(FileResult(c.landing_key, "failed", c.version, error=f"{c.landing_key}: {message}"))
        for batch in _batches(good):
            results = _load_batch(con, store, table, batch, now, load_id, run_id)
            report.files.extend(results)
            records += [_record(table, c, now, load_id, run_id, "loaded", read=r.rows_read, loaded=r.rows_loaded,
                                quarantined=r.rows_quarantined) for c, r in zip(batch, results)]
        ledger.record(con, records)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _file_pattern(table: SourceTable) -> str:
    return "*.csv" if table.is_dms else table.pattern


def _keep_version(store: LandingStore, table: SourceTable, c: _Candidate) -> str:
    """Keep bytes that the source may overwrite under the same name (DMS full loads, corrections)."""
    name = c.identity.rpartition("/")[2]
    replaceable = table.is_dms and (name.startswith("LOAD") or c.version > 1)
    if not replaceable or "_versions/" in c.listed.key:
        return c.listed.key
    key = f"_versions/{c.checksum[:16]}/{c.identity}"
    if not store.exists(key):
        store.write_bytes(key, c.data)
    return key


def _batches(good: list[_Candidate]) -> Iterable[list[_Candidate]]:
    by_header: dict[tuple[str, ...], list[_Candidate]] = defaultdict(list)
    for c in good:
        by_header[tuple(c.plan.header)].append(c)
    for group in by_header.values():
        batch, size = [], 0
        for c in group:
            if batch and size + len(c.plan.data) > MAX_BATCH_BYTES:
                yield batch
                batch, size = [], 0
            batch.append(c)
            size += len(c.plan.data)
        if batch:
            yield batch


def _record(table: SourceTable, c: _Candidate, now, load_id, run_id, status, error=None,
            read=None, loaded=None, quarantined=None) -> tuple:
    """One ledger row, in `audit.file_ledger` column order."""
    return (table.raw_table, c.identity, c.landing_key, c.version, c.checksum, c.listed.size, c.listed.mtime,
            now, now, status, error, read, loaded, quarantined, c.plan.blank_rows if c.plan else None,
            load_id, run_id, now)


def _load_batch(con, store: LandingStore, table: SourceTable, batch: list[_Candidate], now, load_id,
                run_id) -> list[FileResult]:
    plan = batch[0].plan
    header = plan.header
    warehouse.add_drift_columns(con, table, plan.extra_columns)
    with tempfile.TemporaryDirectory(prefix="foodbank-load-") as tmp:
        paths = []
        for i, c in enumerate(batch):
            # DuckDB reads a local file as it is when the format needed no normalising; anything else
            # (S3 objects, transcoded SFTP files) goes through a temp copy.
            direct = store.local_path(c.landing_key) if c.plan.data is c.data else None
            p = direct or Path(tmp) / f"{i:06d}.csv"
            if not direct:
                p.write_bytes(c.plan.data)
            paths.append(p.as_posix())
        _read_batch(con, table, plan, paths)
    # `path` is the file's position in the read_csv list: DuckDB's file_index and the rejects' file_id.
    con.execute("CREATE OR REPLACE TEMP TABLE _batch_meta AS SELECT unnest(?::BIGINT[]) AS path, "
                "unnest(?::VARCHAR[]) AS landing_key, unnest(?::BIGINT[]) AS version, unnest(?::VARCHAR[]) AS checksum",
                [list(range(len(batch))), [c.landing_key for c in batch], [c.version for c in batch],
                 [c.checksum for c in batch]])
    _insert_rows(con, table, header, now, load_id)
    # Structural rejects count as quarantined rows of their file too.
    counts = dict(((k, (r, q)) for k, r, q in con.execute(
        "WITH rows AS (SELECT _path, _reason FROM _typed UNION ALL SELECT _path, _reason FROM _batch_rejects) "
        "SELECT m.landing_key, count(r._path) - count(r._reason), count(r._reason) "
        "FROM _batch_meta m LEFT JOIN rows r ON r._path = m.path GROUP BY m.landing_key").fetchall()))
    results = []
    for c in batch:
        loaded, quarantined = counts.get(c.landing_key, (0, 0))
        results.append(FileResult(c.landing_key, "loaded", c.version, loaded + quarantined, loaded, quarantined))
    return results


def _read_batch(con, table: SourceTable, plan: ReadPlan, paths: list[str]) -> None:
    """All files of the batch → `_typed` (typed values and the reason a row is bad, in file order)
    and `_batch_rejects` (rows DuckDB could not split into fields), in one pass over the files."""
    columns_sql = "{" + ", ".join(f"'{h}': '{plan.read_types.get(h, 'VARCHAR')}'" for h in plan.header) + "}"
    files_sql = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    con.execute("DROP TABLE IF EXISTS _rej_err")
    con.execute("DROP TABLE IF EXISTS _rej_scan")
    opts = plan.csv_options(columns_sql) + ", rejects_table='_rej_err', rejects_scan='_rej_scan'"
    typed_cols, reason, raw_text = _typing_sql(table, plan)
    # CREATE TABLE AS keeps insertion order (files in list order, rows in file order), so a row's
    # position in its file is its rowid minus the file's first rowid. A row's delivered text is kept
    # only when the row is bad (for the quarantine).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _typed AS
        SELECT src.file_index AS _path, {", ".join(typed_cols)}, NULLIF({reason}, '') AS _reason,
               CASE WHEN _reason IS NOT NULL THEN {raw_text} END AS _raw_text
        FROM (SELECT *, file_index FROM read_csv({files_sql}, {opts})) src
    """)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _batch_rejects AS "
        "SELECT e.file_id AS _path, e.line AS _line, "
        # DuckDB reports a short row once per missing column; the first one says it.
        "       arg_min(e.error_type || ': ' || e.error_message, coalesce(e.column_idx, 0)) AS _reason, "
        "       any_value(e.csv_line) AS _raw_text "
        "FROM _rej_err e GROUP BY ALL")


def _typing_sql(table: SourceTable, plan: ReadPlan) -> tuple[list[str], str, str]:
    """(typed column expressions, the reason expression, the raw-text expression) for one header."""
    by_name = {c.name: c for c in catalog.DMS_META + table.columns}
    typed_cols, checks = [], []
    for h in plan.header:
        col = by_name.get(h, Column(h, "text"))  # drift columns are kept as delivered text
        src = f'src."{h}"'
        if table.is_dms and h == "op":
            expr = src
            checks.append(f"CASE WHEN {src} IS NULL OR {src} NOT IN ('I', 'U', 'D') "
                          f"THEN 'Op ' || coalesce('''' || {src} || '''', 'empty') || ' is not I, U or D' END")
        elif table.is_dms and h == "dms_change_seq":
            expr = src
            checks.append(f"CASE WHEN {src} IS NOT NULL AND (TRY_CAST({src} AS HUGEINT) IS NULL OR {src} LIKE '%-%' "
                          f"OR length({src}) > 38) "
                          f"THEN 'dms_change_seq ''' || {src} || ''' is not a decimal sequence' END")
        elif h in plan.read_types:
            expr = src  # typed by the reader, which rejects a row whose value does not convert
        else:
            expr = value_sql(col, table.format, src)
            if col.type != "text":
                checks.append(f"CASE WHEN NULLIF(TRIM({src}), '') IS NOT NULL AND ({expr}) IS NULL "
                              f"THEN '{h} ''' || {src} || ''' is not a valid {col.type}' END")
        if h in table.key:
            checks.append(f"CASE WHEN ({expr}) IS NULL THEN 'key column {h} is empty' END")
        typed_cols.append(f'{expr} AS "{h}"')
    null = "'\\N'" if plan.null_token else "''"
    raw_text = ("concat_ws('" + plan.delimiter + "', "
                + ", ".join(f'coalesce(src."{h}"::VARCHAR, {null})' for h in plan.header) + ")")
    reason = "concat_ws('; ', " + ", ".join(checks) + ")" if checks else "NULL"
    return typed_cols, reason, raw_text


def _insert_rows(con, table: SourceTable, header: list[str], now, load_id) -> None:
    has_rejects = con.execute("SELECT count(*) FROM _batch_rejects").fetchone()[0] > 0
    # Good rows' positions skip the rows DuckDB rejected, so add back the rejects that came before.
    correction = ("(SELECT count(*) FROM rejects r WHERE r._path = o._path AND r._threshold <= o._ordinal)"
                  if has_rejects else "0")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _numbered AS
        WITH starts AS (SELECT _path AS f, min(rowid) AS first_rowid FROM _typed GROUP BY ALL),
        rejects AS (
            SELECT _path, _line - 1 - row_number() OVER (PARTITION BY _path ORDER BY _line) + 1 AS _threshold
            FROM _batch_rejects
        ),
        o AS (SELECT t.rowid - s.first_rowid + 1 AS _ordinal, t.* FROM _typed t JOIN starts s ON s.f = t._path)
        SELECT o._ordinal + {correction} AS _row_number, o.* EXCLUDE (_ordinal) FROM o
    """)
    raw_cols = ", ".join(f'"{h}"' for h in header)
    typed_refs = ", ".join(f't."{h}"' for h in header)
    con.execute(f"""
        INSERT INTO raw.{table.raw_table} ({raw_cols}, _file, _file_version, _file_checksum, _row_number,
                                           _loaded_at, _load_id)
        SELECT {typed_refs}, m.landing_key, m.version, m.checksum, t._row_number, ?, ?
        FROM _numbered t JOIN _batch_meta m ON m.path = t._path
        WHERE t._reason IS NULL
    """, [now, load_id])
    con.execute("""
        INSERT INTO audit.quarantine
        SELECT ?, m.landing_key, m.version, m.checksum, t._row_number, t._raw_text, t._reason, ?, ?
        FROM _numbered t JOIN _batch_meta m ON m.path = t._path WHERE t._reason IS NOT NULL
        UNION ALL
        SELECT ?, m.landing_key, m.version, m.checksum, r._line - 1, r._raw_text, r._reason, ?, ?
        FROM _batch_rejects r JOIN _batch_meta m ON m.path = r._path
    """, [table.raw_table, load_id, now, table.raw_table, load_id, now])
