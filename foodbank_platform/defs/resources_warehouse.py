"""The warehouse resource on DuckDB (the default): each connection bounded (memory limit, spill folder),
writers waiting for DuckDB's one write lock, the sensors reading without waiting. Apart from
`resources.py` so that `resources_snowflake.py`, the same resource on Snowflake, builds on it
without an import cycle; both are imported from `resources.py`.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Iterator

import duckdb
from dagster import ConfigurableResource, EnvVar

from .. import retention, warehouse
from ..ingest import ledger
from ..ingest.loader import DuckDBTarget, RawTarget


def secret(name: str, value: str | None) -> str | EnvVar | None:
    """A secret setting for a resource: Dagster's `EnvVar(name)` when the process environment holds it,
    so the code location hands the webserver the variable's name and never its value (the UI's resource
    page shows configured values); else the value itself (settings built from another mapping)."""
    return EnvVar(name) if value and os.environ.get(name) == value else value


class WarehouseBusy(Exception):
    """A run holds the DuckDB file (one writing process): a sensor looks again on its next tick."""


def _read_only(path: str, bounds: dict[str, str]) -> duckdb.DuckDBPyConnection | None:
    if not Path(path).exists():
        return None
    try:
        return warehouse.connect_read_only(path, bounds)
    except duckdb.IOException as e:
        raise WarehouseBusy(str(e)) from e


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse, each connection within a memory limit and spilling to `temp_directory`
    (unset: the environment's FOODBANK_DUCKDB_MEMORY_LIMIT and FOODBANK_DUCKDB_TEMP_DIR, settings.py)."""

    duckdb_path: str
    lock_retries: int = 20
    memory_limit: str | None = None
    temp_directory: str | None = None

    def bounds(self) -> dict[str, str]:
        """The DuckDB settings every connection of this resource gets (`warehouse.bounded`)."""
        given = {"memory_limit": self.memory_limit, "temp_directory": self.temp_directory}
        return {name: given[name] or value for name, value in warehouse.duckdb_settings().items()}

    @contextlib.contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        # DuckDB allows one writing process; a dbt build or another loader may hold the file for a
        # few seconds, so wait for it rather than fail the run.
        delay = 0.5
        for attempt in range(self.lock_retries):
            try:
                con = warehouse.connect(self.duckdb_path, self.bounds())
                break
            except duckdb.IOException as e:
                if "lock" not in str(e).lower() or attempt == self.lock_retries - 1:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 10)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def dbapi(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DB-API connection to the warehouse, for SQL written to run on either warehouse (the
        data-quality checks, `quality.py`): here, `connect()`'s DuckDB connection."""
        with self.connect() as con:
            yield con

    def ensure_dbt_sources(self) -> None:
        """Every table dbt reads as a source exists, even for a source that has delivered nothing yet (a fresh
        warehouse): here the ledger's tables and the catalog's raw tables are made, or given the columns the
        catalog gained."""
        with self.connect() as con:
            ledger.ensure(con)
            warehouse.ensure_raw_tables(con)

    @contextlib.contextmanager
    def raw_target(self) -> Iterator[RawTarget]:
        """Where the raw loads commit (`ingest/loader.py`): here, the DuckDB file's own transaction."""
        with self.connect() as con:
            yield DuckDBTarget(con)

    @contextlib.contextmanager
    def retention_side(self) -> Iterator[retention.WarehouseSide]:
        """Where retention exports from and deletes (`retention.py`): here, the DuckDB file."""
        with self.connect() as con:
            yield retention.DuckDBSide(con)

    @contextlib.contextmanager
    def read_dbapi(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A sensor's DB-API connection, for SQL written to run on either warehouse (late_data_sensor's
        ledger query, `watch.py`): here, `read()`'s."""
        with self.read() as con:
            yield con

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection | None]:
        """A read-only connection for the sensors, None before the first load; never waits for a
        writer: raises WarehouseBusy instead."""
        con = _read_only(self.duckdb_path, self.bounds())
        try:
            yield con
        finally:
            if con is not None:
                con.close()
