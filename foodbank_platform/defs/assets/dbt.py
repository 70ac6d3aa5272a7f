"""dbt, as Dagster assets, split by when the food bank needs the numbers.

The dbt project in `dbt_project/` is loaded with dagster-dbt, so every model is an asset and every
dbt test an asset check. dbt sources on `raw` map onto the raw assets of `defs/assets/raw.py`, which joins
the graph from files to the marts. Models are keyed `[schema, model]` (`canonical/inventory_events`),
the names analysts query.

The dbt tags decide the path:
- `dbt_operations` — everything not tagged `nightly` (staging, canonical, the operations and
  traceability marts): unpartitioned, rebuilt incrementally by the 10-minute path.
- `dbt_reconciliation` and `dbt_finance` — the `nightly` models, partitioned by Pacific business day.
  They are two steps, not one, on purpose: Dagster can only hold back a *step* when a blocking
  check fails, and the team needs the day's reconciliations (the variances they act on) even on a
  day whose findings must keep the finance marts from publishing. A backfill of any range runs as one
  dbt invocation (`BackfillPolicy.single_run()`), passing the range's last day as `publish_through`.

The manifest is prepared beforehand (`foodbank manifest`, see `dbt_runtime.py`); this module only
reads it. Freshness (the SLAs of docs/design.md) is declared on the specs here: operations marts at most 10
minutes old, nightly tables materialised by 06:00 Pacific each day.
"""

import json
from datetime import date, timedelta
from typing import Any, Mapping

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Backoff,
    DailyPartitionsDefinition,
    FreshnessPolicy,
    MetadataValue,
    RetryPolicy,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ... import settings as fb_settings
from ... import warehouse as fb_warehouse
from ...business_day import PACIFIC
from ...dbt_runtime import dbt_project, manifest_path, release_adapter
from ...ingest import ledger
from ..ownership import OWNERS, dbt_docs_url
from ..resources import WarehouseResource

# One partition per Pacific business day from the go-live day (FOODBANK_FIRST_BUSINESS_DAY), so the UI
# lists the days the platform closes and not months of empty ones before it.
business_days = DailyPartitionsDefinition(
    start_date=fb_settings.load().first_business_day.isoformat(), timezone=PACIFIC
)

OPERATIONS_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(minutes=10), warn_window=timedelta(minutes=7))
# "Reconciled tables for day D by 06:00 on D+1": at each 06:00 Pacific the table must have been
# materialised since midnight (the nightly run starts at 03:15).
NIGHTLY_FRESHNESS = FreshnessPolicy.cron(
    deadline_cron="0 6 * * *", lower_bound_delta=timedelta(hours=6), timezone=PACIFIC
)

# Warehouse lock contention and a dbt process killed by the host are worth another try; a model bug is
# not, but three tries cost little next to a missed 06:00.
DBT_RETRY = RetryPolicy(max_retries=2, delay=30, backoff=Backoff.EXPONENTIAL)


def schema_of(props: Mapping[str, Any]) -> str:
    return props.get("config", {}).get("schema") or props["schema"]


def is_nightly(props: Mapping[str, Any]) -> bool:
    return "nightly" in (props.get("tags") or props.get("config", {}).get("tags") or [])


def is_finance(props: Mapping[str, Any]) -> bool:
    return is_nightly(props) and schema_of(props) == "marts"


