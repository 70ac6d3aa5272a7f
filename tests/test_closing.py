"""The finance close as finance reads it (`closing.py`, `foodbank close DATE`) on either warehouse: the same
marts rows (tests/marts_seed.py) in a DuckDB file and on the Snowflake emulator give the same close,
restatement, exceptions, roll-forwards and 30-day flows, and the command prints the same text.

Emulator gap: none known for these queries (plain SELECTs with DATE literals, CASE and sums); the emulator
runs them on DuckDB, so this shows the SQL and the connector's types agree, not Snowflake's planner."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest
from click.testing import CliRunner
from marts_seed import FIRST, HELD, RESTATED, seed_both

from foodbank_platform import closing
from foodbank_platform.cli import main

DAYS = (FIRST, RESTATED, HELD)


def _read(con) -> dict:
    out = {}
    for day in DAYS:
        rf = closing.roll_forward(con, day, day)
        month = closing.roll_forward(con, closing.month_start(day), day)
        rows = closing.exceptions(con, day)
        flows = closing.flows_by_program(con, day)
        out[day] = {
            "close": closing.close_day(con, day),
            "exceptions": rows,
            "roll_forward": rf,
            "month": month,
            "flows": flows,
            "text": [
                closing.rollforward_markdown(rf),
                closing.rollforward_text(month),
                closing.findings_markdown(rows),
                closing.findings_line(rows),
                closing.chart_text(flows),
            ],
        }
    return out


@pytest.fixture
def both(tmp_path, snowflake_db):
    """(DuckDB settings, Snowflake settings), the same marts rows seeded in each."""
    return seed_both(tmp_path, snowflake_db)


def test_the_close_reads_the_same_on_duckdb_and_snowflake(both, snowflake_db):
    duck, _ = both
    with duckdb.connect(str(duck.duckdb_path), read_only=True) as con:
        on_duckdb = _read(con)
    sf = snowflake_db.connect()
    try:
        on_snowflake = _read(sf)
    finally:
        sf.close()
    assert on_snowflake == on_duckdb

    restated = on_duckdb[RESTATED]["close"]
    assert (restated.status, restated.publication_version, restated.is_restated) == ("published", 2, True)
    assert restated.restated_by_run == "run-2"
    assert restated.previous["receipts_lbs"] == 250.0 and restated.current["receipts_lbs"] == 275.25
    assert not on_duckdb[FIRST]["close"].is_restated
    held = on_duckdb[HELD]
    assert held["close"].status == "held"
    # holds first (the day, then lines), then by rule and subject
    assert [(r[0], r[1], r[2]) for r in held["exceptions"]] == [
        ("roll_forward_break", "holds_day", "WH2|L3|SKU-1"),
        ("duplicate_donation_id", "holds_lines", "DN-3"),
        ("duplicate_donation_id", "holds_lines", "DN-7"),
    ]
    assert held["exceptions"][0][4:] == (Decimal("1.00"), Decimal("10.00"), Decimal("19.70"))
    assert not held["roll_forward"].rows  # a held day is not in the roll-forward
    # month to date over the published days: the opening of the 29th, the closing of the 30th
    month = held["month"]
    assert (month.programs, list(month.rows)) == (["purchased", "tefap"], ["WH1", "WH2", "total"])
    total = month.rows["total"]
    assert total["opening_lbs"] == 900.5 and total["received:purchased:lbs"] == 325.25
    assert total["closing_lbs"] == on_duckdb[RESTATED]["roll_forward"].rows["total"]["closing_lbs"]
    assert month.closes("lbs") and month.closes("usd")
    assert [(d, p) for d, p, _, _ in held["flows"]] == [
        (FIRST, "purchased"),
        (FIRST, "tefap"),
        (RESTATED, "purchased"),
        (RESTATED, "tefap"),
    ]


def test_foodbank_close_prints_the_same_on_duckdb_and_snowflake(both, snowflake_db):
    runner = CliRunner()
    environments = {
        "duckdb": {"FOODBANK_HOME": str(both[0].home)},
        "snowflake": {**snowflake_db.env, "FOODBANK_HOME": str(both[1].home)},
    }
    printed = {}
    for warehouse, env in environments.items():
        printed[warehouse] = {}
        for day in DAYS:
            result = runner.invoke(main, ["close", day.isoformat()], env=env)
            assert result.exit_code == 0, result.output
            printed[warehouse][day] = result.output
    assert printed["snowflake"] == printed["duckdb"]
    out = printed["duckdb"][RESTATED]
    assert "finance close 2026-10-30: published (publication 2, run run-1)" in out
    assert "restated by run run-2:" in out and "250.00 →           275.25" in out
    assert "roll_forward_break" in printed["duckdb"][HELD] and "holds the day" in printed["duckdb"][HELD]
