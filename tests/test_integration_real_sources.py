"""The whole chain on real parts, and how fresh the operational view is.

PostgreSQL activity (inserts, voids, deletes in many small transactions) → the CDC capture →
DMS files in S3 (moto server) → raw (the loader) → canonical (dbt, the 10-minute path), plus SFTP
feeds (asyncssh server) → S3 → raw. The canonical tables must equal what PostgreSQL committed: row by
row for a sample, totals for everything. FRESHNESS is the time from the last source commit to its row
in `canonical.inventory_events` when the 10-minute path runs right after the capture's next file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pytest
from fixtures_services import capture_in_background

from foodbank_platform import warehouse
from foodbank_platform.cdc.capture import lsn_to_int
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.ingest.pull import pull_feed
from foodbank_platform.landing.s3 import S3Store
from foodbank_platform.simulator.postgres import apply_changes
from foodbank_platform.sources import catalog
from foodbank_platform.sources.sftp import SftpSource

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
T = catalog.table
SKUS = ["CAN-VEG-0412", "CAN-FRU-0101", "DRY-RIC-0020", "PRO-PNB-0007"]
LOCS = ["OAK-DRY-A01-03", "OAK-DRY-B02-01", "HAY-COOLER-C01-01"]


def _frame(table, rows: list[dict], op: str = "I") -> tuple:
    return table, pd.DataFrame([{"op": op, **r} for r in rows], columns=["op", *table.column_names])


def _activity(rng: np.random.Generator, first_txn: int, n: int, now: datetime) -> list[tuple]:
    """Warehouse and intake/ordering activity with updates and deletes, in app order."""
    txns, lines, orders = [], [], []
    for i in range(first_txn, first_txn + n):
        kind = ["RECEIPT", "TRANSFER", "DISTRIBUTION"][i % 3]
        src, dst = rng.choice(LOCS, 2, replace=False)
        txns.append(
            dict(
                txn_id=i,
                txn_type=kind,
                status="POSTED",
                sku=SKUS[i % len(SKUS)],
                lot_code=f"L{i % 7}",
                supplier_lot=None,
                from_location_id=None if kind == "RECEIPT" else src,
                to_location_id=None if kind == "DISTRIBUTION" else dst,
                cases=float(rng.integers(1, 40)),
                lbs=float(rng.integers(20, 900)),
                reference_type="NONE",
                reference_id=f"R-{i}",
                reason_code=None,
                occurred_at=now - timedelta(minutes=int(rng.integers(0, 600))),
                created_by="app",
                updated_at=now,
            )
        )
        lines.append(
            dict(
                line_id=i,
                donation_pk=i,
                sku=SKUS[i % 4],
                fa_category="Produce",
                lot_code=f"D{i}",
                cases=float(i % 9 + 1),
                gross_lbs=float(i % 9 + 1) * 12.5,
                best_by=now.date(),
                updated_at=now,
            )
        )
        orders.append(
            dict(
                order_line_id=i,
                order_id=i,
                sku=SKUS[i % 4],
                cases_requested=float(i % 5 + 1),
                cases_approved=None,
                updated_at=now,
            )
        )
    headers = [
        dict(
            id=i,
            donation_id=f"DN-OAK-2026-{i:07d}",
            donor_id="DNR-1",
            warehouse_code="OAK",
            source_program="DONATED",
            received_at=now,
            status="OPEN",
            updated_at=now,
        )
        for i in range(first_txn, first_txn + n)
    ]
    order_headers = [
        dict(
            order_id=i,
            agency_id="AG-0417",
            order_type="SHOPPING",
            ship_method="PICKUP",
            status="SUBMITTED",
            requested_date=now.date(),
            submitted_at=now,
            updated_at=now,
        )
        for i in range(first_txn, first_txn + n)
    ]
    voided = [dict(t, status="VOID", updated_at=now + timedelta(seconds=1)) for t in txns[::5]]
    approved = [dict(o, cases_approved=o["cases_requested"] - 1) for o in orders[::3]]
    return [
        _frame(T("wms__inventory_transactions"), txns),
        _frame(T("intake__donations"), headers),
        _frame(T("intake__donation_lines"), lines),
        _frame(T("ordering__orders"), order_headers),
        _frame(T("ordering__order_lines"), orders),
        _frame(T("wms__inventory_transactions"), voided, "U"),
        _frame(T("ordering__order_lines"), approved, "U"),
        _frame(T("intake__donation_lines"), lines[1::7], "D"),
        _frame(T("ordering__order_lines"), orders[2::9], "D"),
    ]


def _query(dsn: str, sql: str) -> list[tuple]:
    con = psycopg2.connect(dsn)
    with con.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    con.close()
    return rows


def _dbt_ops_10min(duckdb_path: Path, scratch: Path) -> float:
    started = time.perf_counter()
    env = {**os.environ, "FOODBANK_DUCKDB_PATH": str(duckdb_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "run",
            "--select",
            "tag:ops_10min",
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO / "dbt_project"),
            "--target-path",
            str(scratch / "target"),
            "--log-path",
            str(scratch / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO / "dbt_project",
    )
    assert done.returncode == 0, done.stdout[-4000:]
    return time.perf_counter() - started


def _pull_sftp(server, store, samples_dir: Path) -> list[str]:
    # The contract samples, as the legacy tools put them on the server (marker and an old mtime).
    outbound = samples_dir / "sftp" / "outbound"
    for sample in outbound.rglob("*"):
        if sample.is_file():
            target = server.root / "outbound" / sample.relative_to(outbound)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(sample.read_bytes())
            os.utime(target, (time.time() - 600, time.time() - 600))
    with SftpSource.from_uri(server.uri, str(server.client_key), str(server.known_hosts)) as src:
        return [k for t in catalog.sftp_tables() for k in pull_feed(src, store, t)]


def test_postgres_and_sftp_to_canonical(source_dsn, s3_bucket, s3_endpoint, sftp_server, samples_dir, tmp_path):
    rng = np.random.default_rng(7)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    apply_changes(source_dsn, _activity(rng, 1, 30, now - timedelta(hours=2)))  # before capture: full load
    store = S3Store(s3_bucket, "landing", endpoint_url=s3_endpoint)
    stop, result, capture = capture_in_background(source_dsn, "dms_ops", "dms_pub", store, file_seconds=2)
    while not _query(source_dsn, "SELECT 1 FROM pg_replication_slots WHERE slot_name = 'dms_ops'"):
        time.sleep(0.05)
    apply_changes(source_dsn, _activity(rng, 31, 150, now))  # while capturing: CDC files
    sftp_keys = _pull_sftp(sftp_server, store, samples_dir)

    # The freshness probe: one more receipt, committed now; the clock runs until it is in canonical.
    apply_changes(source_dsn, _activity(rng, 1001, 1, now)[:1])
    committed = time.monotonic()
    (last_lsn,) = _query(source_dsn, "SELECT pg_current_wal_lsn()::text")[0]
    while lsn_to_int(
        _query(source_dsn, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots")[0][0]
    ) < lsn_to_int(last_lsn):
        assert capture.is_alive() and time.monotonic() - committed < 60, "capture stalled"
        time.sleep(0.1)
    in_s3 = time.monotonic()
    duckdb_path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(duckdb_path)
    report = load_new_files(store, con)
    con.close()
    loaded = time.monotonic()
    _dbt_ops_10min(duckdb_path, tmp_path)
    con = warehouse.connect(duckdb_path)
    probe = con.execute("SELECT count(*) FROM canonical.inventory_events WHERE source_record_id = '1001'").fetchone()[0]
    freshness = time.monotonic() - committed
    stop.set()
    capture.join(30)
    print(
        f"\nFRESHNESS commit -> canonical.inventory_events: {freshness:.1f}s "
        f"(capture to S3 {in_s3 - committed:.1f}s, load {loaded - in_s3:.1f}s, dbt ops_10min "
        f"{time.monotonic() - loaded:.1f}s; capture file interval 2s)"
    )
    assert probe == 1
    assert not report.failed_files() and report.rows_quarantined == 0, [
        (f.landing_key, f.error) for f in report.failed_files()
    ]
    assert len(sftp_keys) >= 3

    # --- canonical equals PostgreSQL --------------------------------------------------------------
    pg_txns = _query(
        source_dsn,
        "SELECT txn_id::text, txn_type, status, sku, lot_code, from_location_id, "
        "to_location_id, cases FROM wms.inventory_transactions",
    )
    expected_net = {}
    for txn_id, typ, status, sku, lot, src, dst, cases in pg_txns:
        sign = 0 if status == "VOID" else 1  # a void nets to zero: posting + reversal
        for loc, direction in ((src, -1), (dst, 1)):
            if loc:
                key = (sku, lot, loc)
                expected_net[key] = expected_net.get(key, 0) + sign * direction * float(cases)
    per_txn = dict(
        con.execute(
            "SELECT source_record_id, count(*) FROM canonical.inventory_events WHERE source_system = 'wms' GROUP BY ALL"
        ).fetchall()
    )
    wrong = [
        (r[0], r[2], per_txn.get(r[0]))
        for r in pg_txns
        if per_txn.get(r[0]) != (2 if r[1] == "TRANSFER" else 1) * (2 if r[2] == "VOID" else 1)
    ]
    assert not wrong, wrong[:10]  # (txn_id, status, canonical rows) whose events are missing or extra
    got_net = {
        (s, lot, loc): float(v)
        for s, lot, loc, v in con.execute(
            "SELECT sku, lot_code, location_id, sum(cases_delta) FROM canonical.inventory_events "
            "WHERE source_system = 'wms' GROUP BY ALL"
        ).fetchall()
    }
    assert {k: v for k, v in got_net.items() if v} == {k: v for k, v in expected_net.items() if v}
    voids = sum(1 for r in pg_txns if r[2] == "VOID")
    assert (
        con.execute(
            "SELECT count(DISTINCT source_record_id) FROM canonical.inventory_events WHERE is_reversal"
        ).fetchone()[0]
        == voids
        > 0
    )
    sample = [r for r in pg_txns if int(r[0]) % 17 == 0]
    for txn_id, typ, status, sku, lot, src, dst, cases in sample:
        rows = con.execute(
            "SELECT event_type, location_id, cases_delta FROM canonical.inventory_events "
            "WHERE source_record_id = ? AND NOT is_reversal ORDER BY cases_delta",
            [txn_id],
        ).fetchall()
        legs = sorted([(loc, d * float(cases)) for loc, d in ((src, -1), (dst, 1)) if loc], key=lambda x: x[1])
        assert [(loc, float(c)) for _, loc, c in rows] == legs, txn_id

    pg_lines = _query(source_dsn, "SELECT count(*), sum(cases) FROM intake.donation_lines")[0]
    assert con.execute("SELECT count(*), sum(cases) FROM canonical.donations").fetchone() == pg_lines
    pg_orders = _query(
        source_dsn, "SELECT count(*), sum(cases_requested), sum(cases_approved) FROM ordering.order_lines"
    )[0]
    assert (
        con.execute(
            "SELECT count(*), sum(cases_requested), sum(cases_approved) FROM canonical.agency_orders"
        ).fetchone()
        == pg_orders
    )
    deleted = _query(
        source_dsn,
        "SELECT count(*) FROM generate_series(1, 180) AS i WHERE i NOT IN (SELECT line_id FROM intake.donation_lines)",
    )[0][0]
    assert deleted > 0  # the deletes really happened, and the counts above prove canonical dropped them
    # The SFTP feeds reached raw through S3, every data row of the samples.
    for t in catalog.sftp_tables():
        in_raw = con.execute(f"SELECT count(*) FROM raw.{t.raw_table}").fetchone()[0]
        assert in_raw > 0, t.raw_table
    con.close()