class FoodbankTranslator(DagsterDbtTranslator):
    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return AssetKey([schema_of(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model" and is_finance(dbt_resource_props):
            return "finance"
        return schema_of(dbt_resource_props) or "dbt"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        # The model's own words; dagster-dbt's fallback is the raw SQL, which the UI shows as text.
        return (
            dbt_resource_props.get("description")
            or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"
        )

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        return {
            **super().get_metadata(dbt_resource_props),
            "dbt_docs": MetadataValue.url(dbt_docs_url(dbt_resource_props["unique_id"])),
        }

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project).replace_attributes(owners=OWNERS)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] != "model":
            return spec
        if is_finance(props):
            # The finance marts wait for every reconciliation of their day: that is where the blocking
            # checks sit, whichever reconciliation a mart happens to read.
            gates = [
                AssetKey(["reconciliation", n["name"]])
                for n in manifest["nodes"].values()
                if n["resource_type"] == "model" and is_nightly(n) and schema_of(n) == "reconciliation"
            ]
            spec = spec.merge_attributes(deps=[g for g in gates if g not in {d.asset_key for d in spec.deps}])
        policy = (
            NIGHTLY_FRESHNESS if is_nightly(props) else (OPERATIONS_FRESHNESS if schema_of(props) == "marts" else None)
        )
        return spec.replace_attributes(freshness_policy=policy) if policy else spec


MANIFEST = manifest_path()
TRANSLATOR = FoodbankTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_asset_checks=True, enable_code_references=True, enable_source_tests_as_checks=True
    )
)
PROJECT = dbt_project()


def business_day_vars(context: AssetExecutionContext) -> dict[str, str]:
    """dbt vars for a nightly step: publish through the range's last day, or through the latest day
    already published if that is later, so re-running an old day never un-publishes newer ones."""
    last = date.fromisoformat(context.partition_key_range.end)
    published = [
        date.fromisoformat(k)
        for k in context.instance.get_materialized_partitions(next(iter(context.selected_asset_keys)))
    ]
    through = max([last, *published])
    return {"publish_through": through.isoformat(), "as_of_date": (through + timedelta(days=1)).isoformat()}


def operations_vars(context: AssetExecutionContext) -> dict[str, str]:
    """The operations marts' "today" is the run's `foodbank/as_of_date` tag when given (a replayed
    day), else dbt's own clock."""
    as_of = context.run.tags.get("foodbank/as_of_date")
    return {"as_of_date": as_of} if as_of else {}


def _build(context: AssetExecutionContext, dbt: DbtCliResource, dbt_vars: dict[str, str], column_types: bool):
    """`dbt build`, with each model's row count, and its column types when asked, fetched by dagster-dbt
    once the model is built (on DuckDB, once dbt has released the file) through an adapter in this
    process that is let go after. Measured on the demo's 10-minute path: 30.6 s without fetching,
    34.0 s with row counts, 44.9 s with column types too, so only the nightly close fetches the types."""
    args = ["build"] + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])
    events = dbt.cli(args, context=context).stream().fetch_row_counts()
    if column_types:
        events = events.fetch_column_metadata(with_column_lineage=False)
    try:
        yield from events
    finally:
        release_adapter()


@dbt_assets(
    manifest=MANIFEST,
    project=PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    name="dbt_operations",
    exclude="tag:nightly",
    retry_policy=DBT_RETRY,
    pool="warehouse_writer",
)
def dbt_operations(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # Every dbt source must exist, even for a source that has delivered nothing yet (a fresh warehouse).
    with warehouse.connect() as con:
        ledger.ensure(con)
        fb_warehouse.ensure_raw_tables(con)
    yield from _build(context, dbt, operations_vars(context), column_types=False)


_NIGHTLY = dict(
    manifest=MANIFEST,
    project=PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=business_days,
    backfill_policy=BackfillPolicy.single_run(),
    retry_policy=DBT_RETRY,
    pool="warehouse_writer",
)


@dbt_assets(select="tag:nightly,config.schema:reconciliation", name="dbt_reconciliation", **_NIGHTLY)
def dbt_reconciliation(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from _build(context, dbt, business_day_vars(context), column_types=True)


@dbt_assets(select="tag:nightly", exclude="config.schema:reconciliation", name="dbt_finance", **_NIGHTLY)
def dbt_finance(context: AssetExecutionContext, dbt: DbtCliResource):
    yield from _build(context, dbt, business_day_vars(context), column_types=True)


dbt_models = [dbt_operations, dbt_reconciliation, dbt_finance]
