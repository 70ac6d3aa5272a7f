"""Snowflake SQL derived from the source catalog: the raw tables' columns and DDL.

The raw layer in Snowflake must have the same columns as the DuckDB raw layer the loader builds
locally (the dbt models run unchanged on both), so both derive from `sources/catalog.py`. The
migration `V1.7__raw_tables.sql` was rendered by `raw_table_ddl()`; the tests apply all migrations
on the emulator and compare the resulting columns with the catalog, so a drift fails loudly.

The load itself is not SQL over the landed files: the loader types and checks them (the same reader
as for DuckDB) and commits typed Parquet in one transaction (`foodbank_platform/ingest/snowflake_load.py`).
"""

from __future__ import annotations

from foodbank_platform.sources import catalog

SNOWFLAKE_TYPES = {
    "text": "VARCHAR",
    "bigint": "NUMBER(38,0)",
    "numeric": "NUMBER(14,2)",
    "timestamptz": "TIMESTAMP_NTZ",  # UTC
    "timestamp_local": "TIMESTAMP_NTZ",  # Pacific wall time as written; staging converts
    "date": "DATE",
    "boolean": "BOOLEAN",
    "yn": "BOOLEAN",
}


def raw_columns(table: catalog.SourceTable) -> list[tuple[str, str]]:
    own = (catalog.DMS_META if table.is_dms else ()) + table.columns
    names = [("op" if c.name == "Op" else c.name, SNOWFLAKE_TYPES[c.type]) for c in own]
    return names + [(c.name, SNOWFLAKE_TYPES[c.type]) for c in catalog.LINEAGE]


def raw_table_ddl(table: catalog.SourceTable) -> str:
    body = ",\n".join(f"    {name} {typ}" for name, typ in raw_columns(table))
    return f"CREATE TABLE IF NOT EXISTS raw.{table.raw_table} (\n{body}\n);"
