"""`foodbank sql`: a read-only query on the configured warehouse, as a table, CSV or JSON, quickly and
without Dagster; on a real DuckDB file and on the Snowflake emulator over a real connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from foodbank_platform import query, settings, snowflake_warehouse

FOODBANK = Path(sys.executable).parent / "foodbank"


def _foodbank(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(FOODBANK), *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture
def duck(tmp_path) -> dict[str, str]:
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA canonical")
    con.execute(
        "CREATE TABLE canonical.inventory_events AS SELECT * FROM (VALUES "
        "('e1', 'RECEIPT', 12.50::DECIMAL(14,2), DATE '2026-10-29'), "
        "('e2', 'DISTRIBUTION, partial', -3.25::DECIMAL(14,2), NULL)) t(event_id, event_type, lbs_delta, business_date)"
    )
    con.close()
    return {"FOODBANK_HOME": str(tmp_path), "FOODBANK_DUCKDB_PATH": str(path), "FOODBANK_WAREHOUSE": "duckdb"}


def test_duckdb_table_csv_and_json(duck):
    sql = "SELECT * FROM canonical.inventory_events ORDER BY event_id"
    table = _foodbank(duck, "sql", sql)
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == ["event_id", "event_type", "lbs_delta", "business_date"]
    assert "(2 rows)" in table.stdout
    csv = _foodbank(duck, "sql", sql, "--format", "csv")
    assert csv.stdout.splitlines() == [
        "event_id,event_type,lbs_delta,business_date",
        "e1,RECEIPT,12.50,2026-10-29",
        'e2,"DISTRIBUTION, partial",-3.25,',
    ]
    rows = json.loads(_foodbank(duck, "sql", sql, "--format", "json").stdout)
    assert rows[0] == {"event_id": "e1", "event_type": "RECEIPT", "lbs_delta": "12.50", "business_date": "2026-10-29"}
    assert rows[1]["business_date"] is None


def test_duckdb_is_read_only_and_bounded(duck):
    refused = _foodbank(duck, "sql", "DELETE FROM canonical.inventory_events")
    assert refused.returncode == 1 and "read-only" in refused.stderr
    con = duckdb.connect(duck["FOODBANK_DUCKDB_PATH"], read_only=True)
    assert con.execute("SELECT count(*) FROM canonical.inventory_events").fetchone()[0] == 2
    con.close()
    # the connection is the platform's bounded one (warehouse.connect_read_only)
    limit = _foodbank(
        {**duck, "FOODBANK_DUCKDB_MEMORY_LIMIT": "300MB"}, "sql", "SELECT current_setting('memory_limit') AS m"
    )
    assert "286.1 MiB" in limit.stdout or "300" in limit.stdout, limit.stdout


def test_no_warehouse_yet_is_one_line(tmp_path):
    missing = _foodbank(
        {"FOODBANK_HOME": str(tmp_path), "FOODBANK_DUCKDB_PATH": str(tmp_path / "none.duckdb")}, "sql", "SELECT 1"
    )
    assert missing.returncode == 1 and "no warehouse at" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_starts_fast_and_never_imports_dagster(duck):
    started = time.perf_counter()
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "foodbank_platform.cli", "sql", "SELECT 42 AS answer"],
        env={**os.environ, **duck},
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    assert timed.returncode == 0 and "42" in timed.stdout
    imported = [line.split("|")[-1].strip() for line in timed.stderr.splitlines() if line.startswith("import time:")]
    assert not [m for m in imported if m.split(".")[0] in ("dagster", "dagster_dbt", "dbt")]
    assert elapsed < 2.0, f"foodbank sql took {elapsed:.2f}s"


def test_snowflake_answers_over_a_real_connection(snowflake_db):
    con = snowflake_db.connect()
    cur = con.cursor()
    cur.execute(
        "CREATE TABLE canonical.inventory_events (event_id VARCHAR, lbs_delta NUMBER(14,2), business_date DATE)"
    )
    cur.execute(
        "INSERT INTO canonical.inventory_events VALUES ('e1', 12.50, '2026-10-29'), ('e2', -3.25, '2026-10-30')"
    )
    con.close()
    sql = "select count(*) as n, sum(lbs_delta) as lbs from canonical.inventory_events"
    answer = _foodbank(snowflake_db.env, "sql", sql, "--format", "json")
    assert answer.returncode == 0, answer.stderr
    # Snowflake returns a NUMBER(38,2) sum, printed exactly as text; the emulator's sum is a DOUBLE.
    [row] = json.loads(answer.stdout)
    assert row["N"] == 2 and str(row["LBS"]) == "9.25"
    started = time.perf_counter()
    columns, rows = query.run(snowflake_db.settings(), "select event_id from canonical.inventory_events order by 1")
    assert (columns, rows) == (["EVENT_ID"], [("e1",), ("e2",)])
    assert time.perf_counter() - started < 2.0


def test_snowflake_refuses_what_writes(snowflake_db):
    for statement in ("DELETE FROM audit.file_ledger", "create table raw.x (a int)", "select 1; drop table raw.x"):
        refused = _foodbank(snowflake_db.env, "sql", statement)
        assert refused.returncode == 1, statement
    assert "read-only" in _foodbank(snowflake_db.env, "sql", "DELETE FROM audit.file_ledger").stderr


def test_an_unreachable_snowflake_names_the_account_and_host(monkeypatch):
    monkeypatch.setattr(snowflake_warehouse, "LOGIN_TIMEOUT_SECONDS", 2)
    s = settings.load(
        {
            "SNOWFLAKE_ACCOUNT": "acme",
            "SNOWFLAKE_USER": "u",
            "SNOWFLAKE_PASSWORD": "p",
            "SNOWFLAKE_HOST": "127.0.0.1",
            "SNOWFLAKE_PORT": "9",
            "SNOWFLAKE_PROTOCOL": "http",
        }
    )
    with pytest.raises(snowflake_warehouse.SnowflakeUnreachable, match=r"account acme at 127\.0\.0\.1:9"):
        snowflake_warehouse.connect(s.snowflake, attempts=2, first_delay=0.1)


def test_the_warehouse_setting():
    assert settings.load({}).warehouse == "duckdb"
    assert settings.load({"FOODBANK_WAREHOUSE": "Snowflake"}).warehouse == "snowflake"
    with pytest.raises(ValueError, match="FOODBANK_WAREHOUSE=oracle"):
        settings.load({"FOODBANK_WAREHOUSE": "oracle"})
    key = settings.load({"SNOWFLAKE_ACCOUNT": "a", "SNOWFLAKE_USER": "u", "SNOWFLAKE_PRIVATE_KEY_PATH": "/k.p8"})
    assert key.snowflake.connect_args() == {
        "account": "a",
        "user": "u",
        "private_key_file": "/k.p8",
        "database": "FOODBANK",
    }
