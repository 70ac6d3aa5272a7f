"""The foodbank_platform code location.

Sources → landing → raw → dbt (staging, canonical | reconciliation → finance marts) with the data
quality and SLA checks, the 10-minute sensor path, the nightly close schedule, late-data re-runs and
alerts (`defs/automation.py`, `defs/quality.py`, `defs/alerts.py`). Locally the warehouse is one
DuckDB file that only one process may write, so steps run in-process, one after another; in
production (Snowflake) the multiprocess executor with a `warehouse_writer` pool takes over.
"""

from __future__ import annotations

import json
import os

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor, multiprocess_executor

from . import settings as fb_settings
from .defs import alerts, automation, ingest, quality, transform
from .defs.ownership import with_code_references
from .defs.resources import build_resources


def _keys(assets_def, schema: str | None = None):
    return sorted((k for k in assets_def.keys if schema is None or k.path[0] == schema), key=str)


operations_marts = _keys(transform.dbt_operations, "marts")
nightly_tables = _keys(transform.dbt_reconciliation) + _keys(transform.dbt_finance)
blocking_check_keys = [
    k
    for c in quality.row_checks
    for k in c.check_keys
    if c.check_specs_by_output_name and next(iter(c.check_specs_by_output_name.values())).blocking
]

everything = define_asset_job(
    "ingest_and_build",
    selection=AssetSelection.all() - AssetSelection.checks(quality.missing_files),
    description="Pull and load every new file, then build every dbt model (the `foodbank run` command).",
)


def resources_for(s: fb_settings.Settings) -> dict:
    return {
        **build_resources(s),
        "alerting": alerts.AlertsResource(
            webhook_url=os.environ.get("FOODBANK_ALERT_WEBHOOK_URL"),
            sns_topic_arn=os.environ.get("FOODBANK_ALERT_SNS_TOPIC_ARN"),
        ),
        "dq": quality.QualityResource(tolerances_cases=json.loads(os.environ.get("FOODBANK_DQ_TOLERANCES") or "{}")),
    }


def build_definitions(s: fb_settings.Settings) -> Definitions:
    """The code location for one environment's settings (tests build one per temporary warehouse)."""
    return Definitions(
        assets=with_code_references(
            [
                *ingest.landing_specs,
                *ingest.landing_assets,
                *ingest.raw_assets,
                ingest.file_ledger_spec,
                *transform.dbt_models,
            ]
        ),
        asset_checks=quality.data_quality_checks,
        jobs=[everything, automation.operations_refresh, automation.nightly_close, automation.expected_files],
        schedules=[automation.nightly_close_schedule, automation.expected_files_schedule],
        sensors=[
            automation.new_files_sensor,
            automation.late_data_sensor,
            alerts.build_check_alert_sensor(
                {"data_quality": blocking_check_keys}, freshness_keys=operations_marts + nightly_tables
            ),
            alerts.run_failure_alert,
        ],
        resources=resources_for(s),
        executor=in_process_executor if s.env != "prod" else multiprocess_executor,
    )


defs = build_definitions(fb_settings.load())
