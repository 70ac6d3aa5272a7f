"""When things run: the 10-minute path, the nightly close, late data, and the clock checks.

- **10-minute path.** `new_files_sensor` looks at the landing zone (DMS writes there itself) and the
  SFTP server every minute. New files → one run that pulls the SFTP feeds concerned, loads their raw
  tables and rebuilds the operations models (`dbt_operations`, incremental), with their checks. The
  cursor and the run key come from `foodbank_platform.watch`: the same files never ask twice, and files
  the ledger already holds (loaded by `foodbank run` or a backfill) never ask at all. New DMS files are
  recorded as observations of their landing asset (files and bytes arrived).
- **Nightly close.** At 03:15 Pacific — after the on-hand snapshot is due (03:00), with time for
  retries before the 06:00 SLA — `nightly_close_schedule` builds yesterday's partition of the
  reconciliations and, unless a blocking check fails, the finance marts.
- **Late data.** `late_data_sensor` reads the ledger for loads since its cursor, finds the business
  days their rows belong to, and re-runs the nightly close for each of those days that was already
  published (a day not yet closed is left to the schedule). Its first look starts at the ledger's latest
  load: what the warehouse held before is not late.
- **Clock checks.** `expected_files_schedule` evaluates the missing-files check every 15 minutes
  with the tick's time. The SLAs are `FreshnessPolicy`s on the specs (`defs/transform.py`), which
  Dagster's freshness daemon evaluates; `check_alerts` (`defs/alerts.py`) announces a failed one.

DuckDB has one writer: every writing op is in the `warehouse_writer` pool (one slot), and the
nightly runs are queued one at a time by their `foodbank/path` tag (deploy/dagster.yaml).
"""

import json
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetKey,
    AssetObservation,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from .. import watch
from ..business_day import PACIFIC
from ..sources import catalog
from . import ingest, quality, transform
from .resources import LandingResource, SftpResource, WarehouseBusy, WarehouseResource

# deploy/dagster.yaml queues runs by `foodbank/path` (one nightly close at a time) and retries failed
# runs (a lost task). Transient step failures are retried inside the run (RetryPolicy on every op); a
# nightly run failed by a blocking check must not be re-launched, it would only fail again.
OPERATIONS_TAGS = {"foodbank/path": "operations"}
NIGHTLY_TAGS = {"foodbank/path": "nightly", "dagster/retry_on_asset_or_op_failure": "false"}

operations_selection = AssetSelection.assets(
    *ingest.landing_assets, *ingest.raw_assets, transform.dbt_operations
) - AssetSelection.checks(quality.missing_files)
nightly_selection = AssetSelection.assets(transform.dbt_reconciliation, transform.dbt_finance)

operations_refresh = define_asset_job(
    "operations_refresh",
    selection=operations_selection,
    tags=OPERATIONS_TAGS,
    description="10-minute path: pull and load new files, rebuild the operations models, run their checks.",
)

nightly_close = define_asset_job(  # partitioned by business day, as its assets are
    "nightly_close",
    selection=nightly_selection,
    tags=NIGHTLY_TAGS,
    description="Finance-grade close of one business day (or a range, as one run): reconciliations, "
    "then the finance marts unless a blocking check fails.",
)

expected_files = define_asset_job(
    "expected_files",
    selection=AssetSelection.checks(quality.missing_files),
    tags=OPERATIONS_TAGS,
    description="Files expected but missing: shipments every 45 minutes in shipping hours, on-hand by 03:00.",
)


@schedule(
    job=nightly_close,
    cron_schedule="15 3 * * *",
    execution_timezone=PACIFIC,
    default_status=DefaultScheduleStatus.RUNNING,
    description="03:15 Pacific: close the previous business day (reconciliations, then finance).",
)
def nightly_close_schedule(context: ScheduleEvaluationContext):
    yesterday = (context.scheduled_execution_time.astimezone(ZoneInfo(PACIFIC)).date() - timedelta(days=1)).isoformat()
    return RunRequest(run_key=f"nightly-{yesterday}", partition_key=yesterday)


@schedule(
    job=expected_files,
    cron_schedule="*/15 * * * *",
    execution_timezone=PACIFIC,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Every 15 minutes: evaluate the missing-files check at the tick's time.",
)
def expected_files_schedule(context: ScheduleEvaluationContext):
    tick = context.scheduled_execution_time.isoformat()
    return RunRequest(run_key=f"expected-files-{tick}", tags={"foodbank/as_of": tick})


def _operations_keys() -> list[AssetKey]:
    return sorted(transform.dbt_operations.keys, key=str)


