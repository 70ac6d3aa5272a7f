"""The fault suite: whatever the sources replay, reorder or deliver late, finance sees the same numbers.

One simulation (3 days over the autumn DST change, default business defects, no delivery faults)
is delivered cleanly in order once, and then once per fault. After each, the canonical tables and
the daily balance must be identical (content hashes) to the clean run, with no duplicate business
keys. Malformed files (fault g) are covered by `test_bad_input.py`, whose corpus the summary counts;
the summary line (what each fault replayed) is printed when the module ends, whatever ran first.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timezone

import faults
import pytest
from faults import Target
from malformed_corpus import CORPUS

from foodbank_platform.simulator import DefectRates, SimulationConfig, simulate
from foodbank_platform.sources import catalog

TXN = catalog.table("wms__inventory_transactions")
FAULTS: dict[str, str] = {}  # fault letter -> the test that replays it
TRIED: list[str] = []  # what each fault test replayed, once it found the clean run's numbers


def fault(letter: str):
    def register(test):
        FAULTS[letter] = test.__name__
        return test

    return register


@pytest.fixture(scope="module", autouse=True)
def summary():
    yield
    if TRIED:
        tried = sorted(TRIED) + [f"(g) {len(CORPUS)} malformed files (test_bad_input.py)"]
        print("\nfault suite: " + "; ".join(tried) + " -> canonical + daily balance identical to the clean run")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("fault-sim")
    rates = DefectRates(late_file=0.0, dms_restarts_per_day=0.0)
    simulate(
        SimulationConfig.in_folder(root, start_date=date(2026, 10, 31), days=3, scale=0.005, seed=11, defects=rates)
    )
    return faults.drops(root / "landing", root / "sftp")


@pytest.fixture(scope="module")
def clean(simulated, tmp_path_factory):
    target = Target(tmp_path_factory.mktemp("clean"))
    faults.deliver(target, faults.cycles(simulated))
    faults.build(target)
    snap = faults.snapshot(target)
    assert snap["duplicate_business_keys"] == 0
    assert all(snap[t][0] > 0 for t in faults.COMPARED)
    return snap


def check_identical(clean, target, what: str) -> None:
    faults.build(target)
    got = faults.snapshot(target)
    assert got == clean, f"{what}: differs from the clean run"
    TRIED.append(what)


@fault("a")
def test_every_file_twice_in_shuffled_order(simulated, clean, tmp_path):
    target = Target(tmp_path)
    faults.deliver(target, faults.twice_shuffled(simulated, random.Random(1)))
    check_identical(clean, target, f"(a) {2 * len(simulated)} deliveries, each file twice, shuffled")


@fault("b")
def test_five_percent_of_files_one_to_three_days_late(simulated, clean, tmp_path):
    target = Target(tmp_path)
    delayed = faults.late(simulated, random.Random(2))
    n_late = sum(
        1
        for a, b in zip(sorted(simulated, key=lambda d: d.path), sorted(delayed, key=lambda d: d.path))
        if a.at != b.at
    )
    assert n_late > 0
    batches = faults.cycles(delayed)
    # build part-way too, so late rows have to find their way into already-built incremental tables
    faults.deliver(target, batches, after_cycle=lambda i: faults.build(target) if i == len(batches) // 2 else None)
    check_identical(clean, target, f"(b) {n_late} files 1-3 days late, incremental build in between")


@fault("c")
def test_dms_restart_replays_the_last_hour(simulated, clean, tmp_path):
    target = Target(tmp_path)
    replayed = faults.dms_restart(simulated, random.Random(3))
    faults.deliver(target, faults.cycles(replayed))
    check_identical(clean, target, f"(c) 2 DMS restarts, {len(replayed) - len(simulated)} files replayed")


@fault("d")
def test_reload_of_the_inventory_ledger(simulated, clean, tmp_path):
    target = Target(tmp_path / "t")
    middle = sorted(d.at for d in simulated)[len(simulated) // 2]
    reloaded = faults.reload(simulated, TXN, middle + 0.5, tmp_path / "scratch")
    faults.deliver(target, faults.cycles(reloaded))
    check_identical(
        clean,
        target,
        f"(d) reload of {TXN.raw_table} at {datetime.fromtimestamp(middle, timezone.utc):%Y-%m-%d %H:%M}Z",
    )


@fault("e")
def test_column_added_mid_stream(simulated, clean, tmp_path):
    target = Target(tmp_path)
    middle = sorted(d.at for d in simulated)[len(simulated) // 2]
    drifted = faults.add_column(simulated, TXN, after=middle)
    faults.deliver(target, faults.cycles(drifted))
    con = faults.warehouse.connect(target.db)
    try:
        filled = con.execute(f"SELECT count(pallet_id), count(*) FROM raw.{TXN.raw_table}").fetchone()
    finally:
        con.close()
    assert 0 < filled[0] < filled[1]  # new files carry it, old ones do not
    check_identical(clean, target, f"(e) column pallet_id added to {TXN.raw_table} mid-stream")


@fault("f")
def test_loads_killed_at_random_points(simulated, clean, tmp_path):
    target = Target(tmp_path)
    kills = faults.deliver(target, faults.cycles(simulated), kill=random.Random(5))
    assert kills > 0
    check_identical(clean, target, f"(f) {kills} loads killed with SIGKILL and re-run")


def test_every_fault_of_the_contract_has_its_test():
    """Faults (a)-(f) each have a test here (which must find the clean run's numbers); (g) is the corpus."""
    assert sorted(FAULTS) == list("abcdef"), FAULTS
    assert all(name.startswith("test_") and callable(globals()[name]) for name in FAULTS.values())
    assert CORPUS
