"""The foodbank_platform code location: it only assembles what `defs/` defines, by Dagster role.

Sources → landing → raw → dbt (staging, canonical | reconciliation → finance marts) with the data
quality checks, retention, the jobs, the schedules and the sensors. Locally the warehouse is one DuckDB
file that only one process may write, so steps run in-process, one after another; in production
(Snowflake) the multiprocess executor with the `warehouse_writer` pool takes over.
"""

from __future__ import annotations

from dagster import Definitions, in_process_executor, multiprocess_executor

from . import settings as fb_settings
from .defs import checks, jobs, schedules, sensors
from .defs.assets import dbt, landing, raw
from .defs.assets.retention import retention_asset
from .defs.ownership import with_code_references
from .defs.resources import build_resources


def build_definitions(s: fb_settings.Settings) -> Definitions:
    """The code location for one environment's settings (tests build one per temporary warehouse)."""
    return Definitions(
        assets=with_code_references(
            [
                *landing.landing_specs,
                *landing.landing_assets,
                *raw.raw_assets,
                raw.file_ledger_spec,
                checks.missing_files_findings_spec,
                *dbt.dbt_models,
                retention_asset,
            ]
        ),
        asset_checks=checks.data_quality_checks,
        jobs=[jobs.everything, jobs.operations_refresh, jobs.nightly_close, jobs.expected_files, jobs.retention],
        schedules=[
            schedules.nightly_close_schedule,
            schedules.operations_full_tests_schedule,
            schedules.expected_files_schedule,
            schedules.retention_schedule,
        ],
        sensors=[sensors.new_files_sensor, sensors.late_data_sensor, sensors.check_alerts, sensors.run_failure_alert],
        resources=build_resources(s),
        executor=in_process_executor if s.env != "prod" else multiprocess_executor,
    )


defs = build_definitions(fb_settings.load())