def _checks_for(keys: list[AssetKey]) -> list:
    """The row-level checks (dbt tests, data quality) of these assets; not the clock-driven ones
    (missing files), which its own schedule evaluates."""
    wanted = set(keys)
    defs_with_checks = [transform.dbt_operations, *quality.row_checks, *quality.table_checks]
    return sorted((k for d in defs_with_checks for k in d.check_keys if k.asset_key in wanted), key=str)


def files_run_request(fresh: dict[str, list[watch.Seen]], as_of_date: str | None = None) -> RunRequest:
    """Pull (SFTP) and load the tables that have new files, then the operations models."""
    tables = [catalog.table(t) for t in sorted(fresh)]
    keys = [ingest.landing_key(t) for t in tables if not t.is_dms] + [ingest.raw_key(t) for t in tables]
    tags = {"foodbank/new_files": str(sum(len(v) for v in fresh.values()))}
    if as_of_date:
        tags["foodbank/as_of_date"] = as_of_date
    keys = keys + _operations_keys()
    return RunRequest(run_key=watch.run_key(fresh), asset_selection=keys, asset_check_keys=_checks_for(keys), tags=tags)


def list_new_files(landing: LandingResource, sftp: SftpResource, now: float) -> dict[str, list[watch.Seen]]:
    store, source = landing.store(), sftp.source()
    try:
        return {
            t.raw_table: (watch.list_landing(store, t) if t.is_dms else watch.list_sftp_ready(source, t, now))
            for t in catalog.TABLES
        }
    finally:
        source.close()


@sensor(
    job=operations_refresh,
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="New DMS files in landing or ready SFTP files → load them and refresh the operations models.",
)
def new_files_sensor(
    context: SensorEvaluationContext, landing: LandingResource, sftp: SftpResource, warehouse: WarehouseResource
):
    cursor = json.loads(context.cursor) if context.cursor else {}
    fresh, advanced = watch.new_files(list_new_files(landing, sftp, time.time()), cursor)
    if not fresh:
        return SkipReason("no new files")
    try:
        with warehouse.read() as con:
            fresh = watch.not_in_ledger(con, fresh) if con is not None else fresh
    except WarehouseBusy:  # a run holds the warehouse: keep the cursor, look again next time
        return SkipReason("warehouse busy; new files are looked at again on the next tick")
    cursor_json = json.dumps(advanced, sort_keys=True)
    arrivals = [
        AssetObservation(
            ingest.landing_key(catalog.table(t)),
            metadata={
                "files_arrived": len(files),
                "bytes_arrived": sum(f.size for f in files),
                "newest_file": max(files, key=lambda f: f.mtime).key,
            },
        )
        for t, files in sorted(fresh.items())
        if catalog.table(t).is_dms
    ]
    if not fresh:
        return SensorResult(cursor=cursor_json, skip_reason="every new file is already in the ledger")
    return SensorResult(run_requests=[files_run_request(fresh)], cursor=cursor_json, asset_events=arrivals)


def today_pacific() -> date:
    return datetime.now(ZoneInfo(PACIFIC)).date()


def published_days(instance) -> set[str]:
    key = AssetKey(["reconciliation", "inventory_daily_balance"])
    return set(instance.get_materialized_partitions(key))


@sensor(
    job=nightly_close,
    minimum_interval_seconds=300,
    default_status=DefaultSensorStatus.RUNNING,
    description="Rows loaded for an already-published business day → re-run that day's close.",
)
def late_data_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    try:
        with warehouse.read() as con:
            if con is None:
                return SkipReason("no warehouse yet")
            if not context.cursor:  # the first look: what is loaded already is not late, start from here
                mark = watch.latest_load(con)
                return SensorResult(
                    cursor=mark.isoformat() if mark else None, skip_reason="started from the ledger's latest load"
                )
            days, new_mark = watch.touched_business_dates(con, datetime.fromisoformat(context.cursor))
    except WarehouseBusy as e:  # a run holds the warehouse: look again next time
        return SkipReason(f"warehouse busy: {e}")
    closed = published_days(context.instance)
    reopen = [d.isoformat() for d in days if d.isoformat() in closed and d < today_pacific()]
    requests = [
        RunRequest(partition_key=d, run_key=f"late-{d}-{new_mark.isoformat()}", tags={"foodbank/reason": "late_data"})
        for d in reopen
    ]
    cursor = new_mark.isoformat() if new_mark else context.cursor
    return SensorResult(
        run_requests=requests, cursor=cursor, skip_reason=None if requests else "no late rows for a published day"
    )
