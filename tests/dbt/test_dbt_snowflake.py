"""The same dbt project on Snowflake SQL: `dbt build --target snowflake` against a fakesnow server on
loopback (the emulator dbt-snowflake talks to over HTTP), reached with the SNOWFLAKE_* variables `foodbank
services` writes (services.snowflake_env).

The raw tables are created with the production DDL (`deploy/snowflake/sqlgen.raw_table_ddl`, the
source of migration V1.7) and filled with the same rows as the DuckDB tests; the project builds
twice, the second time incrementally after a late correction, so the delete+insert path with a
transient staging table runs too. Named emulator gap: fakesnow cannot create the fully qualified
temporary tables dbt's unit-test runner uses, so unit tests are excluded here (they run on DuckDB;
the models they test are built here from real rows).
"""

from __future__ import annotations

import hashlib
import logging
import sys

import duckdb
import pytest
from dbt_support import (
    DBT_VARS,
    EXPECTED_STATUSES,
    LATE_CORRECTION,
    REPO,
    build_raw_warehouse,
    insert_sql,
    run_dbt,
    utcnow,
    with_lineage,
)
from fixtures_services import fakesnow_server

from foodbank_platform.services import snowflake_env
from foodbank_platform.sources import catalog

sys.path.insert(0, str(REPO))  # deploy/ is a top-level folder, not an installed package
from deploy.snowflake import sqlgen  # noqa: E402

pytestmark = pytest.mark.slow

DATABASE = "FOODBANK"
EMULATOR_BUILD = ["build", "--target", "snowflake", "--vars", DBT_VARS, "--exclude", "resource_type:unit_test"]
# The Snowflake file ledger (deploy/snowflake/migrations V1.6) that stg_audit__file_ledger reads.
FILE_LEDGER_DDL = """CREATE TABLE IF NOT EXISTS audit.file_ledger (raw_table VARCHAR, file_key VARCHAR,
    file_version NUMBER(38,0), file_checksum VARCHAR, rows_loaded NUMBER(38,0), load_id VARCHAR,
    loaded_at TIMESTAMP_NTZ)"""


def copy_raw_tables(cur, duck_path) -> None:
    """Production raw DDL on the emulator, filled with the DuckDB raw rows."""
    src = duckdb.connect(str(duck_path), read_only=True)
    try:
        for table in catalog.TABLES:
            cur.execute(sqlgen.raw_table_ddl(table))
            names = [n for n, _ in sqlgen.raw_columns(table)]
            rows = src.execute(
                f"SELECT {', '.join(repr(n).replace(chr(39), chr(34)) for n in names)} FROM raw.{table.raw_table}"
            ).fetchall()
            if rows:
                cur.executemany(
                    f"INSERT INTO raw.{table.raw_table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})",
                    rows,
                )
    finally:
        src.close()


def insert_rows(cur, rows_by_table: dict[str, list[dict]], prefix: str) -> None:
    for raw_table, values in with_lineage(rows_by_table, prefix, utcnow()):
        cur.execute(insert_sql(raw_table, values, mark="%s"), list(values.values()))


@pytest.fixture(scope="session")
def snowflake_emulator(tmp_path_factory, samples_dir):
    """(cursor on the emulator after two builds, first build, second build)."""
    pytest.importorskip("fakesnow")
    import snowflake.connector

    logging.getLogger("fakesnow").setLevel(logging.WARNING)
    home = tmp_path_factory.mktemp("dbt_snowflake")
    duck_path = build_raw_warehouse(home, samples_dir)
    with fakesnow_server() as conn_kwargs:
        con = snowflake.connector.connect(**conn_kwargs)
        cur = con.cursor()
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
        cur.execute(f"USE DATABASE {DATABASE}")
        for schema in ("raw", "audit"):
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        copy_raw_tables(cur, duck_path)
        cur.execute(FILE_LEDGER_DDL)
        env = snowflake_env(conn_kwargs["port"], DATABASE, host=conn_kwargs["host"])
        first = run_dbt(EMULATOR_BUILD, home, env)
        assert first.returncode == 0, first.stdout[-6000:]
        insert_rows(cur, LATE_CORRECTION, "late")
        second = run_dbt(EMULATOR_BUILD, home, env)
        assert second.returncode == 0, second.stdout[-6000:]
        yield cur, first, second
        con.close()


