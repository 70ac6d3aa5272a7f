"""The one place that talks to the local warehouse (DuckDB).

Raw tables are made from the catalog, so a new source table needs no DDL by hand, and a column a source adds
at the end arrives as text the first time a file carries it. The schemas (`raw` … `audit`) and what each
holds: docs/design.md, "Warehouse schemas and the tables others rely on".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import duckdb

from . import settings as fb_settings
from .sources import catalog
from .sources.catalog import DUCKDB_TYPES, LINEAGE, SourceTable

SCHEMAS = ("raw", "staging", "canonical", "reconciliation", "marts", "audit")


def connect(path: Path | str, bounds: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing, within `bounds` (default: the environment's `duckdb_settings`)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = bounded(duckdb.connect(str(path)), bounds)
    for schema in SCHEMAS:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    return con


def connect_read_only(path: Path | str, bounds: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """For the reports people run while the platform works: never creates the file or takes the lock."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no warehouse at {path}: run `foodbank run` (or `make demo`) first")
    return bounded(duckdb.connect(str(path), read_only=True), bounds)


def duckdb_settings(s: fb_settings.Settings | None = None) -> dict[str, str]:
    """What bounds a DuckDB instance of the platform (default: the environment's settings): its memory
    limit and where it spills beyond it. The same values reach dbt's connections through profiles.yml
    (`dbt_runtime.dbt_env`)."""
    s = s or fb_settings.load()
    return {"memory_limit": s.duckdb_memory_limit, "temp_directory": str(s.duckdb_temp_dir)}


def bounded(con: duckdb.DuckDBPyConnection, bounds: Mapping[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """Apply `bounds` (DuckDB setting -> value; default: `duckdb_settings()`) to the connection's database.
    Every connection the platform opens goes through here. SET rather than connect-time config: DuckDB
    refuses a second connection to a file already open in the process with another config, and dbt's
    in-process adapter may hold one."""
    values = dict(bounds or duckdb_settings())
    # DuckDB makes the spill folder itself when it first spills, but not the folders above it.
    Path(values["temp_directory"]).parent.mkdir(parents=True, exist_ok=True)
    for name, value in values.items():
        # A database of this process that has spilled refuses any SET temp_directory, even to the same
        # folder: a setting already in force is left as it is.
        if name == "temp_directory" and con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == value:
            continue
        con.execute(f"SET {name} = '{value.replace(chr(39), chr(39) * 2)}'")
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
        bounded(duckdb.connect(str(path))).close()
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


# The loader's own tables that dbt reads as sources (ingest/ledger.py makes them on DuckDB).
LEDGER_TABLES = ("audit.file_ledger", "audit.quarantine")


def missing_dbt_sources(con) -> list[str]:
    """What dbt reads as a source and the warehouse lacks: a ledger table or a catalog's raw table
    (`schema.table`), or a column the catalog gives a raw table (`schema.table.column`). The same SQL on
    DuckDB and on Snowflake (`quality.Session`), names compared in lower case."""
    from .quality import Session

    rows = Session(con).execute(
        "SELECT lower(table_schema), lower(table_name), lower(column_name) FROM information_schema.columns "
        "WHERE lower(table_schema) IN ('raw', 'audit')"
    )
    present: dict[str, set[str]] = {}
    for schema, table, column in rows.fetchall():
        present.setdefault(f"{schema}.{table}", set()).add(column)
    wanted = {name: [] for name in LEDGER_TABLES} | {
        f"raw.{t.raw_table}": [n for n, _ in raw_columns(t)] for t in catalog.TABLES
    }
    missing = []
    for name, columns in wanted.items():
        if name not in present:
            missing.append(name)
            continue
        missing.extend(f"{name}.{c}" for c in columns if c.lower() not in present[name])
    return missing


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
