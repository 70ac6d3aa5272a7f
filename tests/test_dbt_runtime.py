"""Importing the code location and building the dbt project write nothing to the environment; the dbt
resource hands dbt the warehouse of its own settings, and their DuckDB bounds, for each command it runs
(dbt_runtime.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from foodbank_platform import settings
from foodbank_platform.dbt_runtime import DBT_PROJECT_DIR, dbt_env, dbt_project, dbt_resource


def test_importing_the_code_location_leaves_the_environment_as_it_was(tmp_path):
    probe = (
        "import os; before = dict(os.environ); import foodbank_platform.definitions; "
        "changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)); "
        "print(changed)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOODBANK_")}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "FOODBANK_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_building_the_dbt_project_writes_no_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("FOODBANK_DUCKDB_PATH", raising=False)
    s = settings.load({"FOODBANK_HOME": str(tmp_path)})
    dbt_project(s)
    assert "FOODBANK_DUCKDB_PATH" not in os.environ


def test_the_dbt_resource_runs_dbt_on_the_warehouse_of_its_settings_within_their_bounds(tmp_path, monkeypatch):
    """One dbt command (a dbt start costs ~25 s here): it opens the settings' warehouse, and its DuckDB has
    the settings' memory limit and spill folder (profiles.yml's `settings:`)."""
    for name in ("FOODBANK_DUCKDB_PATH", "FOODBANK_DUCKDB_MEMORY_LIMIT", "FOODBANK_DUCKDB_TEMP_DIR"):
        monkeypatch.delenv(name, raising=False)
    s = settings.load({"FOODBANK_HOME": str(tmp_path), "FOODBANK_DUCKDB_MEMORY_LIMIT": "640MiB"})
    resource = dbt_resource(s)
    assert (
        resource.env
        == dbt_env(s)
        == {
            "FOODBANK_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
            "FOODBANK_DUCKDB_MEMORY_LIMIT": "640MiB",
            "FOODBANK_DUCKDB_TEMP_DIR": str(tmp_path / "duckdb_tmp"),
        }
    )
    query = (
        "select current_setting('memory_limit') as memory_limit, current_setting('temp_directory') as temp_directory"
    )
    invocation = resource.cli(["show", "--inline", query, "--output", "json"], target_path=tmp_path / "target")
    previews = [
        e.raw_event["data"]["preview"] for e in invocation.stream_raw_events() if "preview" in e.raw_event["data"]
    ]
    assert invocation.is_successful()
    assert json.loads(previews[0]) == [{"memory_limit": "640.0 MiB", "temp_directory": str(tmp_path / "duckdb_tmp")}]
    assert (tmp_path / "warehouse.duckdb").exists()
    assert "FOODBANK_DUCKDB_PATH" not in os.environ and "FOODBANK_DUCKDB_MEMORY_LIMIT" not in os.environ


def test_the_profile_defaults_are_the_settings_defaults():
    """profiles.yml's fallbacks (dbt started by hand, without `dbt_env`) bound DuckDB as settings.py does."""
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    assert f"env_var('FOODBANK_DUCKDB_MEMORY_LIMIT', '{settings.DUCKDB_MEMORY_LIMIT}')" in profile
    assert "env_var('FOODBANK_DUCKDB_TEMP_DIR', '../.foodbank/duckdb_tmp')" in profile
    assert settings.load({"FOODBANK_HOME": str(DBT_PROJECT_DIR.parent / ".foodbank")}).duckdb_temp_dir == (
        DBT_PROJECT_DIR.parent / ".foodbank" / "duckdb_tmp"
    )


def test_a_dbt_command_starts_from_the_parse_of_the_last_one_like_it(tmp_path, monkeypatch):
    """Two dbt commands with the same settings: the first re-parses the project (the prepared manifest's
    profile is not this warehouse's), the resource keeps its parse, and the second parses nothing."""
    for name in ("FOODBANK_DUCKDB_PATH", "FOODBANK_DUCKDB_MEMORY_LIMIT", "FOODBANK_DUCKDB_TEMP_DIR"):
        monkeypatch.delenv(name, raising=False)
    resource = dbt_resource(settings.load({"FOODBANK_HOME": str(tmp_path)}))
    logs = []
    for attempt in ("first", "second"):
        invocation = resource.cli(["ls", "--select", "stg_wms__items"], target_path=tmp_path / attempt)
        invocation.wait()
        assert invocation.is_successful()
        resource.keep_parse(invocation)
        logs.append((tmp_path / attempt / "dbt.log").read_text())
    assert "Unable to do partial parsing" in logs[0]
    assert "Unable to do partial parsing" not in logs[1] and "Starting full parse" not in logs[1]


