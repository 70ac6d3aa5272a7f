"""`foodbank cdc`: the local stand-in for AWS DMS, from a logical replication slot to DMS files.

It writes what the production DMS task writes, where DMS writes it (the landing zone), so the loader cannot
tell them apart and the full-fidelity path runs on real PostgreSQL. The full load is copied inside the slot's
exported snapshot, so nothing is lost or doubled between the copy and the stream; a transaction is
acknowledged only once its files are stored, so a crash replays it: at least once, never skipped, as DMS.
How the pieces behave: docs/real_sources.md.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from ..landing.store import LandingStore
from ..sources import catalog
from ..sources.catalog import SourceTable
from . import pgoutput
from .dms_layout import cdc_key, change_seq, dms_file, load_key, pg_value

log = logging.getLogger(__name__)
SESSION = "-c TimeZone=UTC -c DateStyle=ISO"  # pgoutput's value text is then ISO in UTC
LOAD_ROWS_PER_FILE = 500_000


@dataclass
class CaptureReport:
    full_load_rows: dict[str, int] = field(default_factory=dict)
    change_rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: list[str] = field(default_factory=list)
    acknowledged_lsn: int = 0


def lsn_to_int(lsn: str) -> int:
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) + int(lo, 16)


def _qualified(t: SourceTable) -> str:
    return f'"{t.location}"."{t.name}"'


# --- setup --------------------------------------------------------------------------------------


def ensure_publication(dsn: str, publication: str, tables: list[SourceTable]) -> None:
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_publication WHERE pubname = %s", (publication,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE PUBLICATION "{publication}" FOR TABLE {", ".join(map(_qualified, tables))}')
    con.close()


def _slot_exists(dsn: str, slot: str) -> bool:
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        found = cur.fetchone() is not None
    con.close()
    return found


def _drop_slot(dsn: str, slot: str) -> None:
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
    con.close()


# --- full load ----------------------------------------------------------------------------------


def server_clock(dsn: str) -> datetime:
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute("SELECT clock_timestamp()")
        now = cur.fetchone()[0]
    con.close()
    return now


def full_load(
    dsn: str, snapshot: str, as_of: datetime, store: LandingStore, tables: list[SourceTable], report: CaptureReport
) -> None:
    """Copy every table as of `snapshot` into LOAD files (Op=I, no change sequence).

    `dms_commit_ts` of the copied rows is `as_of`, the server's clock just before the slot was
    asked for: every change the slot streams committed after it, so the loader's "a change is newer
    than the full load it follows" holds exactly (a wall-clock copy time would be later than the
    snapshot and make the first streamed changes look older than the load).
    """
    con = psycopg2.connect(dsn, options=SESSION)
    try:
        with con.cursor() as cur:
            cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cur.execute("SET TRANSACTION SNAPSHOT %s", (snapshot,))
            for t in tables:
                report.full_load_rows[t.raw_table] = _load_table(con, t, as_of, store, report)
        con.rollback()
    finally:
        con.close()


def _load_table(con, t: SourceTable, as_of: datetime, store: LandingStore, report: CaptureReport) -> int:
    select_list = ", ".join(f'"{c}"' for c in t.column_names)
    total, number = 0, 0
    with con.cursor(name=f"load_{t.raw_table}") as cur:  # server-side: big tables stream
        cur.itersize = 10_000
        cur.execute(f"SELECT {select_list} FROM {_qualified(t)} ORDER BY {', '.join(t.key)}")
        while True:
            batch = cur.fetchmany(LOAD_ROWS_PER_FILE)
            if not batch and number:
                break
            number += 1
            key = load_key(t, number)
            store.write_bytes(key, dms_file(t, [("I", as_of, None, *r) for r in batch], full_load=True))
            report.files.append(key)
            total += len(batch)
            if not batch:
                break
    log.info("full load %s: %d rows", t.raw_table, total)
    return total


# --- change stream ------------------------------------------------------------------------------


class _Changes:
    """Decoded changes waiting to be written, and the LSN that is safe to acknowledge once they are."""

    def __init__(self, tables: list[SourceTable]):
        self.by_name = {(t.location, t.name): t for t in tables}
        self.relations: dict[int, SourceTable | None] = {}
        self.buffer: dict[str, list[tuple]] = defaultdict(list)
        self.tx: pgoutput.Begin | None = None
        self.received_lsn = 0  # end of the last transaction received in full

    def on_message(self, payload: bytes, data_start: int) -> None:
        msg = pgoutput.decode(payload)
        if isinstance(msg, pgoutput.Begin):
            self.tx = msg
        elif isinstance(msg, pgoutput.Commit):
            self.tx, self.received_lsn = None, msg.end_lsn
        elif isinstance(msg, pgoutput.Relation):
            self.relations[msg.relid] = self.by_name.get((msg.schema, msg.name))
        elif isinstance(msg, pgoutput.Change) and self.relations.get(msg.relid) is not None:
            self._add(self.relations[msg.relid], msg, data_start)

    def _add(self, t: SourceTable, change: pgoutput.Change, change_lsn: int) -> None:
        assert self.tx is not None, "a change outside a transaction"
        values = [pg_value(c.type, v) for c, v in zip(t.columns, change.values)]
        values += [None] * (len(t.columns) - len(values))
        self.buffer[t.raw_table].append(
            (change.op, self.tx.commit_ts, change_seq(self.tx.final_lsn, change_lsn), *values)
        )

    @property
    def idle(self) -> bool:
        return self.tx is None and not any(self.buffer.values())


def write_change_files(store: LandingStore, buffer: dict[str, list[tuple]], report: CaptureReport) -> None:
    """One file per table and commit date, named by the (UTC, millisecond) time of writing."""
    for raw_table, rows in buffer.items():
        t = catalog.table(raw_table)
        by_day: dict[object, list[tuple]] = defaultdict(list)
        for row in rows:
            by_day[row[1].astimezone(timezone.utc).date()].append(row)
        for day_rows in by_day.values():
            key = _unused_key(store, t, day_rows[0][1])
            store.write_bytes(key, dms_file(t, day_rows))
            report.files.append(key)
            report.change_rows[raw_table] += len(day_rows)
            log.info("cdc %s: %d changes -> %s", raw_table, len(day_rows), key)


def _unused_key(store: LandingStore, t: SourceTable, commit_date: datetime) -> str:
    # Names carry milliseconds; a replay right after a restart must not overwrite an earlier file.
    while store.exists(key := cdc_key(t, commit_date, datetime.now(timezone.utc))):
        time.sleep(0.001)
    return key


def run_capture(
    dsn: str,
    slot: str,
    publication: str,
    store: LandingStore,
    tables: list[SourceTable] | None = None,
    file_seconds: float = 60.0,
    stop_after: float | None = None,
    until_lsn: str | None = None,
    stop: threading.Event | None = None,
) -> CaptureReport:
    """Full load (when needed), then stream changes into DMS files until told to stop.

    Stops after `stop_after` seconds, once everything up to `until_lsn` is written and
    acknowledged, or when `stop` is set — whichever comes first; None for all three runs forever.
    A slot whose tables do not all have a full load yet (a crash during the copy, a new table) is
    dropped and everything is loaded again: the contract's "reload", which the loader handles.
    """
    tables = tables or catalog.dms_tables()
    report = CaptureReport()
    ensure_publication(dsn, publication, tables)
    missing_load = [t for t in tables if not store.exists(load_key(t, 1))]
    if missing_load and _slot_exists(dsn, slot):
        log.warning(
            "slot %s exists but %s lack a full load: reloading all tables",
            slot,
            ", ".join(t.raw_table for t in missing_load),
        )
        _drop_slot(dsn, slot)
    repl = psycopg2.connect(dsn, connection_factory=psycopg2.extras.LogicalReplicationConnection, options=SESSION)
    try:
        cur = repl.cursor()
        if missing_load:
            as_of = server_clock(dsn)
            cur.execute(f'CREATE_REPLICATION_SLOT "{slot}" LOGICAL pgoutput EXPORT_SNAPSHOT')
            _, consistent_point, snapshot, _ = cur.fetchone()
            log.info("slot %s created at %s", slot, consistent_point)
            full_load(dsn, snapshot, as_of, store, tables, report)  # the snapshot lives until the next command
        cur.start_replication(
            slot_name=slot, decode=False, options={"proto_version": "1", "publication_names": publication}
        )
        _stream(
            cur,
            store,
            tables,
            file_seconds,
            report,
            _deadline(stop_after),
            lsn_to_int(until_lsn) if until_lsn else None,
            stop or threading.Event(),
        )
    finally:
        repl.close()
    return report


def _deadline(stop_after: float | None) -> float:
    return time.monotonic() + stop_after if stop_after is not None else float("inf")


def _stream(cur, store, tables, file_seconds, report, deadline, until, stop) -> None:
    changes = _Changes(tables)
    next_file = time.monotonic() + file_seconds
    while True:
        msg = cur.read_message()
        if msg is not None:
            changes.on_message(msg.payload, msg.data_start)
            continue
        now = time.monotonic()
        finishing = now >= deadline or stop.is_set() or _caught_up(changes, cur, until)
        if now >= next_file or finishing:
            _write_and_acknowledge(cur, store, changes, report)
            next_file = now + file_seconds
        if finishing and (changes.idle or now >= deadline or stop.is_set()):
            return
        # Wake at least every second to notice `stop`, and in time for the next file.
        select.select([cur.connection], [], [], min(1.0, max(0.05, min(next_file, deadline) - now)))


def _caught_up(changes: _Changes, cur, until: int | None) -> bool:
    # wal_end is how far the server has decoded; everything before it has already reached us.
    return until is not None and changes.tx is None and max(changes.received_lsn, cur.wal_end) >= until


def _write_and_acknowledge(cur, store: LandingStore, changes: _Changes, report: CaptureReport) -> None:
    buffered = {k: v for k, v in changes.buffer.items() if v}
    safe_lsn = changes.received_lsn
    # Rows of a transaction still arriving are written now too; it is not acknowledged, so a crash
    # replays it whole (same dms_change_seq): duplicates the loader collapses, never a gap.
    write_change_files(store, buffered, report)
    changes.buffer.clear()
    if changes.tx is None and cur.wal_end > safe_lsn:
        safe_lsn = cur.wal_end  # nothing pending: let the slot release WAL we have fully seen
    if safe_lsn > report.acknowledged_lsn:
        cur.send_feedback(write_lsn=safe_lsn, flush_lsn=safe_lsn, force=True)  # psycopg2 sends nothing without force
        report.acknowledged_lsn = safe_lsn
