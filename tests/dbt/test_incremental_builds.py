"""The 10-minute path builds incrementally, reading only what arrived; its answer must stay the one a
full rebuild (`dbt build --full-refresh`) gives.

Three simulated days arrive in 6-hour cycles with the faults that stress incremental state: files
1-3 days late, DMS replaying the last hour after restarts, and a reload of the inventory ledger (a new
full-load generation, which makes the staging recompute every key). dbt builds part-way several
times, as the 10-minute path does, and once at the end; then the same warehouse is rebuilt with
`--full-refresh`. Staging, canonical, the operations and traceability marts and the daily balance
must hold the same rows (content hashes) both ways.
"""

from __future__ import annotations

import csv
import json
import random
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta

import faults
import pytest
from dbt_support import run_dbt
from faults import Target
from fingerprint import fingerprint

from foodbank_platform import warehouse
from foodbank_platform.simulator import DefectRates, SimulationConfig, simulate
from foodbank_platform.sources import catalog

TXN = catalog.table("wms__inventory_transactions")
# No reprocessing overlap: a test's loads are seconds apart, and an hour of overlap would recompute
# every key each time, so the incremental path would go untested.
VARS = json.dumps({"as_of_date": "2026-11-28", "publish_through": "2026-11-27", "reprocess_overlap_minutes": 0})
SELECT = "tag:ops_10min +inventory_daily_balance"
COMPARED = (
    "staging.stg_wms__inventory_transactions",
    "staging.stg_intake__donations",
    "staging.stg_intake__donation_lines",
    "staging.stg_ordering__orders",
    "staging.stg_ordering__order_lines",
    "staging.stg_legacy_warehouse__shipments",
    "canonical.inventory_events",
    "canonical.donations",
    "canonical.agency_orders",
    "canonical.fulfillment_line_items",
    "marts.inventory_positions",
    "marts.on_hand",
    "marts.daily_flow",
    "marts.agency_service",
    "marts.lots",
    "marts.lot_trace",
    "reconciliation.inventory_daily_balance",
)