def test_the_dbt_target_follows_the_warehouse_setting_not_the_environment(tmp_path):
    """FOODBANK_WAREHOUSE picks dbt's target (duckdb: local, snowflake: snowflake) whatever FOODBANK_ENV is,
    and dbt gets the Snowflake connection's values as settings resolved them, the password excepted (no
    resource configuration: profiles.yml reads it from the same SNOWFLAKE_PASSWORD)."""
    home = {"FOODBANK_HOME": str(tmp_path)}
    for env in ("local", "prod"):
        assert settings.load({**home, "FOODBANK_ENV": env}).dbt_target == "local"
        assert settings.load({**home, "FOODBANK_ENV": env, "FOODBANK_WAREHOUSE": "snowflake"}).dbt_target == "snowflake"
    emulator = {
        **home,
        "FOODBANK_WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "fake",
        "SNOWFLAKE_PASSWORD": "snow",
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": "8085",
        "SNOWFLAKE_PROTOCOL": "http",
    }
    s = settings.load(emulator)
    assert dbt_project(s).target == "snowflake"
    sent = dbt_env(s)
    assert {k: v for k, v in sent.items() if k.startswith("SNOWFLAKE_")} == {
        "SNOWFLAKE_ACCOUNT": "fakesnow",
        "SNOWFLAKE_USER": "fake",
        "SNOWFLAKE_DATABASE": "FOODBANK",
        "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": "8085",
        "SNOWFLAKE_PROTOCOL": "http",
    }
    assert not any(k.startswith("SNOWFLAKE_") for k in dbt_env(settings.load(home)))


def test_one_snowflake_target_reads_every_variable_settings_reads():
    """profiles.yml has one Snowflake target, for Snowflake and the emulator alike: each SNOWFLAKE_* variable of
    settings.SnowflakeSettings is one of its fields (host, port and protocol default to the connector's own)."""
    import yaml

    outputs = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["foodbank"]["outputs"]
    assert set(outputs) == {"local", "snowflake"}
    fields = {
        "account": "SNOWFLAKE_ACCOUNT",
        "user": "SNOWFLAKE_USER",
        "password": "SNOWFLAKE_PASSWORD",
        "private_key_path": "SNOWFLAKE_PRIVATE_KEY_PATH",
        "private_key": "SNOWFLAKE_PRIVATE_KEY",
        "role": "SNOWFLAKE_ROLE",
        "warehouse": "SNOWFLAKE_WAREHOUSE",
        "database": "SNOWFLAKE_DATABASE",
        "host": "SNOWFLAKE_HOST",
        "port": "SNOWFLAKE_PORT",
        "protocol": "SNOWFLAKE_PROTOCOL",
    }
    for field, variable in fields.items():
        assert f"env_var('{variable}'" in outputs["snowflake"][field], field
    assert "env_var('SNOWFLAKE_DATABASE', 'FOODBANK')" in outputs["snowflake"]["database"]  # settings' default


def test_dbt_reads_the_key_text_from_the_same_variable_settings_read(monkeypatch, tmp_path):
    """Production's tasks get the key as PEM text in SNOWFLAKE_PRIVATE_KEY (no key file): profiles.yml renders it
    under dbt's own renderer, newlines intact, and dbt-snowflake derives from it the key settings hand the
    connector. Like the password, the key text is not in dbt_env (dbt reads it from the environment)."""
    import yaml
    from dbt.adapters.snowflake.connections import SnowflakeCredentials
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    pem = _pem()
    environ = {
        "FOODBANK_HOME": str(tmp_path),
        "FOODBANK_WAREHOUSE": "snowflake",
        "SNOWFLAKE_ACCOUNT": "acct",
        "SNOWFLAKE_USER": "foodbank_runner",
        "SNOWFLAKE_PRIVATE_KEY": pem,
    }
    s = settings.load(environ)
    sent = dbt_env(s)
    assert "SNOWFLAKE_PRIVATE_KEY" not in sent and "SNOWFLAKE_PRIVATE_KEY_PATH" not in sent
    assert not any("PRIVATE KEY" in value for value in sent.values())
    for name in [n for n in os.environ if n.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(name)
    for name, value in {**environ, **sent}.items():
        monkeypatch.setenv(name, value)
    set_invocation_context(os.environ)
    output = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["foodbank"]["outputs"]["snowflake"]
    rendered = ProfileRenderer({}).render_data(output)
    assert rendered["private_key"] == pem and rendered["private_key_path"] == "" and rendered["password"] == ""
    fields = ("account", "user", "database", "schema", "private_key", "private_key_path")
    credentials = SnowflakeCredentials(**{field: rendered[field] for field in fields})
    assert credentials._get_private_key() == s.snowflake.connect_args()["private_key"]


def _pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
