"""The warehouse resource's `ensure_dbt_sources()`, what dbt_operations asks before `dbt build`: on DuckDB
it makes what a fresh warehouse lacks; on the Snowflake emulator, migrated as production is, it finds every
table and column dbt reads, and names what a missing migration would leave out rather than make it (the
runs' role may not create tables in raw)."""

from __future__ import annotations

import duckdb
import pytest
from dagster import build_resources

from foodbank_platform import settings as fb_settings
from foodbank_platform import warehouse
from foodbank_platform.definitions import build_definitions
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow


def _ensure(s: fb_settings.Settings) -> None:
    with build_resources({"warehouse": build_definitions(s).resources["warehouse"]}) as resources:
        resources.warehouse.ensure_dbt_sources()


def test_on_duckdb_a_fresh_warehouse_gets_every_source(tmp_path):
    s = fb_settings.load({"FOODBANK_HOME": str(tmp_path)})
    with duckdb.connect(str(s.duckdb_path)) as con:
        before = warehouse.missing_dbt_sources(con)
    assert set(before) == {"audit.file_ledger", "audit.quarantine"} | {f"raw.{t.raw_table}" for t in catalog.TABLES}
    _ensure(s)
    with duckdb.connect(str(s.duckdb_path)) as con:
        assert warehouse.missing_dbt_sources(con) == []
        con.execute("ALTER TABLE raw.wms__items DROP COLUMN description")
    _ensure(s)  # a column the catalog gained since the table was made is added
    with duckdb.connect(str(s.duckdb_path)) as con:
        assert warehouse.missing_dbt_sources(con) == []


def test_on_snowflake_the_migrations_made_every_source_and_a_missing_one_is_named(tmp_path, snowflake_db):
    from foodbank_platform.defs.resources_snowflake import MissingDbtSources

    s = snowflake_db.settings(FOODBANK_HOME=str(tmp_path))
    _ensure(s)  # the migrations made them all
    con = snowflake_db.connect()
    try:
        assert warehouse.missing_dbt_sources(con) == []
        cursor = con.cursor()
        cursor.execute("DROP TABLE raw.wms__items")
        cursor.execute("ALTER TABLE raw.intake__donors DROP COLUMN _load_id")
    finally:
        con.close()
    with pytest.raises(MissingDbtSources) as failed:
        _ensure(s)
    message = str(failed.value)
    assert "raw.wms__items, raw.intake__donors._load_id;" in message
    assert snowflake_db.database in message and "deploy/snowflake/migrations" in message
    con = snowflake_db.connect()
    try:
        assert warehouse.missing_dbt_sources(con) == ["raw.wms__items", "raw.intake__donors._load_id"]
    finally:
        con.close()
