"""dbt, as Dagster assets, split by when the food bank needs the numbers.

Every model is an asset and every dbt test a check, keyed `[schema, model]` as analysts query them, read from
the manifest `foodbank manifest` prepares. The tags decide the path: `dbt_operations` (all but `nightly`) runs
in the 10-minute path; `dbt_reconciliation` and `dbt_finance` per Pacific business day, the reconciliations
apart so the team has its variances even when finance fails. Which days publish is data
(`marts.finance_exceptions`, docs/finance.md), so one day never holds another, also in a one-run backfill.
The SLAs of docs/design.md are declared here as freshness policies; README, "Operating it", has the paths.
"""

import json
from datetime import date, timedelta, timezone
from typing import Any, Mapping

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    AssetSpec,
    BackfillPolicy,
    Backoff,
    DailyPartitionsDefinition,
    FreshnessPolicy,
    MetadataValue,
    Output,
    RetryPolicy,
)
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ... import closing
from ... import settings as fb_settings
from ...business_day import PACIFIC
from ...dbt_runtime import FoodbankDbtCliResource, dbt_project, manifest_path, release_adapter
from ..ownership import OWNERS, dbt_docs_url
from ..resources import QualityResource, WarehouseResource

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


def business_day_vars(context: AssetExecutionContext, dq: QualityResource) -> dict[str, Any]:
    """dbt vars for a nightly step: publish through the range's last day, or through the latest day
    already published if that is later, so re-running an old day never un-publishes newer ones; close
    from the go-live day, with finance's tolerances, recording this run."""
    last = date.fromisoformat(context.partition_key_range.end)
    published = [
        date.fromisoformat(k)
        for k in context.instance.get_materialized_partitions(next(iter(context.selected_asset_keys)))
    ]
    through = max([last, *published])
    return {
        "publish_through": through.isoformat(),
        "as_of_date": (through + timedelta(days=1)).isoformat(),
        "first_business_day": fb_settings.load().first_business_day.isoformat(),
        "variance_tolerance_cases": dict(dq.tolerances_cases),
        "dagster_run_id": context.run.run_id,
    }


def operations_vars(context: AssetExecutionContext) -> dict[str, str]:
    """The operations marts' "today" is the run's `foodbank/as_of_date` tag when given (a replayed
    day), else dbt's own clock."""
    as_of = context.run.tags.get("foodbank/as_of_date")
    return {"as_of_date": as_of} if as_of else {}


# A run of the 10-minute path tests the rows that arrived (dbt macros get_where_subquery and
# arrived_predicate): loaded since the run was created, less an hour, so the loads of a run whose build
# failed just before are tested too. A run tagged FULL_TESTS (the nightly schedule of the 10-minute path)
# and `foodbank run` test the whole history.
ARRIVED_OVERLAP = timedelta(hours=1)
FULL_TESTS = {"foodbank/tests": "full"}


def arrived_since_env(context: AssetExecutionContext) -> dict[str, str]:
    """FOODBANK_ARRIVED_SINCE for a 10-minute run's dbt build (UTC, as raw's `_loaded_at`); none for a
    run that tests everything."""
    tags = context.run.tags
    if tags.get("foodbank/path") != "operations" or all(tags.get(k) == v for k, v in FULL_TESTS.items()):
        return {}
    created = context.instance.get_run_record_by_id(context.run.run_id).create_timestamp
    since = created.astimezone(timezone.utc).replace(tzinfo=None) - ARRIVED_OVERLAP
    return {"FOODBANK_ARRIVED_SINCE": since.isoformat(sep=" ")}


def _build(
    context: AssetExecutionContext,
    dbt: FoodbankDbtCliResource,
    dbt_vars: dict[str, str],
    column_types: bool,
    extra_env: dict[str, str] | None = None,
):
    """`dbt build`, with each model's row count, and its column types when asked, fetched by dagster-dbt
    once the model is built (on DuckDB, once dbt has released the file) through an adapter in this
    process that is let go after. Measured on the demo's 10-minute path: 30.6 s without fetching,
    34.0 s with row counts, 44.9 s with column types too, so only the nightly close fetches the types.
    Unit tests check the models' code, not the data: CI runs them (tests/dbt/test_dbt_models.py), a run does not."""
    args = ["build", "--exclude-resource-type", "unit_test"] + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])
    invocation = dbt.cli(args, context=context, extra_env=extra_env)
    events = invocation.stream().fetch_row_counts()
    if column_types:
        events = events.fetch_column_metadata(with_column_lineage=False)
    try:
        yield from events
    finally:
        release_adapter()
        dbt.keep_parse(invocation)


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
    warehouse.ensure_dbt_sources()
    yield from _build(context, dbt, operations_vars(context), column_types=False, extra_env=arrived_since_env(context))


