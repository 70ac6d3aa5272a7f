"""The finance close's per-day metadata (`dbt.close_metadata`, what `close_by_day` records on each
`marts/finance_close` partition) over the warehouse resource's `dbapi()` connection: the same marts rows
(tests/marts_seed.py) give the same metadata on DuckDB and on the Snowflake emulator."""

from __future__ import annotations

from dagster import build_resources
from marts_seed import FIRST, HELD, RESTATED, seed_both

from foodbank_platform import settings as fb_settings
from foodbank_platform.definitions import build_definitions
from foodbank_platform.defs.assets import dbt


def _metadata(s: fb_settings.Settings) -> dict:
    with build_resources({"warehouse": build_definitions(s).resources["warehouse"]}) as resources:
        with resources.warehouse.dbapi() as con:
            return {day: dbt.close_metadata(con, day) for day in (FIRST, RESTATED, HELD)}


def test_close_metadata_is_the_same_on_duckdb_and_snowflake(tmp_path, snowflake_db):
    duck, snow = seed_both(tmp_path, snowflake_db)
    on_duckdb = _metadata(duck)
    on_snowflake = _metadata(snow)
    assert on_snowflake == on_duckdb
    restated = on_duckdb[RESTATED]
    assert restated["status"].value == "published" and restated["restated_by_run"].value == "run-2"
    assert restated["restated"].value == {
        "before": {"receipts_lbs": 250.0, "distributions_lbs": 140.0, "closing_lbs": 1287.0},
        "after": {"receipts_lbs": 275.25, "distributions_lbs": 140.0, "closing_lbs": 1312.25},
    }
    assert restated["received_lbs/tefap"].value == 100.0
    assert on_duckdb[HELD]["status"].value == "held" and "closing_lbs" not in on_duckdb[HELD]
    assert "roll_forward_break 1 (holds the day)" in on_duckdb[HELD]["exceptions"].value
