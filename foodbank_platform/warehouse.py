"""The one place that talks to the local warehouse (DuckDB).

Schemas follow docs/design.md: `raw` (append-only, one table per catalog entry), `staging`,
`canonical`, `reconciliation`, `marts` (built by dbt) and `audit` (ledger, quarantine, findings).
Raw tables are created from the catalog, so a new source table needs no DDL by hand; a column the
source adds at the end is added here as text the first time a file carries it.

In production the raw load runs in Snowflake with `COPY INTO` (deploy/snowflake); everything above
raw is the same dbt project on either warehouse.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .sources import catalog
from .sources.catalog import DUCKDB_TYPES, LINEAGE, SourceTable

SCHEMAS = ("raw", "staging", "canonical", "reconciliation", "marts", "audit")


def connect(path: Path | str) -> duckdb.DuckDBPyConnection:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return con


def row_count(con: duckdb.DuckDBPyConnection, table: SourceTable) -> int:
    """Rows in the table's raw table now (0 before its first load): what the raw asset reports."""
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = ?", [table.raw_table]
    ).fetchone()[0]
    return con.execute(f"SELECT count(*) FROM raw.{table.raw_table}").fetchone()[0] if exists else 0


def lock_holder(path: Path | str) -> str | None:
    """Who holds the DuckDB file's write lock ("PID 123 (python3 -m …)"), or None when it is free.

    DuckDB lets one process write a file; a second writer gets an IO error naming the holder's PID."""
    if not Path(path).exists():
        return None
    try:
        duckdb.connect(str(path)).close()
        return None
    except duckdb.IOException as e:
        if "lock" not in str(e).lower():
            raise
        found = re.search(r"PID (\d+)", str(e))
        if not found:
            return "another process"
        pid = found.group(1)
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            command = ""
        return f"PID {pid}" + (f" ({command})" if command else "")


def raw_columns(table: SourceTable) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a raw table, in order: DMS meta, the source's columns, lineage."""
    meta = [("op", "VARCHAR"), ("dms_commit_ts", "TIMESTAMP"), ("dms_change_seq", "VARCHAR")]
    own = [(c.name, DUCKDB_TYPES[c.type]) for c in table.columns]
    lineage = [(c.name, DUCKDB_TYPES[c.type]) for c in LINEAGE]
    return (meta if table.is_dms else []) + own + lineage


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
    existing = existing_columns(con, f"raw.{table.raw_table}")
    if not existing:
        cols = ", ".join(f'"{n}" {t}' for n, t in raw_columns(table))
        con.execute(f"CREATE TABLE IF NOT EXISTS raw.{table.raw_table} ({cols})")
        return
    # Columns the catalog gained since the table was created (old rows read NULL).
    for name, typ in raw_columns(table):
        if name not in existing:
            con.execute(f'ALTER TABLE raw.{table.raw_table} ADD COLUMN "{name}" {typ}')


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    for table in catalog.TABLES:
        ensure_raw_table(con, table)


def existing_columns(con: duckdb.DuckDBPyConnection, qualified: str) -> list[str]:
    schema, name = qualified.split(".")
    # duckdb_columns() rather than information_schema: the same facts without building the views.
    rows = con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND table_name = ? "
        "AND database_name = current_database() ORDER BY column_index",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows]


def add_drift_columns(con: duckdb.DuckDBPyConnection, table: SourceTable, names: list[str]) -> None:
    if not names:
        return
    existing = set(existing_columns(con, f"raw.{table.raw_table}"))
    for name in names:
        if name not in existing:
            con.execute(f'ALTER TABLE raw.{table.raw_table} ADD COLUMN "{name}" VARCHAR')
