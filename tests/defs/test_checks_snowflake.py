"""The data-quality checks on either warehouse: one definition per rule, run through Dagster (the code
location's own check definitions and resources) once on DuckDB and once on the Snowflake emulator with
`FOODBANK_WAREHOUSE=snowflake`, give the same findings, in the results and in `audit.dq_<check>`.

The contract samples and the malformed corpus load into raw on each warehouse (the raw assets, as
production runs them): its unreadable files and rows are the failed-files and quarantine findings. The tables the other rules read (staging, canonical,
reconciliation, marts: dbt's, which does not run on the emulator) are seeded with the same rows on both,
each rule given a known defect. The missing-files rule is evaluated as of a fixed tick.

Emulator gaps (fakesnow 0.12.1): a qualified temporary table cannot be created, while an unqualified one is
accepted whatever the session's schema, so `quality.Session` makes `audit` the session's schema and creates
`_findings` unqualified (which Snowflake resolves there); the role's privileges (V1.12: CREATE TABLE on
audit for the runs' role) are not modelled, so nothing here shows the grant is enough. The examples are the
first rows of the findings as stored: Snowflake keeps no order for a table, the emulator (DuckDB) does, so
on Snowflake they are ten findings, not necessarily the first ten by the check's ORDER BY.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from dagster import AssetCheckKey, DagsterInstance, materialize
from malformed_corpus import CORPUS

from foodbank_platform import quality
from foodbank_platform import settings as fb_settings
from foodbank_platform.definitions import build_definitions
from foodbank_platform.defs import checks
from foodbank_platform.defs.assets.raw import raw_asset
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow

TABLES = [
    catalog.table(name)
    for name in ("wms__inventory_transactions", "manual_adjustments__adjustments", "usda_tefap__receipts")
]
AS_OF = "2026-11-02T12:00:00-08:00"
DAY = date(2026, 10, 30)

# Written once, run on both warehouses: the rows dbt would have built, each rule with a defect.
SEED = [
    "CREATE SCHEMA IF NOT EXISTS staging",
    "CREATE SCHEMA IF NOT EXISTS canonical",
    "CREATE SCHEMA IF NOT EXISTS reconciliation",
    "CREATE SCHEMA IF NOT EXISTS marts",
    "CREATE TABLE staging.stg_wms__items (sku VARCHAR, is_deleted BOOLEAN)",
    "INSERT INTO staging.stg_wms__items VALUES ('SKU-1', FALSE), ('SKU-2', FALSE), ('SKU-OLD', TRUE)",
    "CREATE TABLE canonical.inventory_events (source_system VARCHAR, source_record_id VARCHAR, sku VARCHAR, "
    "business_date DATE, is_reversal BOOLEAN)",
    "INSERT INTO canonical.inventory_events VALUES ('wms', '1', 'SKU-1', '2026-10-29', FALSE), "
    "('wms', '2', 'SKU-9', '2026-10-30', FALSE), ('wms', '2', 'SKU-9', '2026-10-31', TRUE), "
    "('manual_adjustments', 'ADJ-1', 'SKU-OLD', '2026-10-30', FALSE)",
    "CREATE TABLE canonical.donations (donation_line_id BIGINT, sku VARCHAR, business_date DATE)",
    "INSERT INTO canonical.donations VALUES (10, 'SKU-2', '2026-10-29'), (11, 'SKU-X', '2026-10-30'), "
    "(12, NULL, '2026-10-30')",
    "CREATE TABLE canonical.agency_orders (order_id VARCHAR, order_line_id VARCHAR)",
    "INSERT INTO canonical.agency_orders VALUES ('O-1', 'O-1-1'), ('O-2', 'O-2-1')",
    "CREATE TABLE canonical.fulfillment_line_items (business_date DATE, shipment_line_id VARCHAR, order_id VARCHAR, "
    "order_line_id VARCHAR, agency_id VARCHAR, sku VARCHAR)",
    "INSERT INTO canonical.fulfillment_line_items VALUES ('2026-10-30', 'S-1', 'O-1', 'O-1-1', 'A-1', 'SKU-1'), "
    "('2026-10-30', 'S-2', 'O-2', 'O-2-9', 'A-2', 'SKU-2'), ('2026-10-31', 'S-3', 'O-7', 'O-7-1', 'A-3', 'SKU-Z')",
    "CREATE TABLE staging.stg_usda_tefap__receipts (bol_number VARCHAR, line_number BIGINT, sku VARCHAR, "
    "received_date DATE)",
    "INSERT INTO staging.stg_usda_tefap__receipts VALUES ('BOL1', 1, 'SKU-1', '2026-10-30'), "
    "('BOL1', 2, NULL, '2026-10-30'), ('BOL2', 1, 'SKU-T', '2026-10-31')",
    *(
        f"CREATE TABLE reconciliation.{r} (business_date DATE, subject VARCHAR, status VARCHAR, cases_variance DOUBLE)"
        for r in ("book_vs_onhand", "shipments_vs_orders")
    ),
    "INSERT INTO reconciliation.book_vs_onhand VALUES ('2026-10-29', 'L1', 'variance', 0.25), "
    "('2026-10-30', 'L2', 'variance', -3.0), ('2026-10-30', 'L3', 'missing_onhand', NULL), "
    "('2026-10-31', 'L4', 'matched', 0.0)",
    "INSERT INTO reconciliation.shipments_vs_orders VALUES ('2026-10-30', 'O-1', 'short', 1.0), "
    "('2026-10-31', 'O-2', 'matched', 0.0)",
    "CREATE TABLE marts.finance_exceptions (business_date DATE, finance_rule VARCHAR, effect VARCHAR, "
    "subject VARCHAR, detail VARCHAR, cases DOUBLE, lbs DOUBLE, value_usd DOUBLE)",
    "INSERT INTO marts.finance_exceptions VALUES "
    "('2026-10-29', 'negative_balance', 'published', 'A|L1|X', 'closing below zero', -2.0, -20.0, -39.4), "
    "('2026-10-30', 'negative_balance', 'published', 'B|L2|Y', 'closing below zero', -1.0, -10.0, -19.7), "
    "('2026-10-30', 'roll_forward_break', 'holds_day', 'C|L3|Z', 'opening 4 <> closing 5', 1.0, 10.0, 19.7), "
    "('2026-10-31', 'duplicate_donation_id', 'holds_lines', 'DN-1', 'donation 1 line 2', 3.0, 30.0, 59.1)",
]


def _run_checks(s: fb_settings.Settings, tags: dict[str, str] | None = None) -> dict[str, tuple]:
    """Every data-quality check of the code location, in one run: (passed, failed_rows, examples) by check
    and asset."""
    defs = build_definitions(s)
    keys = {
        key
        for c in checks.data_quality_checks
        for key in c.check_keys
        if key.asset_key.path[0] != "raw"
        or key.asset_key.path[-1] in {t.raw_table for t in TABLES}
        or key.name == "missing_files"
    }
    job = defs.resolve_implicit_global_asset_job_def().get_subset(asset_check_selection=keys, asset_selection=set())
    result = job.execute_in_process(
        instance=DagsterInstance.ephemeral(), tags={"foodbank/as_of": AS_OF, **(tags or {})}
    )
    assert result.success
    out = {}
    for e in result.get_asset_check_evaluations():
        meta = e.metadata
        out[f"{e.check_name}@{e.asset_key.to_user_string()}"] = (
            e.passed,
            meta["failed_rows"].value,
            meta["examples_json"].value,
        )
    assert {AssetCheckKey(k.asset_key, k.name) for k in keys} == {
        AssetCheckKey(e.asset_key, e.check_name) for e in result.get_asset_check_evaluations()
    }
    return out


def _stored(cursor, snowflake: bool) -> dict[str, list[tuple]]:
    """Every audit.dq_* table's rows, as text (the two engines' drivers give different Python types for the
    same value only where a float is a Decimal), sorted."""
    schema = "'AUDIT'" if snowflake else "'audit'"
    cursor.execute(f"SELECT table_name FROM information_schema.tables WHERE table_schema = {schema}")
    names = sorted(r[0].lower() for r in cursor.fetchall() if r[0].lower().startswith("dq_"))
    out = {}
    for name in names:
        cursor.execute(f"SELECT * FROM audit.{name}")
        out[name] = sorted(tuple("" if v is None else str(v) for v in row) for row in cursor.fetchall())
    return out


@pytest.fixture
def settings_both(tmp_path, lay_out_samples, samples_dir, snowflake_db):
    landing = lay_out_samples(tmp_path / "landing")
    for key, data, _ in CORPUS:
        (landing / key).parent.mkdir(parents=True, exist_ok=True)
        (landing / key).write_bytes(data)
    common = {"FOODBANK_LANDING_URI": str(landing), "FOODBANK_SFTP_URI": str(samples_dir / "sftp" / "outbound")}
    duck = fb_settings.load({"FOODBANK_HOME": str(tmp_path / "duck"), **common})
    snow = snowflake_db.settings(FOODBANK_HOME=str(tmp_path / "snow"), **common)
    return duck, snow


def _load_and_seed(s: fb_settings.Settings, connect) -> None:
    defs = build_definitions(s)
    resources = {k: defs.resources[k] for k in ("landing", "warehouse")}
    assert materialize([raw_asset(t) for t in TABLES], resources=resources).success
    con = connect()
    cursor = con.cursor()
    for statement in SEED:
        cursor.execute(statement)
    con.close()


def test_the_checks_find_the_same_on_duckdb_and_snowflake(settings_both, snowflake_db):
    duck, snow = settings_both
    _load_and_seed(duck, lambda: duckdb.connect(str(duck.duckdb_path)))
    _load_and_seed(snow, snowflake_db.connect)

    on_duckdb = _run_checks(duck)
    on_snowflake = _run_checks(snow)
    assert on_snowflake == on_duckdb

    # the known defects, found on both
    failed = {k: v[1] for k, v in on_duckdb.items() if v[1]}
    assert failed["missing_skus@canonical/inventory_events"] == 5
    assert failed["orphaned_fulfillment@canonical/fulfillment_line_items"] == 2
    assert failed["variance_book_vs_onhand@reconciliation/book_vs_onhand"] == 2
    assert failed["variance_shipments_vs_orders@reconciliation/shipments_vs_orders"] == 1
    assert failed["negative_balance@marts/finance_exceptions"] == 2
    assert failed["roll_forward_break@marts/finance_exceptions"] == 1
    assert failed["quarantined_rows@raw/wms__inventory_transactions"] > 0
    assert failed["failed_files@raw/wms__inventory_transactions"] > 0
    assert not on_duckdb["roll_forward_break@marts/finance_exceptions"][0]

    with duckdb.connect(str(duck.duckdb_path), read_only=True) as con:
        stored_duckdb = _stored(con.cursor(), snowflake=False)
    sf = snowflake_db.connect()
    try:
        stored_snowflake = _stored(sf.cursor(), snowflake=True)
    finally:
        sf.close()
    assert set(stored_duckdb) == {c.table.split(".")[1] for c in quality.CHECKS} | {"dq_missing_files"}
    assert stored_snowflake == stored_duckdb


def test_a_day_scoped_check_replaces_only_its_days_on_snowflake(settings_both, snowflake_db):
    _, snow = settings_both
    _load_and_seed(snow, snowflake_db.connect)
    _run_checks(snow)
    sf = snowflake_db.connect()
    cursor = sf.cursor()
    cursor.execute("DELETE FROM marts.finance_exceptions WHERE business_date = '2026-10-29'")
    cursor.execute("UPDATE marts.finance_exceptions SET detail = 'again' WHERE business_date = '2026-10-30'")
    day = {"dagster/partition": DAY.isoformat()}
    again = _run_checks(snow, tags=day)
    assert again["negative_balance@marts/finance_exceptions"][1] == 1
    cursor.execute("SELECT business_date, subject, detail FROM audit.dq_negative_balance ORDER BY 1")
    kept = cursor.fetchall()
    sf.close()
    assert kept == [(date(2026, 10, 29), "A|L1|X", "closing below zero"), (DAY, "B|L2|Y", "again")]
