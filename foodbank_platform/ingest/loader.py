"""One loader for every raw table: landing files → `raw.<system>__<table>`, exactly once.

Per catalog table it skips files the ledger has seen unchanged, records a file that cannot be read as failed
(tried again when new bytes arrive), reads the good files as one stream (`formats/stream.py`), checks every
row (and the row rules of the typed feeds, `sources/row_rules.py`), and commits raw rows, quarantined rows and
ledger rows in one transaction, so a crash anywhere leaves the previous state and the next run loads the same
files once. Where that transaction runs is the target: DuckDB (`DuckDBTarget`) or Snowflake
(`ingest/snowflake_load.py`), the same decisions on both. Business events are deduplicated later, in dbt's
staging. README, "How we guarantee exactly-once".
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import duckdb
import pandas as pd

from .. import warehouse
from ..formats import FileRejected, ReadPlan, prepare, stream, value_sql
from ..landing.store import LandingStore, StoredFile
from ..sources import catalog, row_rules
from ..sources.catalog import Column, SourceTable
from . import ledger

READ_THREADS = 8
# Tables loaded at once by load_new_files. Two keep both cores busy without DuckDB and Python
# fighting over them; more only queue behind the same two cores.
TABLE_THREADS = 2
# Bytes of files read into memory at once (a chunk of a backlog), and per read_csv call: bounds the
# loader's memory (a chunk is held as bytes, and a batch materialised as text once).
MAX_BATCH_BYTES = 256 * 1024 * 1024


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


class RawTarget:
    """Where a table's load reads the ledger and commits its batch. The loader hands each table its
    own target (`for_table`: its own cursor or session, so its own transaction)."""

    def prepare(self) -> None:
        """Once per load, before the tables: what every batch needs to exist."""

    def for_table(self) -> "RawTarget":
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def row_count(self, table: SourceTable) -> int:
        """Rows in the table's raw table now (0 before its first load): what the raw asset reports."""
        raise NotImplementedError

    def ledger_state(self, raw_table: str) -> tuple[set[tuple[str, int, float | None]], dict[str, dict[str, int]]]:
        """(the stamps of every recorded version, identity -> {checksum: version}): `ledger.seen_stamps`,
        `ledger.versions`, as the committed ledger says."""
        raise NotImplementedError

    def batch(self, table: SourceTable) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A DuckDB connection with the table's raw table, `audit.quarantine` and `audit.file_ledger`, in
        which the loader writes one batch; everything written commits on leaving the block, or nothing."""
        raise NotImplementedError

    def chunk_loaded(self, con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
        """A chunk of files is in `con` (the loader reads a backlog in chunks to bound its memory)."""

    def write_ledger(
        self,
        con: duckdb.DuckDBPyConnection,
        records: list[tuple],
        touches: list[tuple[str, str, float | None, datetime]],
    ) -> None:
        """The batch's ledger rows, and the re-deliveries to touch (identity, checksum, mtime, seen at)."""
        ledger.record(con, records)
        for touch in touches:
            ledger.touch(con, *touch)


