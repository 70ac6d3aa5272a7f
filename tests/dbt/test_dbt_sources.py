"""The dbt sources are the catalog, seen from dbt: every raw table the loader can fill must be a
declared source with exactly the catalog's columns, and must have a staging model. A new catalog
entry (or column) without its source YAML fails here, loudly, instead of silently never reaching
the canonical layer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from foodbank_platform.sources import catalog

STAGING = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging"
DMS_META = ["op", "dms_commit_ts", "dms_change_seq"]


def declared_sources() -> dict[tuple[str, str], dict]:
    """(source name, table name) -> table YAML, from every sources file under staging/."""
    found = {}
    for path in sorted(STAGING.glob("*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                key = (source["name"], table["name"])
                assert key not in found, f"{key} declared twice"
                found[key] = dict(table, _schema=source.get("schema"), _file=path)
    return found


def expected_columns(table: catalog.SourceTable) -> list[str]:
    return (DMS_META if table.is_dms else []) + table.column_names + [c.name for c in catalog.LINEAGE]


def test_sources_are_exactly_the_catalog():
    declared = {k for k in declared_sources() if k[0] != "audit"}
    expected = {(t.system, t.raw_table) for t in catalog.TABLES}
    assert declared - expected == set(), "sources that the catalog does not know"
    assert expected - declared == set(), "catalog tables without a dbt source"


@pytest.mark.parametrize("table", catalog.TABLES, ids=lambda t: t.raw_table)
def test_source_columns_match_the_catalog(table):
    source = declared_sources()[(table.system, table.raw_table)]
    assert source["_schema"] == "raw"
    assert [c["name"] for c in source["columns"]] == expected_columns(table)
    # one sources file per system, in the system's folder
    assert source["_file"].parent.name == table.system


@pytest.mark.parametrize("table", catalog.TABLES, ids=lambda t: t.raw_table)
def test_every_raw_table_has_a_staging_model(table):
    model = STAGING / table.system / f"stg_{table.raw_table}.sql"
    assert model.exists()
    assert f"source('{table.system}', '{table.raw_table}')" in model.read_text()


def test_the_file_ledger_is_a_source():
    assert ("audit", "file_ledger") in declared_sources()
