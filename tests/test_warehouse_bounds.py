"""Every DuckDB connection the platform opens is bounded: the memory limit and the spill folder of the
settings (FOODBANK_DUCKDB_MEMORY_LIMIT, FOODBANK_DUCKDB_TEMP_DIR), applied by `warehouse.bounded`.
The dbt side (profiles.yml through `dbt_env`) is tested in test_dbt_runtime.py; the loader opens no
connection of its own (the raw assets hand it the warehouse resource's)."""

from __future__ import annotations

import duckdb
import pytest

from foodbank_platform import settings, warehouse
from foodbank_platform.defs.resources import WarehouseResource, build_resources
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore

SHOWN = "SELECT current_setting('memory_limit'), current_setting('temp_directory')"


def bounds_of(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    return con.execute(SHOWN).fetchone()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """The environment of a deployment that sets both bounds."""
    monkeypatch.setenv("FOODBANK_HOME", str(tmp_path))
    monkeypatch.delenv("FOODBANK_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("FOODBANK_DUCKDB_MEMORY_LIMIT", "384MiB")
    monkeypatch.setenv("FOODBANK_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    return settings.load()


def test_settings_default_to_a_limit_and_a_folder_under_home(tmp_path):
    s = settings.load({"FOODBANK_HOME": str(tmp_path)})
    assert s.duckdb_memory_limit == settings.DUCKDB_MEMORY_LIMIT == "1GB"
    assert s.duckdb_temp_dir == tmp_path / "duckdb_tmp"
    assert warehouse.duckdb_settings(s) == {"memory_limit": "1GB", "temp_directory": str(tmp_path / "duckdb_tmp")}


def test_warehouse_connections_take_the_environments_bounds(env):
    with warehouse.connect(env.duckdb_path) as con:
        assert bounds_of(con) == ("384.0 MiB", str(env.home / "spill"))
    with warehouse.connect_read_only(env.duckdb_path) as con:
        assert bounds_of(con) == ("384.0 MiB", str(env.home / "spill"))


def test_given_bounds_win(env):
    given = {"memory_limit": "256MiB", "temp_directory": str(env.home / "other")}
    with warehouse.connect(env.duckdb_path, given) as con:
        assert bounds_of(con) == ("256.0 MiB", str(env.home / "other"))


def test_the_warehouse_resource_writes_and_reads_within_its_settings_bounds(env, tmp_path, monkeypatch):
    resource = build_resources(env)["warehouse"]
    # The resource carries the values (a run launched elsewhere uses them, whatever its environment).
    monkeypatch.setenv("FOODBANK_DUCKDB_MEMORY_LIMIT", "2GiB")
    with resource.connect() as con:
        assert bounds_of(con) == ("384.0 MiB", str(tmp_path / "spill"))
        # what the loader runs on: the raw assets hand it this connection
        load_new_files(LocalStore(tmp_path / "landing"), con)
        assert bounds_of(con.cursor()) == ("384.0 MiB", str(tmp_path / "spill"))
    with resource.read() as con:
        assert bounds_of(con) == ("384.0 MiB", str(tmp_path / "spill"))


def test_a_resource_built_without_bounds_takes_the_environments(env):
    with WarehouseResource(duckdb_path=str(env.duckdb_path)).connect() as con:
        assert bounds_of(con) == ("384.0 MiB", str(env.home / "spill"))


def test_a_query_beyond_the_limit_spills_to_the_folder(env):
    with warehouse.connect(env.duckdb_path, {"memory_limit": "64MiB", "temp_directory": str(env.home / "s")}) as con:
        con.execute("SET threads = 1")
        n = con.execute(
            "SELECT count(DISTINCT h) FROM (SELECT md5(range::VARCHAR) AS h FROM range(3000000) ORDER BY h)"
        ).fetchone()[0]
        assert n == 3000000
        assert (env.home / "s").is_dir()


def test_a_connection_to_a_database_that_has_spilled_opens(env):
    """DuckDB refuses SET temp_directory once it has spilled, even to the same folder: a second connection
    of the process (the checks after the loader, say) must still open."""
    bounds = {"memory_limit": "64MiB", "temp_directory": str(env.home / "s")}
    with warehouse.connect(env.duckdb_path, bounds) as first:
        first.execute("SET threads = 1")
        first.execute("SELECT count(DISTINCT h) FROM (SELECT md5(range::VARCHAR) AS h FROM range(3000000) ORDER BY h)")
        assert (env.home / "s").is_dir()
        with warehouse.connect(env.duckdb_path, bounds) as second:
            assert bounds_of(second) == ("64.0 MiB", str(env.home / "s"))