def _views() -> set[AssetKey]:
    manifest = json.loads(MANIFEST.read_text())
    return {
        TRANSLATOR.get_asset_key(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }


VIEW_KEYS = _views()


def ten_minute_check_keys() -> list[AssetCheckKey]:
    """The operations models' dbt tests a 10-minute run evaluates: all but those on views. A test's
    `__arrived__` filter cannot reach below a view's window functions (a file feed's latest version,
    a lot's running on-hand), so such a test reads the whole history; the full-test run has them."""
    return sorted((k for k in dbt_operations.check_keys if k.asset_key not in VIEW_KEYS), key=str)


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
def dbt_reconciliation(context: AssetExecutionContext, dbt: DbtCliResource, dq: QualityResource):
    yield from _build(context, dbt, business_day_vars(context, dq), column_types=True)


CLOSE_KEY = AssetKey(["marts", "finance_close"])


@dbt_assets(select="tag:nightly", exclude="config.schema:reconciliation", name="dbt_finance", **_NIGHTLY)
def dbt_finance(context: AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource, dq: QualityResource):
    close = None
    for event in _build(context, dbt, business_day_vars(context, dq), column_types=True):
        if isinstance(event, Output) and context.asset_key_for_output(event.output_name) == CLOSE_KEY:
            close = event  # recorded per day below, once dbt has let the warehouse go
            continue
        yield event
    if close is not None:
        yield from close_by_day(context, warehouse, close.metadata)


def close_by_day(context: AssetExecutionContext, warehouse: WarehouseResource, dbt_metadata: Mapping[str, Any]):
    """One materialization of `marts/finance_close` per business day of the run, each with that day's
    status, findings, roll-forward (the day's and the month's) and the last 30 days' flows: what the
    partition page shows, and, in a backfill, what keeps one day's outcome apart from another's."""
    days = [date.fromisoformat(k) for k in context.partition_keys]
    with warehouse.dbapi() as con:
        for day in days:
            metadata = {**dbt_metadata, **close_metadata(con, day)}
            context.log.info(f"finance close {day}: {metadata['status'].value}")
            yield AssetMaterialization(asset_key=CLOSE_KEY, partition=day.isoformat(), metadata=metadata)


def close_metadata(con, day: date) -> dict[str, Any]:
    found = closing.close_day(con, day)
    if found is None:
        return {"status": MetadataValue.text("not closed: no book events on this day")}
    today = closing.roll_forward(con, day, day)
    month = closing.roll_forward(con, closing.month_start(day), day)
    flows = closing.flows_by_program(con, day)
    findings = closing.exceptions(con, day)
    metadata: dict[str, Any] = {
        "status": MetadataValue.text(found.status),
        "exceptions": MetadataValue.text(closing.findings_line(findings)),
        "findings": MetadataValue.md(closing.findings_markdown(findings)),
        "roll_forward": MetadataValue.md(closing.rollforward_markdown(today)),
        "roll_forward_month_to_date": MetadataValue.md(closing.rollforward_markdown(month)),
        "received_and_distributed_30_days": MetadataValue.md("```\n" + closing.chart_text(flows) + "\n```"),
        "publication_version": MetadataValue.int(found.publication_version),
    }
    if found.is_restated:
        metadata["restated_by_run"] = MetadataValue.text(found.restated_by_run or "")
        metadata["restated"] = MetadataValue.json({"before": found.previous, "after": found.current})
    total = today.rows.get("total")
    if total:  # numbers Dagster plots across the partitions
        metadata["closing_lbs"] = MetadataValue.float(total["closing_lbs"])
        metadata["closing_usd"] = MetadataValue.float(total["closing_usd"])
        for program in today.programs:
            metadata[f"received_lbs/{program}"] = MetadataValue.float(total[f"received:{program}:lbs"])
        metadata["distributed_lbs"] = MetadataValue.float(total["distributions_lbs"])
    return metadata


dbt_models = [dbt_operations, dbt_reconciliation, dbt_finance]