class DuckDBTarget(RawTarget):
    """The DuckDB warehouse: the batch is written and committed in the warehouse's own transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection, owned: bool = False):
        self.con = con
        self.owned = owned

    def prepare(self) -> None:
        ledger.ensure(self.con)

    def for_table(self) -> "DuckDBTarget":
        return DuckDBTarget(self.con.cursor(), owned=True)

    def close(self) -> None:
        if self.owned:
            self.con.close()

    def row_count(self, table: SourceTable) -> int:
        return warehouse.row_count(self.con, table)

    def ledger_state(self, raw_table: str):
        ledger.ensure(self.con)
        return ledger.seen_stamps(self.con, raw_table), ledger.versions(self.con, raw_table)

    @contextlib.contextmanager
    def batch(self, table: SourceTable) -> Iterator[duckdb.DuckDBPyConnection]:
        # Everything this load writes — even the raw table itself on a first load — commits together:
        # one commit (one WAL sync) per table, and nothing to clean up after a crash.
        self.con.execute("BEGIN TRANSACTION")
        try:
            warehouse.ensure_raw_table(self.con, table)
            yield self.con
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise


def as_target(con: "duckdb.DuckDBPyConnection | RawTarget") -> RawTarget:
    return con if isinstance(con, RawTarget) else DuckDBTarget(con)


def load_new_files(
    store: LandingStore,
    con: duckdb.DuckDBPyConnection | RawTarget,
    tables: Iterable[SourceTable] | None = None,
    run_id: str | None = None,
    on_progress: Callable[[str], None] | None = None,
    concurrency: int = TABLE_THREADS,
) -> LoadReport:
    """Load everything new in landing for the given tables (default: all). Safe to re-run anytime.

    Tables load side by side, each on its own cursor and so in its own transaction: one table's
    Python work (listing, hashing, checking files) overlaps another's SQL, and a table that fails
    does not stop the others. The first failure is raised once every table has finished.
    """
    started = time.perf_counter()
    target = as_target(con)
    target.prepare()
    tables = list(tables or catalog.TABLES)

    def load(table: SourceTable) -> TableReport:
        own = target.for_table()
        try:
            return load_table(store, own, table, run_id=run_id)
        finally:
            own.close()

    report = LoadReport()
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for table, future in [(t, pool.submit(load, t)) for t in tables]:
            t = future.result()
            report.tables.append(t)
            if on_progress:
                on_progress(
                    f"{table.raw_table}: {t.count('loaded')} files, {t.rows_loaded} rows loaded, "
                    f"{t.rows_quarantined} quarantined, {t.count('failed')} failed"
                )
    report.seconds = time.perf_counter() - started
    return report


def load_table(
    store: LandingStore, con: duckdb.DuckDBPyConnection | RawTarget, table: SourceTable, run_id: str | None = None
) -> TableReport:
    """Load the table's new files into `con`: the DuckDB warehouse, or a `RawTarget` (Snowflake)."""
    target = as_target(con)
    report = TableReport(table.raw_table)
    # identity -> {checksum: version}, incl. this call's
    seen, claimed = target.ledger_state(table.raw_table)
    listed = [
        f
        for f in store.list(table.landing_prefix, _file_pattern(table))
        if (ledger.identity(f.key), f.size, f.mtime) not in seen
    ]
    now = _utcnow()
    load_id = uuid.uuid4().hex
    records: list[tuple] = []
    touches: list[tuple] = []
    # Everything this load writes commits together (the target's one transaction). A backlog is read in
    # chunks of at most MAX_BATCH_BYTES of files, each loaded before the next is read, so memory holds
    # one chunk however long the backlog.
    with target.batch(table) as batch:
        for chunk in _chunks(sorted(listed, key=lambda f: f.key)):
            records += _load_chunk(store, batch, table, chunk, claimed, report, now, load_id, run_id, touches)
            target.chunk_loaded(batch, table)
        target.write_ledger(batch, records, touches)
    return report


def _chunks(files: list[StoredFile]) -> Iterable[list[StoredFile]]:
    """Consecutive runs of files of at most MAX_BATCH_BYTES in all (a larger file is a chunk alone)."""
    chunk, size = [], 0
    for f in files:
        if chunk and size + f.size > MAX_BATCH_BYTES:
            yield chunk
            chunk, size = [], 0
        chunk.append(f)
        size += f.size
    if chunk:
        yield chunk


def _load_chunk(
    store: LandingStore,
    con: duckdb.DuckDBPyConnection,
    table: SourceTable,
    files: list[StoredFile],
    claimed: dict[str, dict[str, int]],
    report: TableReport,
    now: datetime,
    load_id: str,
    run_id: str | None,
    touches: list[tuple],
) -> list[tuple]:
    """Read, check and load one chunk of new files inside the table's open transaction; returns the
    chunk's ledger rows, and adds the re-deliveries to `touches`."""
    fresh: list[_Candidate] = []
    redelivered: list[_Candidate] = []
    for f, data, checksum in _read_and_hash(store, files):
        c = _Candidate(f, ledger.identity(f.key), data, checksum)
        known = claimed.setdefault(c.identity, {})
        if c.checksum in known:
            redelivered.append(c)
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

    records: list[tuple] = []
    touches += [(c.identity, c.checksum, c.listed.mtime, now) for c in redelivered]
    for c, message in failed:
        records.append(_record(table, c, now, load_id, run_id, status="failed", error=message))
        report.files.append(FileResult(c.landing_key, "failed", c.version, error=f"{c.landing_key}: {message}"))
    for batch, streamed in _batches(good):
        results = _load_batch(con, store, table, batch, streamed, now, load_id)
        report.files.extend(results)
        records += [
            _record(
                table,
                c,
                now,
                load_id,
                run_id,
                "loaded",
                read=r.rows_read,
                loaded=r.rows_loaded,
                quarantined=r.rows_quarantined,
            )
            for c, r in zip(batch, results)
        ]
    return records


