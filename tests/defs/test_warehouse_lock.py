"""A warehouse held by another writer (a dbt build, another loader) is waited for, not failed on."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from foodbank_platform.defs.resources import WarehouseResource

HOLD = (
    "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); c.execute('CREATE TABLE IF NOT EXISTS t (x INT)'); "
    "print('locked', flush=True); time.sleep(float(sys.argv[2]))"
)


def hold(path, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_connect_waits_for_the_other_writer(tmp_path):
    db = tmp_path / "w.duckdb"
    proc = hold(db, 2.0)
    started = time.perf_counter()
    with WarehouseResource(duckdb_path=str(db)).connect() as con:
        waited = time.perf_counter() - started
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    proc.wait()
    assert waited >= 1.0  # it really was locked, and the resource waited instead of failing


def test_gives_up_with_the_lock_error_after_its_retries(tmp_path):
    db = tmp_path / "w.duckdb"
    proc = hold(db, 10.0)
    try:
        with pytest.raises(duckdb.IOException, match="(?i)lock"):
            with WarehouseResource(duckdb_path=str(db), lock_retries=2).connect():
                pass
    finally:
        proc.kill()
        proc.wait()
