"""The raw load into Snowflake (`ingest/snowflake_load.py`), against the Snowflake emulator (a fakesnow
server on loopback, reached over a real connection) with every migration of deploy/snowflake applied.

A simulated day plus the malformed corpus loads into Snowflake with exactly the raw rows, quarantine
and ledger that the same files give DuckDB (every value compared, not counts); a replay loads nothing;
a load process SIGKILLed between its PUT and its COMMIT, then run again, loads every file once; a
statement that fails inside the load transaction leaves no ledger row and no raw row, and the next load
takes every file once.

Emulator gaps met here (named in snowflake_load.py): no `REMOVE` (the COPY purges), no `FILES = (…)`
on an internal stage, no fully qualified temporary table; NULL TIMESTAMP_NTZ values read back over the
wire as 1970-01-01, so the comparison reads every value as text inside the warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from fingerprint import VOLATILE
from malformed_corpus import CORPUS

from foodbank_platform import warehouse
from foodbank_platform.ingest import loader
from foodbank_platform.ingest.snowflake_load import SnowflakeTarget
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.simulator import SimulationConfig, simulate
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow
COMPARED = [f"raw.{t.raw_table}" for t in catalog.TABLES] + ["audit.quarantine", "audit.file_ledger"]
HELD_LOAD = Path(__file__).resolve().parents[1] / "snowflake_load_held.py"
HELD_AT = 3  # the batch (table) the killed process is held at: two have committed before it


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    """One simulated day of all six systems (default defects: some rows quarantine), the SFTP drops laid
    out as the puller lands them, and the malformed corpus (failed files, quarantined rows)."""
    root = tmp_path_factory.mktemp("snowflake-day")
    simulate(SimulationConfig.in_folder(root, start_date=date(2026, 10, 29), days=1, scale=0.005, seed=7))
    shutil.copytree(root / "sftp", root / "landing" / "sftp", ignore=shutil.ignore_patterns("*.done"))
    store = LocalStore(root / "landing")
    for key, data, _ in CORPUS:
        store.write_bytes(key, data)
    return root / "landing"


@pytest.fixture(scope="module")
def duckdb_load(landing, tmp_path_factory):
    con = warehouse.connect(tmp_path_factory.mktemp("duck") / "w.duckdb")
    report = loader.load_new_files(LocalStore(landing), con)
    yield con, report
    con.close()


def _columns(cur, qualified: str, mark: str) -> list[str]:
    schema, name = qualified.split(".")
    cur.execute(
        "SELECT lower(column_name) FROM information_schema.columns WHERE lower(table_schema) = "
        f"{mark} AND lower(table_name) = {mark} ORDER BY ordinal_position",
        (schema, name),
    )
    return [r[0] for r in cur.fetchall() if r[0] not in VOLATILE]


def content(con, qualified: str, mark: str = "?") -> list[tuple]:
    """Every row of the table as text (one engine's rendering on both sides), sorted; the volatile
    columns (load times and ids) left out."""
    cur = con.cursor()
    cols = _columns(cur, qualified, mark)
    cur.execute(f"SELECT {', '.join(f'CAST({c} AS VARCHAR)' for c in cols)} FROM {qualified}")
    return sorted(cur.fetchall(), key=lambda r: tuple("" if v is None else v for v in r))


def test_a_day_loads_into_snowflake_exactly_as_into_duckdb(landing, duckdb_load, snowflake_db):
    duck, duck_report = duckdb_load
    report = loader.load_new_files(LocalStore(landing), SnowflakeTarget(snowflake_db.settings().snowflake))
    assert report.rows_loaded == duck_report.rows_loaded > 1000
    assert report.rows_quarantined == duck_report.rows_quarantined > 0
    assert len(report.failed_files()) == len(duck_report.failed_files()) > 0
    sf = snowflake_db.connect()
    try:
        for qualified in COMPARED:
            expected = content(duck, qualified)
            got = content(sf, qualified, "%s")
            assert len(got) == len(expected), qualified
            assert got == expected, qualified
    finally:
        sf.close()


def _counts(sf) -> dict[str, int]:
    cur = sf.cursor()
    return {q: cur.execute(f"SELECT count(*) FROM {q}").fetchone()[0] for q in COMPARED}


def test_a_replay_loads_nothing_new(landing, snowflake_db):
    target = SnowflakeTarget(snowflake_db.settings().snowflake)
    first = loader.load_new_files(LocalStore(landing), target)
    sf = snowflake_db.connect()
    before = _counts(sf)
    # The same files again: not even read (same size and mtime as recorded).
    again = loader.load_new_files(LocalStore(landing), target)
    assert again.rows_loaded == 0 and sum(len(t.files) for t in again.tables) == 0
    # Re-delivered with a new mtime: read, recognised by checksum, touched, nothing loaded.
    for path in landing.rglob("*"):
        if path.is_file():
            os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    replay = loader.load_new_files(LocalStore(landing), target)
    assert replay.rows_loaded == 0
    assert sum(t.count("redelivered") for t in replay.tables) == sum(len(t.files) for t in first.tables)
    assert _counts(sf) == before
    # the touches moved last_seen_at and the mtime, so the next cycle skips them again
    assert sum(len(t.files) for t in loader.load_new_files(LocalStore(landing), target).tables) == 0
    sf.close()


def test_a_statement_failing_inside_the_transaction_leaves_no_ledger_row(landing, snowflake_db, monkeypatch):
    original = SnowflakeTarget._copy

    def copy_then_fail(cur, qualified, staged, rows):
        original(cur, qualified, staged, rows)
        if qualified.startswith("raw."):  # after the ledger's COPY and this raw COPY: a real failing statement
            cur.execute("INSERT INTO raw.no_such_table VALUES (1)")

    monkeypatch.setattr(SnowflakeTarget, "_copy", staticmethod(copy_then_fail))
    target = SnowflakeTarget(snowflake_db.settings().snowflake)
    with pytest.raises(Exception, match="(?i)no_such_table"):
        loader.load_table(LocalStore(landing), target.for_table(), catalog.table("wms__inventory_transactions"))
    sf = snowflake_db.connect()
    assert set(_counts(sf).values()) == {0}
    monkeypatch.setattr(SnowflakeTarget, "_copy", staticmethod(original))
    report = loader.load_table(LocalStore(landing), target.for_table(), catalog.table("wms__inventory_transactions"))
    assert report.rows_loaded > 0
    cur = sf.cursor()
    assert cur.execute("SELECT count(*) FROM raw.wms__inventory_transactions").fetchone()[0] == report.rows_loaded
    dup = cur.execute(
        "SELECT count(*) FROM (SELECT file_identity, checksum FROM audit.file_ledger GROUP BY 1, 2 HAVING count(*) > 1)"
    ).fetchone()[0]
    assert dup == 0
    sf.close()


def _killed_while_held(landing: Path, snowflake_db, statement: str, tmp_path: Path) -> dict:
    """tests/snowflake_load_held.py loads `landing` one table at a time in its own process and holds the
    HELD_AT-th batch at `statement`; once it says so (a file), it is SIGKILLed. Returns what it said."""
    signal_file, log = tmp_path / "held.json", tmp_path / "held.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(HELD_LOAD), str(landing), statement, str(HELD_AT), str(signal_file)],
            env={**os.environ, **snowflake_db.env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 600  # a bound on a stuck load, not a measure of anything
            while not signal_file.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None and signal_file.exists(), f"the load was not held: {log.read_text()[-3000:]}"
            proc.send_signal(signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return json.loads(signal_file.read_text())


def _duplicates(cur, qualified: str, columns: str) -> int:
    return cur.execute(
        f"SELECT count(*) FROM (SELECT {columns} FROM {qualified} GROUP BY {columns} HAVING count(*) > 1)"
    ).fetchone()[0]


@pytest.mark.parametrize("statement", ["BEGIN", "COMMIT"])
def test_a_load_killed_between_put_and_commit_and_rerun_loads_each_file_once(
    landing, duckdb_load, snowflake_db, tmp_path, statement
):
    """Killed at the third table's BEGIN (its Parquet PUT to the stage, no transaction open) or at its
    COMMIT (every COPY done inside the open transaction): the two tables before it stay committed, the
    third leaves no raw, quarantine or ledger row, and a re-run loads exactly the rest, ending where a
    clean load ends (DuckDB's, which the first test shows a clean Snowflake load equals) value for value."""
    duck, duck_report = duckdb_load
    held = _killed_while_held(landing, snowflake_db, statement, tmp_path)
    assert held["puts"] > 0 and held["passed"] == HELD_AT - 1
    sf = snowflake_db.connect()
    try:
        cur = sf.cursor()
        committed = cur.execute("SELECT count(DISTINCT load_id) FROM audit.file_ledger").fetchone()[0]
        assert committed == HELD_AT - 1  # the killed batch left no ledger row
        loaded_before = sum(
            cur.execute(f"SELECT count(*) FROM raw.{t.raw_table}").fetchone()[0] for t in catalog.TABLES
        )
        assert 0 < loaded_before < duck_report.rows_loaded

        report = loader.load_new_files(LocalStore(landing), SnowflakeTarget(snowflake_db.settings().snowflake))
        assert report.rows_loaded == duck_report.rows_loaded - loaded_before

        assert _duplicates(cur, "audit.file_ledger", "file_identity, checksum") == 0
        for t in catalog.TABLES:
            assert _duplicates(cur, f"raw.{t.raw_table}", "_file, _row_number") == 0, t.raw_table
        for qualified in COMPARED:
            assert content(sf, qualified, "%s") == content(duck, qualified), qualified
    finally:
        sf.close()