def _read_and_hash(store: LandingStore, files: list[StoredFile]) -> Iterable[tuple[StoredFile, bytes, str]]:
    """(file, bytes, sha256) in the given order. Reads overlap — S3 GETs wait on the network, and
    file reads and sha256 release the GIL — so a day of small files is not read one at a time."""

    def read(f: StoredFile) -> tuple[StoredFile, bytes, str]:
        data = store.read_bytes(f.key)
        return f, data, hashlib.sha256(data).hexdigest()

    if len(files) < 2:
        return map(read, files)
    # Bounded by botocore's default connection pool (10), so S3 reads never queue for a connection.
    with ThreadPoolExecutor(max_workers=READ_THREADS) as pool:
        return list(pool.map(read, files))


def _file_pattern(table: SourceTable) -> str:
    return "*.csv" if table.is_dms else table.pattern


def _keep_version(store: LandingStore, table: SourceTable, c: _Candidate) -> str:
    """Keep bytes that the source may overwrite under the same name (DMS full loads, corrections)."""
    name = c.identity.rpartition("/")[2]
    replaceable = table.is_dms and (name.startswith("LOAD") or c.version > 1)
    if not replaceable or "_versions/" in c.listed.key:
        return c.listed.key
    key = ledger.versioned_key("", c.identity, c.checksum)
    if not store.exists(key):
        store.write_bytes(key, c.data)
    return key


def _batches(good: list[_Candidate]) -> Iterable[tuple[list[_Candidate], bool]]:
    """(files, read as one stream?) — files of one header shape, those that can be streamed apart
    from those that must be read one by one, each batch bounded in size."""
    groups: dict[tuple, list[_Candidate]] = defaultdict(list)
    for c in good:
        groups[(tuple(c.plan.header), stream.streamable(c.plan.data, c.plan.delimiter, c.plan.quote))].append(c)
    for (_header, streamed), group in groups.items():
        batch, size = [], 0
        for c in group:
            if batch and size + len(c.plan.data) > MAX_BATCH_BYTES:
                yield batch, streamed
                batch, size = [], 0
            batch.append(c)
            size += len(c.plan.data)
        if batch:
            yield batch, streamed


def _record(
    table: SourceTable,
    c: _Candidate,
    now,
    load_id,
    run_id,
    status,
    error=None,
    read=None,
    loaded=None,
    quarantined=None,
) -> tuple:
    """One ledger row, in `audit.file_ledger` column order."""
    return (
        table.raw_table,
        c.identity,
        c.landing_key,
        c.version,
        c.checksum,
        c.listed.size,
        c.listed.mtime,
        now,
        now,
        status,
        error,
        read,
        loaded,
        quarantined,
        c.plan.blank_rows if c.plan else None,
        load_id,
        run_id,
        now,
    )


