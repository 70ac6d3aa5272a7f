"""The local DMS stand-in against a real PostgreSQL with logical replication (its own instance).

The property that matters: replaying the files (full load, then changes by `dms_change_seq`) gives
back exactly what PostgreSQL holds — inserts, updates, deletes, awkward text — and a crash before a
file is written replays the changes instead of skipping them.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import threading
from datetime import date, datetime, timezone
from decimal import Decimal

import psycopg2
import pytest

from foodbank_platform.cdc import pgoutput
from foodbank_platform.cdc.capture import lsn_to_int, run_capture
from foodbank_platform.cdc.dms_layout import cdc_key, change_seq, load_key, pg_value
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import catalog

TXNS = catalog.table("wms__inventory_transactions")
ITEMS = catalog.table("wms__items")
PG_TYPES = {
    "text": "text",
    "bigint": "bigint",
    "numeric": "numeric",
    "timestamptz": "timestamp with time zone",
    "date": "date",
    "boolean": "boolean",
}


# --- pure parts ---------------------------------------------------------------------------------


def test_change_seq_sorts_by_commit_then_change():
    a, b, c = (
        change_seq(0x2_0000_0000, 0x1_FFFF_0000),
        change_seq(0x2_0000_0000, 0x1_FFFF_0100),
        change_seq(0x2_0000_0100, 0x1_FFFE_0000),
    )
    assert len(a) == 35 and a.isdigit()
    assert a < b < c  # a later commit wins even when its change was logged earlier


def test_layout_keys():
    written = datetime(2026, 11, 2, 9, 15, 3, 123456, tzinfo=timezone.utc)
    commit = datetime(2026, 11, 1, 23, 59, 59, tzinfo=timezone.utc)
    assert cdc_key(TXNS, commit, written) == "dms/wms/wms/inventory_transactions/2026/11/01/20261102-091503123.csv"
    assert load_key(TXNS, 10) == "dms/wms/wms/inventory_transactions/LOAD0000000A.csv"


def test_pgoutput_text_becomes_the_values_psycopg2_gives_the_full_load():
    assert pg_value("timestamptz", "2026-11-02 01:15:03.5-08") == datetime(
        2026, 11, 2, 9, 15, 3, 500000, tzinfo=timezone.utc
    )
    assert pg_value("boolean", "f") is False and pg_value("numeric", "12.50") == Decimal("12.50")
    assert pg_value("date", "2026-11-02") == date(2026, 11, 2) and pg_value("bigint", "7") == 7
    assert pg_value("text", None) is None and pg_value("text", "") == ""


def test_pgoutput_update_with_old_key_keeps_the_after_image():
    def tup(*vals):
        out = struct.pack("!h", len(vals))
        for v in vals:
            out += b"n" if v is None else b"t" + struct.pack("!i", len(v)) + v.encode()
        return out

    payload = b"U" + struct.pack("!I", 7) + b"K" + tup("old", None) + b"N" + tup("new", "VOID")
    assert pgoutput.decode(payload) == pgoutput.Change("U", 7, ("new", "VOID"))
    begin = pgoutput.decode(b"B" + struct.pack("!QqI", 99, 1_000_000, 5))
    assert begin.commit_ts == datetime(2000, 1, 1, 0, 0, 1, tzinfo=timezone.utc) and begin.final_lsn == 99


# --- against PostgreSQL -------------------------------------------------------------------------


def _sql(dsn: str, *statements: str) -> str:
    """Run statements in ONE transaction (as an app would); return the WAL position after commit."""
    con = psycopg2.connect(dsn)
    with con, con.cursor() as cur:
        for s in statements:
            cur.execute(s)
    with con.cursor() as cur:
        cur.execute("SELECT pg_current_wal_lsn()::text")
        lsn = cur.fetchone()[0]
    con.close()
    return lsn


def _txn(txn_id: int, status: str = "POSTED", reference_id: str = "DN-1") -> str:
    return (
        f"INSERT INTO wms.inventory_transactions VALUES ({txn_id}, 'RECEIPT', '{status}', 'CAN-VEG-0412', "
        f"'L{txn_id}', NULL, NULL, 'OAK-DRY-A01-03', 10.50, 120.25, 'DONATION', '{reference_id}', NULL, "
        f"'2026-11-02 09:00:00+00', 'clerk', now())"
    )


def test_ddl_matches_the_catalog(source_dsn):
    with psycopg2.connect(source_dsn) as con, con.cursor() as cur:
        for t in catalog.dms_tables():
            cur.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
                (t.location, t.name),
            )
            assert cur.fetchall() == [(c.name, PG_TYPES[c.type]) for c in t.columns], t.raw_table
            cur.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
                (f"{t.location}.{t.name}",),
            )
            assert tuple(r[0] for r in cur.fetchall()) == t.key


def _rows(store: LocalStore, key: str) -> list[dict]:
    text = store.read_bytes(key).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _replay(store: LocalStore, table) -> dict[str, dict]:
    """Apply the files as the loader would: full load, then changes in dms_change_seq order."""
    state = {}
    for f in store.list(table.landing_prefix, "LOAD*.csv"):
        for r in _rows(store, f.key):
            state[r[table.key[0]]] = r
    changes = [r for f in store.list(table.landing_prefix) if "/LOAD" not in f.key for r in _rows(store, f.key)]
    for r in sorted(changes, key=lambda r: r["dms_change_seq"]):
        if r["Op"] == "D":
            state.pop(r[table.key[0]], None)
        else:
            state[r[table.key[0]]] = r
    return {k: {c: v for c, v in r.items() if c in table.column_names} for k, r in state.items()}


# The DMS text of each type, written by PostgreSQL itself: an oracle independent of the capture.
DMS_TEXT_SQL = {
    "timestamptz": "to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
    "boolean": "{c}::text",
    "numeric": "{c}::text",
    "bigint": "{c}::text",
    "date": "{c}::text",
    "text": "{c}",
}


def _source_state(dsn: str, table) -> dict[str, dict]:
    con = psycopg2.connect(dsn)
    select_list = ", ".join(DMS_TEXT_SQL[c.type].format(c=c.name) for c in table.columns)
    with con.cursor() as cur:
        cur.execute(f"SELECT {select_list} FROM {table.location}.{table.name}")
        rows = cur.fetchall()
    con.close()
    # NULL is the unquoted token \N, which csv reads back as those two characters.
    return {r[0]: {c.name: "\\N" if v is None else v for c, v in zip(table.columns, r)} for r in rows}


def test_full_load_then_changes_replay_to_the_source(source_dsn, tmp_path):
    for i in range(1, 4):
        _sql(source_dsn, _txn(i))
    _sql(
        source_dsn,
        "INSERT INTO wms.items VALUES ('CAN-VEG-0412', 'Green beans, cut \"fancy\"', "
        "'Vegetables (Canned & Frozen)', 'DRY', 24.00, true, now())",
    )
    store = LocalStore(tmp_path / "landing")
    stop = threading.Event()
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(
            report=run_capture(source_dsn, "dms_test", "dms_pub", store, file_seconds=0.3, stop=stop)
        )
    )
    worker.start()
    _wait_for_slot(source_dsn, "dms_test")
    # Changes while the capture runs, in many small transactions, like the app makes them.
    _sql(source_dsn, _txn(4), _txn(5, reference_id=""))  # two changes in one transaction
    _sql(source_dsn, "UPDATE wms.inventory_transactions SET status = 'VOID', updated_at = now() WHERE txn_id = 2")
    _sql(source_dsn, "DELETE FROM wms.inventory_transactions WHERE txn_id = 3")
    _sql(source_dsn, "UPDATE wms.items SET description = E'two\\nlines, with comma', is_active = false")
    last = _sql(source_dsn, _txn(6), "UPDATE wms.inventory_transactions SET reason_code = 'DAMAGED' WHERE txn_id = 6")
    _wait_for_ack(source_dsn, "dms_test", last, worker)
    stop.set()
    worker.join(30)
    report = result["report"]

    assert report.full_load_rows["wms__inventory_transactions"] == 3
    assert report.full_load_rows["intake__donors"] == 0  # an empty table still gets its LOAD file
    assert store.exists(load_key(catalog.table("intake__donors"), 1))
    for t in (TXNS, ITEMS):
        assert _replay(store, t) == _source_state(source_dsn, t)

    changes = [r for f in store.list(TXNS.landing_prefix) if "/LOAD" not in f.key for r in _rows(store, f.key)]
    assert [r["Op"] for r in sorted(changes, key=lambda r: r["dms_change_seq"])] == ["I", "I", "U", "D", "I", "U"]
    deleted = next(r for r in changes if r["Op"] == "D")
    assert deleted["txn_id"] == "3" and {v for c, v in deleted.items() if c in TXNS.column_names[1:]} == {"\\N"}
    same_tx = [r["dms_change_seq"] for r in changes if r["txn_id"] in ("4", "5")]
    assert same_tx[0][:20] == same_tx[1][:20] and same_tx[0] < same_tx[1]
    assert all(r["reference_id"] == "" for r in changes if r["txn_id"] == "5")  # "" is not NULL
    loads = _rows(store, load_key(TXNS, 1))
    assert {r["Op"] for r in loads} == {"I"} and {r["dms_change_seq"] for r in loads} == {"\\N"}
    # The load is stamped no later than any change after it, so a reader never ranks a change below it.
    assert max(r["dms_commit_ts"] for r in loads) <= min(r["dms_commit_ts"] for r in changes)


def test_file_layout_is_the_contracts(source_dsn, tmp_path):
    store = LocalStore(tmp_path / "landing")
    run_capture(source_dsn, "dms_layout", "dms_pub", store, tables=[TXNS], until_lsn=_sql(source_dsn, "SELECT 1"))
    before = datetime.now(timezone.utc)
    last = _sql(source_dsn, _txn(10))
    run_capture(
        source_dsn, "dms_layout", "dms_pub", store, tables=[TXNS], file_seconds=0.2, until_lsn=last, stop_after=30
    )
    keys = [f.key for f in store.list(TXNS.landing_prefix)]
    cdc = [k for k in keys if "/LOAD" not in k]
    assert keys[-1] == "dms/wms/wms/inventory_transactions/LOAD00000001.csv" and len(cdc) == 1
    m = re.fullmatch(r"dms/wms/wms/inventory_transactions/(\d{4})/(\d\d)/(\d\d)/(\d{8})-(\d{9})\.csv", cdc[0])
    assert m, cdc[0]
    (row,) = _rows(store, cdc[0])
    commit = datetime.strptime(row["dms_commit_ts"], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    assert before <= commit <= datetime.now(timezone.utc)
    assert "/".join(m.groups()[:3]) == f"{commit:%Y/%m/%d}"
    assert len(row["dms_change_seq"]) == 35


class _CrashingStore(LocalStore):
    """A landing store that fails the first change file, as a crash during the upload would."""

    def write_bytes(self, key: str, data: bytes) -> None:
        if "/LOAD" not in key:
            raise OSError("simulated crash while writing " + key)
        super().write_bytes(key, data)


def _confirmed(dsn: str, slot: str) -> int:
    con = psycopg2.connect(dsn)
    with con.cursor() as cur:
        cur.execute("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        value = lsn_to_int(cur.fetchone()[0])
    con.close()
    return value


def _wait_for_slot(dsn: str, slot: str, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while True:
        con = psycopg2.connect(dsn)
        with con.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", (slot,))
            found = cur.fetchone()
        con.close()
        if found:
            return
        assert time.monotonic() < deadline, "the capture never created its slot"
        time.sleep(0.05)


def _wait_for_ack(dsn: str, slot: str, lsn: str, worker: threading.Thread, timeout: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout
    while _confirmed(dsn, slot) < lsn_to_int(lsn):
        assert worker.is_alive(), "the capture stopped early (see the thread's exception)"
        assert time.monotonic() < deadline, "the capture never acknowledged the last change"
        time.sleep(0.1)


def test_crash_before_the_file_is_written_replays_never_skips(source_dsn, tmp_path):
    root = tmp_path / "landing"
    run_capture(
        source_dsn, "dms_crash", "dms_pub", LocalStore(root), tables=[TXNS], until_lsn=_sql(source_dsn, "SELECT 1")
    )
    acked_before = _confirmed(source_dsn, "dms_crash")
    last = _sql(source_dsn, _txn(20))
    _sql(source_dsn, "UPDATE wms.inventory_transactions SET status = 'VOID' WHERE txn_id = 20")
    with pytest.raises(OSError, match="simulated crash"):
        run_capture(
            source_dsn, "dms_crash", "dms_pub", _CrashingStore(root), tables=[TXNS], file_seconds=0.2, stop_after=20
        )
    assert _confirmed(source_dsn, "dms_crash") == acked_before  # nothing acknowledged without its file

    store = LocalStore(root)
    last = _sql(source_dsn, "SELECT 1")
    first = run_capture(
        source_dsn, "dms_crash", "dms_pub", store, tables=[TXNS], file_seconds=0.2, until_lsn=last, stop_after=30
    )
    assert first.change_rows["wms__inventory_transactions"] == 2  # the insert and the void, replayed
    assert _replay(store, TXNS) == _source_state(source_dsn, TXNS)
    # Acknowledged now: a restart does not deliver them a third time.
    again = run_capture(
        source_dsn, "dms_crash", "dms_pub", store, tables=[TXNS], file_seconds=0.2, until_lsn=last, stop_after=30
    )
    assert again.change_rows["wms__inventory_transactions"] == 0
