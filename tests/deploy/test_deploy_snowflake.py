"""Snowflake setup: every migration parses as Snowflake SQL; what the emulator (fakesnow) can run, runs.

The emulator has no warehouses, roles, grants, storage integrations or masking policies; those
statements are named in EMULATOR_GAPS and only parsed. Everything else (database, schemas, file
formats, stages, raw/audit tables, the retention view) is executed, and the result is compared with
the source catalog.
"""

from __future__ import annotations

import re
import sys
from datetime import date, timedelta

import pytest
import sqlglot
from deploy_tools import ROOT
from sqlglot import exp

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from deploy.snowflake import migrate, sqlgen
from foodbank_platform import retention
from foodbank_platform.sources import catalog

MIGRATIONS = migrate.MIGRATIONS
EMULATOR_GAPS = migrate.EMULATOR_GAPS
migrations, statements, version = migrate.migrations, migrate.statements, migrate.version


def test_migrations_are_schemachange_versioned():
    names = [p.name for p in migrations()]
    assert names and all(re.fullmatch(r"V\d+\.\d+__[a-z0-9_]+\.sql", n) for n in names)
    assert len({version(p) for p in migrations()}) == len(names)


@pytest.mark.parametrize("path", migrations(), ids=lambda p: p.name)
def test_every_statement_parses_as_snowflake(path):
    for statement in statements(path):
        parsed = sqlglot.parse_one(statement, read="snowflake")
        # sqlglot keeps account-level DDL it does not model as an opaque Command; anything else
        # (tables, views, formats, stages) must be fully understood.
        if isinstance(parsed, exp.Command):
            assert EMULATOR_GAPS.match(statement), f"only parsed as an opaque command: {statement[:80]}"


@pytest.fixture(scope="module")
def emulator():
    """All migrations applied to fakesnow, in order; returns (cursor, statements run, statements only parsed)."""
    import fakesnow
    import snowflake.connector

    with fakesnow.patch():
        cursor = snowflake.connector.connect(database="FOODBANK").cursor()
        ran, parsed_only = migrate.apply_to_emulator(cursor)
        yield cursor, ran, parsed_only


def test_the_emulator_runs_everything_but_the_named_gaps(emulator):
    cursor, ran, parsed_only = emulator
    assert len(ran) >= 30 and len(parsed_only) < len(ran) + 40
    cursor.execute("SELECT schema_name FROM information_schema.schemata")
    schemas = {r[0].lower() for r in cursor.fetchall()}
    assert {"raw", "staging", "canonical", "reconciliation", "marts", "audit"} <= schemas


def _base(snowflake_type: str) -> str:
    return {"VARCHAR": "TEXT", "NUMBER(38,0)": "NUMBER", "NUMBER(14,2)": "NUMBER"}.get(snowflake_type, snowflake_type)


def test_raw_tables_after_all_migrations_match_the_catalog(emulator):
    cursor, _, _ = emulator
    for table in catalog.TABLES:
        cursor.execute(
            "SELECT column_name, data_type, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = 'RAW' AND table_name = %s ORDER BY ordinal_position",
            (table.raw_table.upper(),),
        )
        found = [(name.lower(), typ, scale) for name, typ, scale in cursor.fetchall()]
        expected = sqlgen.raw_columns(table)
        assert [n for n, _, _ in found] == [n for n, _ in expected], table.raw_table
        for (name, typ, scale), (_, want) in zip(found, expected):
            assert typ == _base(want), (table.raw_table, name, typ, want)
            if want == "NUMBER(14,2)":
                assert scale == 2, (table.raw_table, name)


def test_retention_view_lists_only_unretired_months_past_three_years(emulator):
    cursor, _, _ = emulator
    this_month = date.today().replace(day=1)
    old, older = retention.add_months(this_month, -40), retention.add_months(this_month, -45)
    recent = this_month - timedelta(days=20)
    for loaded in (old, older, recent):
        cursor.execute(
            "INSERT INTO raw.wms__inventory_transactions (op, txn_id, _loaded_at) VALUES ('I', 1, %s)",
            (f"{loaded} 08:00:00",),
        )
    cursor.execute(
        "INSERT INTO audit.retention_log VALUES ('wms__inventory_transactions', %s, 's3://a/b', 1, "
        "'0', CURRENT_TIMESTAMP(), 1)",
        (str(older),),
    )
    cursor.execute("SELECT raw_table, loaded_month FROM audit.retention_due")
    assert cursor.fetchall() == [("wms__inventory_transactions", old)]


@pytest.mark.parametrize("table", catalog.TABLES, ids=lambda t: t.raw_table)
def test_copy_into_each_raw_table_parses_and_fills_every_column(table):
    statements_ = sqlgen.load_file_transaction(
        table,
        "LOAD00000001.csv",
        stage_path=table.landing_prefix,
        file_version=2,
        file_checksum="ab" * 32,
        size_bytes=1234,
        load_id="load-o'brien",
    )
    assert statements_[0] == "BEGIN" and statements_[-1] == "COMMIT"
    copy = sqlglot.parse_one(statements_[1], read="snowflake")
    assert isinstance(copy, exp.Copy)
    target_columns = [c.name for c in copy.this.expressions]
    select = copy.args["files"][0].this
    assert len(select.expressions) == len(target_columns) == len(sqlgen.raw_columns(table))
    assert "ON_ERROR = ABORT_STATEMENT" in statements_[1] and "FORCE" not in statements_[1]
    format_name = sqlgen.FILE_FORMATS[table.format]
    assert f"CREATE FILE FORMAT IF NOT EXISTS {format_name}" in (MIGRATIONS / "V1.5__file_formats.sql").read_text()
    ledger = sqlglot.parse_one(statements_[2], read="snowflake")
    assert isinstance(ledger, exp.Insert) and "'load-o''brien'" in statements_[2]


def test_snowflake_fingerprint_expression_parses():
    expression = retention.SNOWFLAKE_ROW_HASH.format(row_text="'a'")
    assert sqlglot.parse_one(f"SELECT SUM({expression}) FROM t", read="snowflake")


def test_ledger_row_of_a_load_runs_on_the_emulator(emulator):
    cursor, _, _ = emulator
    table = catalog.table("usda_tefap__receipts")
    cursor.execute(
        "INSERT INTO raw.usda_tefap__receipts (bol_number, line_number, _load_id) "
        "VALUES ('BOL-1', 1, 'load-7'), ('BOL-1', 2, 'load-7'), ('BOL-2', 1, 'load-other')"
    )
    stage_path = f"{table.landing_prefix}/_versions/0123456789abcdef"
    _, _, ledger, _ = sqlgen.load_file_transaction(
        table,
        "tefap_receipts_20261102.txt",
        stage_path=stage_path,
        file_version=2,
        file_checksum="c" * 64,
        size_bytes=512,
        load_id="load-7",
    )
    cursor.execute(ledger)
    cursor.execute(
        "SELECT source_table, file_identity, version, rows_loaded, status FROM audit.file_ledger "
        "WHERE load_id = 'load-7'"
    )
    assert cursor.fetchall() == [
        ("usda_tefap__receipts", "sftp/usda_tefap/tefap_receipts_20261102.txt", 2, 2, "loaded")
    ]