def _load_batch(
    con, store: LandingStore, table: SourceTable, batch: list[_Candidate], streamed: bool, now, load_id
) -> list[FileResult]:
    plan = batch[0].plan
    warehouse.add_drift_columns(con, table, plan.extra_columns)
    with tempfile.TemporaryDirectory(prefix="foodbank-load-") as tmp:
        if not (streamed and _read_stream(con, plan, batch, Path(tmp))):
            paths = []
            for i, c in enumerate(batch):
                # DuckDB reads a local file as it is when the format needed no normalising; anything
                # else (S3 objects, transcoded SFTP files) goes through a temp copy.
                direct = store.local_path(c.landing_key) if c.plan.data is c.data else None
                p = direct or Path(tmp) / f"{i:06d}.csv"
                if not direct:
                    p.write_bytes(c.plan.data)
                paths.append(p.as_posix())
            _read_files(con, plan, paths)
    # `path` is the file's position in the batch: the stream's file column, or DuckDB's file_index.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _batch_meta AS SELECT unnest(?::BIGINT[]) AS path, "
        "unnest(?::VARCHAR[]) AS landing_key, unnest(?::BIGINT[]) AS version, unnest(?::VARCHAR[]) AS checksum",
        [
            list(range(len(batch))),
            [c.landing_key for c in batch],
            [c.version for c in batch],
            [c.checksum for c in batch],
        ],
    )
    loaded, quarantined = _insert_rows(con, table, plan, now, load_id)
    # Rows read per file: every row the reader typed plus every row it could not split into fields.
    read = Counter(
        dict(
            con.execute(
                "SELECT m.landing_key, sum(r.n) FROM (SELECT path AS _path, n_good AS n FROM _good_parts "
                "UNION ALL SELECT _path, 1 FROM _batch_rejects) r JOIN _batch_meta m ON m.path = r._path GROUP BY ALL"
            ).fetchall()
        )
    )
    results = [
        FileResult(
            c.landing_key,
            "loaded",
            c.version,
            read[c.landing_key],
            read[c.landing_key] - quarantined[c.landing_key],
            quarantined[c.landing_key],
        )
        for c in batch
    ]
    # The per-file counts are derived from what was read and what went to quarantine; what went into
    # raw is counted by DuckDB itself, and the two must agree before anything commits.
    if sum(r.rows_loaded for r in results) != loaded:
        raise RuntimeError(
            f"{table.raw_table}: {loaded} rows inserted into raw, but the files' counts say "
            f"{sum(r.rows_loaded for r in results)}"
        )
    return results


# DuckDB reports one error per column for a bad row, and a short row also as a failed cast of the
# value that slid into the wrong column. The reason kept is the row's shape if that is wrong (the
# real cause), else the first column's; the full order makes it the same on every run, however the
# reader's threads split the stream.
_REJECT_REASON = (
    "arg_min(e.error_type || ': ' || e.error_message, "
    "(e.error_type = 'CAST', coalesce(e.column_idx, 0), e.error_type, e.error_message))"
)


def _reader_options(plan: ReadPlan, header: list[str], types: dict[str, str]) -> str:
    columns_sql = "{" + ", ".join(f"'{h}': '{types.get(h, 'VARCHAR')}'" for h in header) + "}"
    return plan.csv_options(columns_sql) + ", rejects_table='_rej_err', rejects_scan='_rej_scan'"


def _read_files(con, plan: ReadPlan, paths: list[str]) -> None:
    """All files of the batch → `_typed` (the rows as the reader typed them, in file order) and
    `_batch_rejects` (rows DuckDB could not split into fields or whose values did not convert)."""
    files_sql = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    con.execute("DROP TABLE IF EXISTS _rej_err")
    con.execute("DROP TABLE IF EXISTS _rej_scan")
    opts = _reader_options(plan, plan.header, plan.read_types)
    # Only the reader's own work happens here (CREATE TABLE AS keeps insertion order: files in list
    # order, rows in file order, so a row's position in its file is its rowid minus the file's first
    # rowid). The row checks run in the next pass, over the table's full vectors.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT file_index AS _path, * FROM read_csv({files_sql}, {opts})"
    )
    # `_path` is only for the parts below; the numbering joins on positions like the stream's does.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _batch_rejects AS "
        "SELECT e.file_id AS _path, e.line AS _line, "
        f"       {_REJECT_REASON} AS _reason, "
        "       min(e.csv_line) AS _raw_text "
        "FROM _rej_err e GROUP BY ALL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _good_parts AS "
        "SELECT _path AS path, min(rowid) AS first_pos, count(*) AS n_good FROM _typed GROUP BY ALL"
    )


