"""What `foodbank run` and `demo` ask the warehouse (`report.py`: the demo's summary, the business days to
close, the files an earlier run loaded), on DuckDB and on the Snowflake emulator: the same loads and rows
give the same text and answers.

Both warehouses get the contract's inventory transactions through the raw asset (ledger rows, raw rows),
then the same canonical, reconciliation, audit and marts rows (tests/marts_seed.py). The migrations make every
raw table and `audit.retention_log` on Snowflake; on DuckDB the 10-minute dbt step (`ensure_dbt_sources`) and
retention's first run make them, done here so that both hold the same tables."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from dagster import build_resources, materialize
from marts_seed import SEED as MARTS

from foodbank_platform import report, retention
from foodbank_platform import settings as fb_settings
from foodbank_platform.definitions import build_definitions
from foodbank_platform.defs.assets.raw import raw_asset
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow

TXN = catalog.table("wms__inventory_transactions")
FOLDER = "dms/wms/wms/inventory_transactions"
ROWS = [
    "CREATE SCHEMA IF NOT EXISTS canonical",
    "CREATE SCHEMA IF NOT EXISTS reconciliation",
    "CREATE TABLE canonical.inventory_events (business_date DATE, sku VARCHAR)",
    "INSERT INTO canonical.inventory_events VALUES ('2026-10-31', 'A'), ('2026-10-28', 'B'), ('2026-10-30', 'C')",
    "CREATE TABLE reconciliation.book_vs_onhand (business_date DATE, sku VARCHAR, lot_code VARCHAR, "
    "location_id VARCHAR, book_lbs DECIMAL(18,2), onhand_lbs DECIMAL(18,2), lbs_variance DECIMAL(18,2), status VARCHAR)",
    "INSERT INTO reconciliation.book_vs_onhand VALUES "
    "('2026-10-30', 'SKU-1', 'L1', 'A-01', 10.00, 10.00, 0.00, 'matched'), "
    "('2026-10-30', 'SKU-2', 'L2', 'A-02', 10.00, 4.50, 5.50, 'variance'), "
    "('2026-10-31', 'SKU-3', 'L3', 'B-01', 8.00, NULL, NULL, 'missing_onhand'), "
    "('2026-10-31', 'SKU-4', 'L4', 'B-02', 1.00, 21.00, -20.00, 'variance')",
    "CREATE TABLE audit.dq_missing_skus (record_id VARCHAR, sku VARCHAR)",
    "INSERT INTO audit.dq_missing_skus VALUES ('1', 'SKU-9'), ('2', 'SKU-8')",
]


def _prepare(s: fb_settings.Settings, landing, connect) -> None:
    defs = build_definitions(s)
    assert materialize([raw_asset(TXN)], resources={k: defs.resources[k] for k in ("landing", "warehouse")}).success
    if s.warehouse == "duckdb":
        with build_resources({"warehouse": defs.resources["warehouse"]}) as resources:
            resources.warehouse.ensure_dbt_sources()
    con = connect()
    try:
        if s.warehouse == "duckdb":
            retention.ensure_retention_log(con)
        cursor = con.cursor()
        for statement in [*ROWS, *MARTS]:
            cursor.execute(statement)
    finally:
        con.close()


def test_the_summary_and_the_run_s_questions_are_the_same_on_duckdb_and_snowflake(tmp_path, samples_dir, snowflake_db):
    landing = tmp_path / "landing"
    shutil.copytree(samples_dir / FOLDER, landing / FOLDER)
    duck = fb_settings.load({"FOODBANK_HOME": str(tmp_path / "duck"), "FOODBANK_LANDING_URI": str(landing)})
    snow = snowflake_db.settings(FOODBANK_HOME=str(tmp_path / "snow"), FOODBANK_LANDING_URI=str(landing))
    assert report.files_in_ledger(duck) is None  # no warehouse yet: nothing to reuse
    _prepare(duck, landing, lambda: duckdb.connect(str(duck.duckdb_path)))
    _prepare(snow, landing, snowflake_db.connect)

    answers = {
        s.warehouse: (report.summary(s), report.business_days(s), report.files_in_ledger(s)) for s in (duck, snow)
    }
    assert answers["snowflake"] == answers["duckdb"]

    summary, days, files = answers["duckdb"]
    assert days == ["2026-10-28", "2026-10-29", "2026-10-30", "2026-10-31"]
    assert files == 2
    lines = summary.splitlines()
    assert lines[0] == "rows per layer:"
    counted = [line.split()[0] for line in lines[1 : lines.index("data-quality findings:")]]
    assert counted[0] == "raw.intake__donation_lines" and "raw.wms__inventory_transactions" in counted
    assert counted[-4:] == ["audit.dq_missing_skus", "audit.file_ledger", "audit.quarantine", "audit.retention_log"]
    assert "canonical.inventory_events" in counted and "marts.finance_close" in counted
    assert "  failed files: 0, quarantined rows: 0" in lines and "  dq_missing_skus: 2" in lines
    assert any(line.startswith("  2026-10-31  held ") and "roll_forward_break 1" in line for line in lines)
    variances = lines[lines.index("largest inventory variances (book vs warehouse on-hand):") + 1 :]
    assert [line.split()[1] for line in variances[2:5]] == ["SKU-4", "SKU-2", "SKU-3"]  # largest first
