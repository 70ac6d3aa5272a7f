"""A load killed with SIGKILL at any point, then run again, ends exactly where a clean load ends.

The loader writes raw rows, quarantined rows and ledger rows in one DuckDB transaction per table,
so a kill leaves either a table's whole batch or nothing; the re-run then sees the uncommitted
files as new. This test kills a real loader process at random moments, several times in a row.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from faults import LOAD_IN_SUBPROCESS, start_load
from fingerprint import fingerprints

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore

HEADER = (
    "Op,dms_commit_ts,dms_change_seq,txn_id,txn_type,status,sku,lot_code,supplier_lot,from_location_id,"
    "to_location_id,cases,lbs,reference_type,reference_id,reason_code,occurred_at,created_by,updated_at\n"
)


def write_landing(root: Path, files: int = 60, rows: int = 4000) -> None:
    store = LocalStore(root)
    n = 0
    for f in range(files):
        lines = [HEADER]
        for _ in range(rows):
            n += 1
            lines.append(
                f"I,2026-11-02 09:00:00.000000,{n:035d},{n},RECEIPT,POSTED,SKU-{n % 97},L-{n % 13},\\N,\\N,"
                f"OAK-DOCK-01,{n % 50}.00,{n % 900}.50,DONATION,DN-{n},\\N,2026-11-02 08:00:00.000000,x,"
                f"2026-11-02 09:00:00.000000\n"
            )
        if f % 10 == 3:
            lines.append("I,broken row\n")  # a quarantined row in some files
        store.write_bytes(
            f"dms/wms/wms/inventory_transactions/2026/11/02/20261102-09{f:04d}000.csv", "".join(lines).encode()
        )
    # an SFTP feed too, so more than one table's transaction is in play
    for f in range(5):
        body = "".join(f"BOL{f}|{i}|100|APPLES|SKU-1|1|40|2026-11-02|OAK|TEFAP|31.20\n" for i in range(1, 2000))
        store.write_bytes(
            f"sftp/usda_tefap/tefap_receipts_2026110{f}.txt",
            (
                "bol_number|line_number|usda_material_code|description|sku|cases|net_lbs|received_date|"
                "warehouse_code|program|unit_value_usd\n" + body
            ).encode(),
        )


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash") / "landing"
    write_landing(root)
    return root


@pytest.fixture(scope="module")
def clean(landing, tmp_path_factory):
    path = tmp_path_factory.mktemp("clean") / "w.duckdb"
    con = warehouse.connect(path)
    started = time.perf_counter()
    load_new_files(LocalStore(landing), con)
    seconds = time.perf_counter() - started
    fp = fingerprints(con, ("raw", "audit"))
    con.close()
    return fp, seconds


@pytest.mark.parametrize("trial", range(4))
def test_killed_loads_end_like_a_clean_load(landing, clean, tmp_path, trial):
    rng = random.Random(trial)
    db = tmp_path / "w.duckdb"
    kills = 0
    clean, load_seconds = clean
    # The first kill must land inside a load: a loader that finished first (this process's clean load
    # may have been timed on a busier machine) is started again on an empty warehouse, sooner each time.
    first_kill_within = load_seconds * 0.8
    while not kills:
        for leftover in (db, db.with_name(db.name + ".wal")):
            leftover.unlink(missing_ok=True)
        proc = start_load(landing, db)
        time.sleep(rng.uniform(0, first_kill_within))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        first_kill_within /= 2
    # later kills may find the load already done
    for _ in range(2):
        proc = start_load(landing, db)
        time.sleep(rng.uniform(0, load_seconds * 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    subprocess.run(
        [sys.executable, "-c", LOAD_IN_SUBPROCESS, str(landing), str(db)], check=True, stdout=subprocess.DEVNULL
    )
    con = warehouse.connect(db)
    try:
        assert fingerprints(con, ("raw", "audit")) == clean
        dupes = con.execute(
            "SELECT count(*) - count(DISTINCT (_file, _row_number)) FROM raw.wms__inventory_transactions"
        ).fetchone()[0]
        assert dupes == 0
    finally:
        con.close()
    print(f"trial {trial}: {kills} kill(s), then a clean re-run: identical")
