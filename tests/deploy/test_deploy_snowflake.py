"""Snowflake setup: every migration parses as Snowflake SQL; what the emulator (fakesnow) can run, runs.

The emulator has no warehouses, roles, grants, storage integrations or masking policies; those
statements are named in EMULATOR_GAPS and only parsed. Everything else (database, schemas, file
formats, stages, raw/audit tables, the retention view) is executed, and the result is compared with
the source catalog.
"""

from __future__ import annotations

import json
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


def test_the_load_stage_exists(emulator):
    """The internal stage the raw load PUTs its Parquet to (ingest/snowflake_load.py), from V1.10."""
    cursor, _, _ = emulator
    cursor.execute("SHOW STAGES IN SCHEMA audit")
    assert "LOADS" in {r[1].upper() for r in cursor.fetchall()}


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


def _roles_and_privileges() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """From every migration: the roles granted to each role, and each role's own privilege grants."""
    granted: dict[str, set[str]] = {}
    privileges: dict[str, set[str]] = {}
    for path in migrations():
        for statement in statements(path):
            text = " ".join(statement.split()).lower()
            if m := re.fullmatch(r"grant role (\w+) to role (\w+)", text):
                granted.setdefault(m[2], set()).add(m[1])
            elif m := re.fullmatch(r"grant (.+) to role (\w+)", text):
                privileges.setdefault(m[2], set()).add(m[1])
    return granted, privileges


def _held(role: str, granted: dict[str, set[str]], privileges: dict[str, set[str]]) -> set[str]:
    return privileges.get(role, set()).union(*(_held(r, granted, privileges) for r in granted.get(role, ())))


def test_the_runs_role_holds_the_loaders_and_the_transformers_privileges_and_no_more():
    """One run task loads raw, retires raw partitions, writes audit.dq_* and runs dbt with the one user of the
    foodbank/snowflake secret (deploy/README.md, step 5.6): its role, RUNNER (V1.13), holds LOADER's and
    TRANSFORMER's privileges through those roles and none of its own, and neither of them is widened."""
    granted, privileges = _roles_and_privileges()
    readme = (ROOT / "deploy" / "README.md").read_text()
    (secret,) = re.findall(r"--secret-id foodbank/snowflake --secret-string '(\{.*?\})'", readme)
    assert json.loads(secret)["role"].lower() == "runner"
    assert granted["runner"] == {"loader", "transformer"} and "runner" not in privileges
    held = _held("runner", granted, privileges)
    assert held == _held("loader", granted, privileges) | _held("transformer", granted, privileges)
    assert "delete on all tables in schema foodbank.raw" in held  # retention (V1.11)
    assert "read, write on stage audit.loads" in held  # the raw load's PUT (V1.10)
    assert "create table on schema foodbank.audit" in held  # the checks' audit.dq_* (V1.12)
    assert "loader" not in granted and "transformer" not in granted
