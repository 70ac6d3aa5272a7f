"""dbt, as Dagster assets: staging → canonical → reconciliation and marts.

The dbt project in `dbt_project/` is loaded with dagster-dbt, so every model is an asset and every
dbt test an asset check. dbt sources on the `raw` schema map onto the raw assets of
`defs/ingest.py`, which is what joins the graph from files to the daily balance. Models are keyed
by `[schema, model]` (e.g. `canonical/inventory_events`), the names analysts query.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from .. import settings as fb_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


class FoodbankTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


def dbt_project(s: fb_settings.Settings | None = None) -> DbtProject:
    s = s or fb_settings.load()
    # dbt reads the warehouse path from the environment (profiles.yml), like every FOODBANK_* value.
    os.environ.setdefault("FOODBANK_DUCKDB_PATH", str(s.duckdb_path))
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=s.dbt_target)
    if not project.manifest_path.exists():
        # A fresh clone has no manifest yet; `dbt parse` makes one (the container does it at build time).
        project.preparer.prepare(project)
    return project


def dbt_resource(s: fb_settings.Settings | None = None) -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(s))


PROJECT = dbt_project()
TRANSLATOR = FoodbankTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(manifest=PROJECT.manifest_path, dagster_dbt_translator=TRANSLATOR, name="dbt_models")
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from dbt.cli(["build"], context=context).stream()