def _read_stream(con, plan: ReadPlan, batch: list[_Candidate], tmp: Path) -> bool:
    """The batch's files joined into one stream (formats/stream.py) → the same `_typed`,
    `_batch_rejects` and `_good_parts` as `_read_files`.

    A rejected row's file is the one whose rows hold its row number in the stream; good rows follow
    in file order, so file k's good rows are the next (rows - rejects) of `_typed`. Returns False
    (the caller then reads the files one by one) if DuckDB's rows do not add up to the files' rows."""
    data, parts = stream.join([c.plan.data for c in batch], plan.quote)
    path = tmp / "stream.csv"
    path.write_bytes(data)
    del data
    con.execute("DROP TABLE IF EXISTS _rej_err")
    con.execute("DROP TABLE IF EXISTS _rej_scan")
    opts = _reader_options(plan, plan.header, plan.read_types)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _typed AS SELECT * FROM read_csv('{path.as_posix()}', {opts})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _stream_parts AS SELECT unnest(?::BIGINT[]) AS path, "
        "unnest(?::BIGINT[]) AS first_line, unnest(?::BIGINT[]) AS rows",
        [list(range(len(parts))), [p.first_line for p in parts], [p.rows for p in parts]],
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _batch_rejects AS
        SELECT p.path AS _path, e.line - p.first_line + 2 AS _line,
               {_REJECT_REASON} AS _reason,
               min(e.csv_line) AS _raw_text
        FROM _rej_err e JOIN _stream_parts p ON e.line >= p.first_line AND e.line < p.first_line + p.rows
        GROUP BY p.path, p.first_line, e.line
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _good_parts AS
        WITH counted AS (
            SELECT p.path, p.rows - count(r._line) AS n_good
            FROM _stream_parts p LEFT JOIN _batch_rejects r ON r._path = p.path GROUP BY p.path, p.rows
        ),
        base AS (SELECT coalesce(min(rowid), 0) AS first_rowid FROM _typed)
        SELECT c.path, b.first_rowid + coalesce(sum(c.n_good) OVER (
                   ORDER BY c.path ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS first_pos, c.n_good
        FROM counted c CROSS JOIN base b
    """)
    adds_up = con.execute("""
        SELECT (SELECT count(*) FROM _typed) = (SELECT sum(n_good) FROM _good_parts)
           AND (SELECT count(DISTINCT line) FROM _rej_err) = (SELECT count(*) FROM _batch_rejects)
           AND (SELECT count(*) FROM _good_parts WHERE n_good < 0) = 0
    """).fetchone()[0]
    con.execute("DELETE FROM _good_parts WHERE n_good = 0")
    return bool(adds_up)


def _typing_sql(table: SourceTable, plan: ReadPlan) -> tuple[list[str], str, str]:
    """(typed column expressions, the reason expression, the raw-text expression) for one header."""
    by_name = {c.name: c for c in catalog.DMS_META + table.columns}
    typed_cols, checks = [], []
    for h in plan.header:
        col = by_name.get(h, Column(h, "text"))  # drift columns are kept as delivered text
        src = f'src."{h}"'
        if table.is_dms and h == "op":
            expr = src
            checks.append(
                f"CASE WHEN {src} IS NULL OR {src} NOT IN ('I', 'U', 'D') "
                f"THEN 'Op ' || coalesce('''' || {src} || '''', 'empty') || ' is not I, U or D' END"
            )
        elif table.is_dms and h == "dms_change_seq":
            expr = src
            checks.append(
                f"CASE WHEN {src} IS NOT NULL AND (TRY_CAST({src} AS HUGEINT) IS NULL OR {src} LIKE '%-%' "
                f"OR length({src}) > 38) "
                f"THEN 'dms_change_seq ''' || {src} || ''' is not a decimal sequence' END"
            )
        elif h in plan.read_types:
            expr = src  # typed by the reader, which rejects a row whose value does not convert
        else:
            expr = value_sql(col, table.format, src)
            if col.type != "text":
                checks.append(
                    f"CASE WHEN NULLIF(TRIM({src}), '') IS NOT NULL AND ({expr}) IS NULL "
                    f"THEN '{h} ''' || {src} || ''' is not a valid {col.type}' END"
                )
        if h in table.key:
            checks.append(f"CASE WHEN ({expr}) IS NULL THEN 'key column {h} is empty' END")
        typed_cols.append(f'{expr} AS "{h}"')
    null = "'\\N'" if plan.null_token else "''"
    raw_text = (
        "concat_ws('"
        + plan.delimiter
        + "', "
        + ", ".join(f'coalesce(src."{h}"::VARCHAR, {null})' for h in plan.header)
        + ")"
    )
    reason = "concat_ws('; ', " + ", ".join(checks) + ")" if checks else "NULL"
    return typed_cols, reason, raw_text


def _check_row_rules(con, table: SourceTable, header: list[str]) -> int:
    """`_checked`: the typed rows of `_numbered`, with the row rules of the table (sources/row_rules.py,
    the feeds people type) applied to those that typed cleanly: a row that breaks one gets the rules'
    names as its reason. Returns how many rows broke a rule."""
    schema = row_rules.SCHEMAS.get(table.raw_table)
    if schema is None:
        con.execute("CREATE OR REPLACE TEMP VIEW _checked AS SELECT * FROM _numbered")
        return 0
    cols = ", ".join(f'"{h}"' for h in header)
    rows = con.execute(f"SELECT _path, _row_number, {cols} FROM _numbered WHERE _reason IS NULL").df()
    broken = row_rules.broken_rules(schema, rows)
    failures = pd.DataFrame(
        {
            "_path": rows.loc[broken.index, "_path"].to_numpy(),
            "_row_number": rows.loc[broken.index, "_row_number"].to_numpy(),
            "_rules": broken.to_numpy(dtype=object),
        }
    )
    con.register("_rule_failures_frame", failures)
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rule_failures AS "
            "SELECT _path::BIGINT AS _path, _row_number::BIGINT AS _row_number, _rules::VARCHAR AS _rules "
            "FROM _rule_failures_frame"
        )
    finally:
        con.unregister("_rule_failures_frame")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW _checked AS
        SELECT n.* REPLACE (coalesce(n._reason, f._rules) AS _reason)
        FROM _numbered n LEFT JOIN _rule_failures f ON f._path = n._path AND f._row_number = n._row_number
    """)
    return len(failures)


def _insert_rows(con, table: SourceTable, plan: ReadPlan, now, load_id) -> tuple[int, Counter]:
    """Good rows → raw, bad rows → quarantine. Returns (rows inserted into raw, quarantined rows per file)."""
    header = plan.header
    typed_cols, reason, raw_text = _typing_sql(table, plan)
    has_rejects = con.execute("SELECT count(*) FROM _batch_rejects").fetchone()[0] > 0
    # Good rows' positions skip the rows DuckDB rejected, so add back the rejects that came before.
    correction = (
        "(SELECT count(*) FROM rejects r WHERE r._path = o._path AND r._threshold <= o._ordinal)"
        if has_rejects
        else "0"
    )
    # A view, so each insert below evaluates only the expressions it uses (raw never builds raw text).
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW _numbered AS
        WITH rejects AS (
            SELECT _path, _line - 1 - row_number() OVER (PARTITION BY _path ORDER BY _line) + 1 AS _threshold
            FROM _batch_rejects
        ),
        o AS (
            SELECT src.rowid - g.first_pos + 1 AS _ordinal, g.path AS _path, {", ".join(typed_cols)},
                   NULLIF({reason}, '') AS _reason, {raw_text} AS _raw_text
            FROM _typed src ASOF JOIN _good_parts g ON src.rowid >= g.first_pos
        )
        SELECT o._ordinal + {correction} AS _row_number, o.* EXCLUDE (_ordinal) FROM o
    """)
    broken = _check_row_rules(con, table, header)
    raw_cols = ", ".join(f'"{h}"' for h in header)
    typed_refs = ", ".join(f't."{h}"' for h in header)
    loaded = con.execute(
        f"""
        INSERT INTO raw.{table.raw_table} ({raw_cols}, _file, _file_version, _file_checksum, _row_number,
                                           _loaded_at, _load_id)
        SELECT {typed_refs}, m.landing_key, m.version, m.checksum, t._row_number, ?, ?
        FROM _checked t JOIN _batch_meta m ON m.path = t._path
        WHERE t._reason IS NULL
    """,
        [now, load_id],
    ).fetchone()[0]
    # Most batches have no bad row at all: a scan of the checks alone (no joins) says so cheaply.
    bad = con.execute(f"SELECT count(*) FROM _typed src WHERE NULLIF({reason}, '') IS NOT NULL").fetchone()[0]
    if not bad and not broken and not has_rejects:
        return loaded, Counter()
    quarantined = Counter(
        key
        for (key,) in con.execute(
            """
        INSERT INTO audit.quarantine
        SELECT ?, m.landing_key, m.version, m.checksum, t._row_number, t._raw_text, t._reason, ?, ?
        FROM _checked t JOIN _batch_meta m ON m.path = t._path WHERE t._reason IS NOT NULL
        UNION ALL
        SELECT ?, m.landing_key, m.version, m.checksum, r._line - 1, r._raw_text, r._reason, ?, ?
        FROM _batch_rejects r JOIN _batch_meta m ON m.path = r._path
        RETURNING landing_key
    """,
            [table.raw_table, load_id, now, table.raw_table, load_id, now],
        ).fetchall()
    )
    return loaded, quarantined
