"""The benchmark's long histories (benchmarks/history.py): copies of loaded days, shifted back in time, with
keys of their own, in raw and the ledger, so the cycle benchmark measures N days of distinct history."""

from __future__ import annotations

import importlib.util
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.ingest.pull import pull_feed
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.simulator import SimulationConfig, simulate
from foodbank_platform.sources import catalog
from foodbank_platform.sources.sftp import LocalSource

ROOT = Path(__file__).resolve().parents[2]
START = date(2026, 11, 2)


def _history():
    spec = importlib.util.spec_from_file_location("history", ROOT / "benchmarks" / "history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_shifted_names_keep_their_format():
    history = _history()
    assert history.shifted_name("dms/wms/wms/t/2026/11/02/20261102-101500123.csv", 3, 2) == (
        "dms/wms/wms/t/2026/11/02/20261027-101500123.csv"
    )
    assert history.shifted_name("sftp/legacy_warehouse/shipments/shipments_20261102_0715.csv", 1, 1).endswith(
        "shipments_20261101_0715.csv"
    )
    assert history.shifted_name("sftp/manual_adjustments/inventory adjustments 2026-11-02.csv", 1, 7).endswith(
        "inventory adjustments 2026-10-26.csv"
    )
    assert history.shifted_name("dms/wms/wms/t/LOAD00000001.csv", 2, 7) == "dms/wms/wms/t/h2-LOAD00000001.csv"


def test_two_copies_of_a_loaded_day_are_two_more_days_with_keys_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setenv("FOODBANK_HOME", str(tmp_path))
    history = _history()
    landing, template, target = tmp_path / "landing", tmp_path / "template.duckdb", tmp_path / "target.duckdb"
    simulate(SimulationConfig(landing_root=landing, sftp_root=tmp_path / "sftp", start_date=START, days=1, scale=0.01))
    for table in catalog.sftp_tables():
        pull_feed(LocalSource(tmp_path / "sftp"), LocalStore(landing), table, now=time.time() + 3600)
    con = warehouse.connect(template)
    load_new_files(LocalStore(landing), con)
    # What a copy holds: the rows of the day's files and of the full load (files of the next UTC day are
    # the morning after, not the day).
    files = {
        key: history.file_date(identity, START)
        for key, identity in con.execute("SELECT landing_key, file_identity FROM audit.file_ledger").fetchall()
    }
    expected, keys = {}, {}
    for table in catalog.TABLES:
        if table.raw_table in history.REFERENCE:
            continue
        rows = con.execute(f"SELECT _file, count(*) FROM raw.{table.raw_table} GROUP BY 1").fetchall()
        expected[table.raw_table] = sum(n for key, n in rows if files[key] <= START)
        keys[table.raw_table] = con.execute(
            f"SELECT count(DISTINCT ({', '.join(table.key)})) FROM raw.{table.raw_table} WHERE _file IN "
            f"(SELECT unnest(?::VARCHAR[]))",
            [[key for key, day in files.items() if day <= START]],
        ).fetchone()[0]
    con.close()
    assert expected["wms__inventory_transactions"] > 0 and expected["legacy_warehouse__shipments"] > 0

    added = history.tile(template, target, copies=2, days=1, first_day=START - timedelta(days=2))

    assert added == {name: 2 * n for name, n in expected.items()}
    with duckdb.connect(str(target), read_only=True) as out:
        for table in catalog.TABLES:
            if table.raw_table in history.REFERENCE:
                assert out.execute(f"SELECT count(*) FROM raw.{table.raw_table}").fetchone() == (0,)
                continue
            distinct = out.execute(
                f"SELECT count(DISTINCT ({', '.join(table.key)})) FROM raw.{table.raw_table}"
            ).fetchone()[0]
            assert distinct == 2 * keys[table.raw_table], table.raw_table
        # every copied file is in the ledger once, dated in the history (full loads: as their copy)
        ledger = out.execute("SELECT file_identity, landing_key FROM audit.file_ledger").fetchall()
        assert len({identity for identity, _ in ledger}) == len(ledger)
        dated = [history.file_date(identity, None) for identity, _ in ledger]
        assert {d for d in dated if d} == {START - timedelta(days=1), START - timedelta(days=2)}
        orphans = out.execute(
            "SELECT count(*) FROM raw.wms__inventory_transactions r "
            "WHERE r._file NOT IN (SELECT landing_key FROM audit.file_ledger)"
        ).fetchone()[0]
        assert orphans == 0
