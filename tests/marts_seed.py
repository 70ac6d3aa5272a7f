"""The finance marts a close reads (`marts.finance_close`, `finance_exceptions`, `finance_rollforward_daily`),
seeded alike on DuckDB and on the Snowflake emulator: what dbt would have built for three business days.

30 October is published and restated (publication 2, the receipts moved), 31 October is held by a roll-forward
break, 29 October is published as it was first; the roll-forward holds the published days (29 and 30),
two warehouses and two programs. Column types as the models declare them (decimal(18,2), bigint, date)."""

from __future__ import annotations

from datetime import date

RESTATED, HELD, FIRST = date(2026, 10, 30), date(2026, 10, 31), date(2026, 10, 29)

_MONEY = "DECIMAL(18,2)"
_FLOWS = [
    f"{m}_{u}"
    for m in (
        "opening",
        "receipts",
        "transfers_in",
        "transfers_out",
        "adjustments",
        "spoilage",
        "distributions",
        "closing",
    )
    for u in ("lbs", "usd")
]


def _rollforward_row(day: str, warehouse: str, program: str, opening: float, received: float, shipped: float) -> str:
    # usd at 2 dollars a pound; 1 lb spoiled, 2 lbs moved out of WH1 into WH2, 0.5 lb adjusted up
    moved_in, moved_out = (2.0, 0.0) if warehouse == "WH2" else (0.0, 2.0)
    closing = opening + received + moved_in - moved_out + 0.5 - 1.0 - shipped
    lbs = [opening, received, moved_in, moved_out, 0.5, 1.0, shipped, closing]
    values = [v for x in lbs for v in (x, 2 * x)]
    return f"('{day}', '{warehouse}', '{program}', " + ", ".join(f"{v:.2f}" for v in values) + ")"


SEED = [
    "CREATE SCHEMA IF NOT EXISTS marts",
    "CREATE TABLE marts.finance_close (business_date DATE, status VARCHAR, findings_by_rule VARCHAR, "
    "publication_version BIGINT, published_by_run VARCHAR, is_restated BOOLEAN, restated_by_run VARCHAR, "
    f"previous_receipts_lbs {_MONEY}, previous_distributions_lbs {_MONEY}, previous_closing_lbs {_MONEY}, "
    f"receipts_lbs {_MONEY}, distributions_lbs {_MONEY}, closing_lbs {_MONEY})",
    "INSERT INTO marts.finance_close VALUES "
    "('2026-10-29', 'published', NULL, 1, 'run-1', FALSE, NULL, NULL, NULL, NULL, 300.00, 120.00, 1180.50), "
    "('2026-10-30', 'published', 'negative_balance 1', 2, 'run-1', TRUE, 'run-2', 250.00, 140.00, 1287.00, "
    "275.25, 140.00, 1312.25), "
    "('2026-10-31', 'held', 'roll_forward_break 1, duplicate_donation_id 2', 0, NULL, FALSE, NULL, NULL, NULL, "
    "NULL, 80.00, 10.00, 1380.75)",
    "CREATE TABLE marts.finance_exceptions (business_date DATE, finance_rule VARCHAR, effect VARCHAR, "
    f"subject VARCHAR, detail VARCHAR, cases {_MONEY}, lbs {_MONEY}, value_usd {_MONEY})",
    "INSERT INTO marts.finance_exceptions VALUES "
    "('2026-10-30', 'negative_balance', 'published', 'WH1|L2|SKU-9', 'closing below zero', -1.00, -10.00, -19.70), "
    "('2026-10-31', 'duplicate_donation_id', 'holds_lines', 'DN-7', 'donation 7 line 2', 3.00, 30.00, 59.10), "
    "('2026-10-31', 'roll_forward_break', 'holds_day', 'WH2|L3|SKU-1', 'opening 4 <> closing 5', 1.00, 10.00, 19.70), "
    "('2026-10-31', 'duplicate_donation_id', 'holds_lines', 'DN-3', 'donation 3 line 1', 2.00, 20.00, 39.40)",
    "CREATE TABLE marts.finance_rollforward_daily (business_date DATE, warehouse_code VARCHAR, "
    "source_program VARCHAR, " + ", ".join(f"{c} {_MONEY}" for c in _FLOWS) + ")",
    "INSERT INTO marts.finance_rollforward_daily VALUES "
    + ", ".join(
        [
            _rollforward_row("2026-10-29", "WH1", "purchased", 400.0, 100.0, 60.0),
            _rollforward_row("2026-10-29", "WH1", "tefap", 200.0, 150.0, 30.0),
            _rollforward_row("2026-10-29", "WH2", "purchased", 300.5, 50.0, 30.0),
            _rollforward_row("2026-10-30", "WH1", "purchased", 437.5, 125.25, 70.0),
            _rollforward_row("2026-10-30", "WH1", "tefap", 317.5, 100.0, 40.0),
            _rollforward_row("2026-10-30", "WH2", "purchased", 322.0, 50.0, 30.0),
        ]
    ),
]


def seed(cursor) -> None:
    for statement in SEED:
        cursor.execute(statement)


def seed_both(tmp_path, snowflake_db) -> tuple:
    """The same rows in a DuckDB file and on the emulator: (DuckDB settings, Snowflake settings), each with
    its own FOODBANK_HOME under `tmp_path`."""
    import duckdb

    from foodbank_platform import settings as fb_settings

    duck = fb_settings.load({"FOODBANK_HOME": str(tmp_path / "duck")})
    duck.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(duck.duckdb_path)) as con:
        seed(con.cursor())
    sf = snowflake_db.connect()
    try:
        seed(sf.cursor())
    finally:
        sf.close()
    return duck, snowflake_db.settings(FOODBANK_HOME=str(tmp_path / "snow"))