def build(target: Target, *extra: str, vars_: str = VARS) -> None:
    select = [] if "--select" in extra else ["--select", SELECT]
    done = run_dbt(
        ["build", "--target", "local", "--quiet", *select, "--exclude-resource-type", "test", "unit_test"]
        + ["--vars", vars_, *extra],
        target.root / "dbt",
        {"FOODBANK_DUCKDB_PATH": str(target.db)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def contents(target: Target) -> dict[str, tuple[int, int]]:
    con = warehouse.connect(target.db)
    try:
        return {t: fingerprint(con, t) for t in COMPARED}
    finally:
        con.close()


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental-sim")
    simulate(
        SimulationConfig.in_folder(
            root,
            start_date=date(2026, 10, 31),
            days=3,
            scale=0.005,
            seed=23,
            defects=DefectRates(late_file=0.0, dms_restarts_per_day=0.0),
        )
    )
    simulated = faults.drops(root / "landing", root / "sftp")
    middle = sorted(d.at for d in simulated)[len(simulated) // 2]
    reloaded, dropped = [], []
    for d in faults.reload(simulated, TXN, middle + 0.5, root / "scratch"):
        if d.at == middle + 0.5:
            d, dropped = drop_rows_from_reload(d)
        reloaded.append(d)
    assert len(dropped) == 3
    return faults.late(faults.dms_restart(reloaded, random.Random(7)), random.Random(8)), dropped


def drop_rows_from_reload(d: faults.Drop) -> tuple[faults.Drop, list[str]]:
    """The reload misses a few postings that CDC never deleted (deleted while capture was stopped):
    only the new generation says they are gone, so the build after it must recompute every key, not
    only those of the new files. Returns the drop and the txn_ids it no longer carries."""
    header, *rows = d.files[0][1].decode().splitlines(keepends=True)
    kept = "".join([header, *rows[:10], *rows[13:]]).encode()
    txn_id = next(csv.reader([header])).index("txn_id")
    return replace(d, files=((d.path, kept),)), [next(csv.reader([r]))[txn_id] for r in rows[10:13]]


@pytest.fixture(scope="module")
def built(deliveries, tmp_path_factory):
    """The deliveries loaded cycle by cycle, dbt building part-way three times and once at the end."""
    deliveries, dropped = deliveries
    target = Target(tmp_path_factory.mktemp("incremental"))
    batches = faults.cycles(deliveries)
    built_after = {len(batches) // 4, len(batches) // 2, 3 * len(batches) // 4}
    faults.deliver(target, batches, after_cycle=lambda i: build(target) if i in built_after else None)
    build(target)
    return target, dropped


@pytest.mark.slow
def test_incremental_builds_equal_a_full_rebuild(built):
    target, dropped = built
    incremental = contents(target)
    assert all(rows > 0 for rows, _ in incremental.values()), incremental
    con = warehouse.connect(target.db)
    try:
        gone = con.execute(
            "SELECT count(*) FROM staging.stg_wms__inventory_transactions WHERE is_deleted AND txn_id IN ?",
            [[int(t) for t in dropped]],
        ).fetchone()[0]
    finally:
        con.close()
    assert gone == len(dropped)  # the reload's tombstones reached keys no new file carried

    build(target, "--full-refresh")
    assert contents(target) == incremental


def _test_staging(target: Target, since: str | None) -> subprocess.CompletedProcess:
    env = {"FOODBANK_DUCKDB_PATH": str(target.db), "FOODBANK_ARRIVED_SINCE": since or ""}
    args = [
        "test",
        "--target",
        "local",
        "--select",
        "stg_wms__inventory_transactions",
        "--exclude-resource-type",
        "unit_test",
    ]
    return run_dbt(args, target.root / "t", env)


@pytest.mark.slow
def test_ten_minute_tests_read_what_arrived_and_the_full_run_reads_everything(built):
    """A posting with no txn_id, loaded long ago, is not the 10-minute path's business (its tests read
    the rows loaded since FOODBANK_ARRIVED_SINCE); the nightly full run finds it. Loaded now, the
    10-minute tests find it too."""
    target, _ = built
    con = warehouse.connect(target.db)
    try:
        newest = con.execute("SELECT max(_source_loaded_at) FROM staging.stg_wms__inventory_transactions").fetchone()[0]
        con.execute(
            "INSERT INTO staging.stg_wms__inventory_transactions BY NAME "
            "SELECT * REPLACE (NULL AS txn_id, ? AS _source_loaded_at) "
            "FROM staging.stg_wms__inventory_transactions LIMIT 1",
            [newest - timedelta(days=30)],
        )
    finally:
        con.close()
    since = (newest - timedelta(hours=1)).isoformat(sep=" ")
    try:
        ten_minutes = _test_staging(target, since)
        assert ten_minutes.returncode == 0, ten_minutes.stdout[-3000:]
        nightly = _test_staging(target, None)
        assert nightly.returncode == 1 and "not_null_stg_wms__inventory_transactions_txn_id" in nightly.stdout

        con = warehouse.connect(target.db)
        try:
            con.execute(
                "UPDATE staging.stg_wms__inventory_transactions SET _source_loaded_at = ? WHERE txn_id IS NULL",
                [newest],
            )
        finally:
            con.close()
        arrived = _test_staging(target, since)
        assert arrived.returncode == 1 and "not_null_stg_wms__inventory_transactions_txn_id" in arrived.stdout
    finally:
        con = warehouse.connect(target.db)
        try:
            con.execute("DELETE FROM staging.stg_wms__inventory_transactions WHERE txn_id IS NULL")
        finally:
            con.close()


@pytest.mark.slow
def test_on_hand_follows_today_back_and_forth_as_a_full_rebuild_does(built, tmp_path):
    """The positions are summed as of "today" and kept incrementally: a re-run for an earlier day
    rebuilds every position (the simulated days run 31 October to 2 November, "today" was 28 November),
    and the next day's run adds the events dated after the last "today". Each time the incremental
    positions, on_hand and daily_flow (whose is_today moves) equal a full rebuild's."""
    # On a copy of the module's warehouse: the other tests, in any order, see it as built.
    target = Target(tmp_path)
    shutil.copyfile(built[0].db, target.db)
    compared = ("marts.inventory_positions", "marts.on_hand", "marts.daily_flow")
    before = None
    for today in ("2026-11-01", "2026-11-02"):
        today_vars = json.dumps({**json.loads(VARS), "as_of_date": today})
        build(target, "--select", "inventory_positions on_hand daily_flow", vars_=today_vars)
        con = warehouse.connect(target.db)
        try:
            incremental = {t: fingerprint(con, t) for t in compared}
            assert con.execute("SELECT DISTINCT as_of_date FROM marts.inventory_positions").fetchall() == [
                (date.fromisoformat(today),)
            ]
        finally:
            con.close()
        assert incremental != before  # each day holds other stock
        build(target, "--select", "inventory_positions on_hand daily_flow", "--full-refresh", vars_=today_vars)
        con = warehouse.connect(target.db)
        try:
            assert {t: fingerprint(con, t) for t in compared} == incremental, today
        finally:
            con.close()
        before = incremental