def test_both_builds_pass_every_model_and_data_test(snowflake_emulator):
    _, first, second = snowflake_emulator
    for result in (first, second):
        assert "ERROR=0" in result.stdout
    # the second build took the incremental path for the canonical tables
    assert "incremental model canonical.inventory_events" in second.stdout


def test_reconciliations_agree_with_duckdb(snowflake_emulator):
    cur, *_ = snowflake_emulator
    for (table, key), expected in EXPECTED_STATUSES.items():
        got = dict(cur.execute(f"SELECT CAST({key} AS VARCHAR), status FROM reconciliation.{table}").fetchall())
        assert got == expected, table


def test_event_ids_are_the_same_hash_as_on_duckdb(snowflake_emulator):
    """md5(source_system|source_record_id|leg|P or R): computed here in Python, must match the warehouse."""
    cur, *_ = snowflake_emulator
    rows = cur.execute("""SELECT event_id, source_system, source_record_id, event_type, cases_delta, is_reversal
                          FROM canonical.inventory_events""").fetchall()
    assert len(rows) == len({r[0] for r in rows}) > 0
    for event_id, system, record, event_type, cases, is_reversal in rows:
        posted_sign = -cases if is_reversal else cases
        leg = "SHEET" if system == "manual_adjustments" else ("IN" if posted_sign > 0 else "OUT")
        flag = "R" if is_reversal else "P"
        assert event_id == hashlib.md5(f"{system}|{record}|{leg}|{flag}".encode()).hexdigest(), (record, event_type)


def test_roll_forward_and_restatement_on_snowflake(snowflake_emulator):
    cur, *_ = snowflake_emulator
    broken = cur.execute("""
        SELECT COUNT(*) FROM reconciliation.inventory_daily_balance
        WHERE opening_cases + receipts_cases + transfers_in_cases - transfers_out_cases + adjustments_cases
              - spoilage_cases - distributions_cases <> closing_cases""").fetchone()[0]
    assert broken == 0
    rows = cur.execute("SELECT sku, receipts_cases_change, source_records FROM audit.restatements").fetchall()
    assert [(sku, float(change), records) for sku, change, records in rows] == [("PRD-APL-0007", 2.0, "wms:2002")]
    # the finance close decides the days as on DuckDB: 10-31 has no on-hand snapshot, 11-01 publishes restated
    close = {
        str(day): (status, bool(restated))
        for day, status, restated in cur.execute(
            "SELECT business_date, status, is_restated FROM marts.finance_close"
        ).fetchall()
    }
    assert close["2026-10-31"] == ("held", False)
    assert close["2026-11-01"][0] != "held" and close["2026-11-01"][1]


def test_history_snapshots_follow_the_canonical_table_on_snowflake(snowflake_emulator):
    cur, *_ = snowflake_emulator
    ((current,),) = cur.execute(
        "SELECT COUNT(*) FROM audit.inventory_events_history WHERE dbt_valid_to IS NULL"
    ).fetchall()
    ((events,),) = cur.execute("SELECT COUNT(*) FROM canonical.inventory_events").fetchall()
    ((late,),) = cur.execute("""SELECT COUNT(*) FROM audit.inventory_events_history
                              WHERE source_record_id = '2002' AND dbt_valid_to IS NULL""").fetchall()
    assert current == events and late == 1
    versions = cur.execute("""SELECT order_type, dbt_valid_to IS NULL FROM audit.agency_orders_history
                              WHERE order_line_id = 901250 ORDER BY dbt_valid_from""").fetchall()
    assert versions == [("PREORDER", False), ("SHOPPING", True)]
