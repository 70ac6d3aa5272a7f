"""What reacts: new files (the 10-minute path), late data for a closed day, and the alerts.

Which files are new and which business days a load touched are decided in plain Python
(`foodbank_platform.watch`, tested without a scheduler), who is told in `foodbank_platform.alerts`; here they
become sensors, each described in the UI. The same files never ask twice, files the ledger holds never ask,
and late data starts at the ledger's latest load: what the warehouse held before is not late. README,
"Operating it", says what each one runs and when.
"""

import json
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from dagster import (
    AssetCheckKey,
    AssetKey,
    AssetObservation,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunFailureSensorContext,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    run_failure_sensor,
    sensor,
)
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from .. import alerts, quality, watch
from ..business_day import PACIFIC
from ..sources import catalog
from . import checks
from .assets import dbt
from .assets.landing import landing_key
from .assets.raw import raw_key
from .jobs import nightly_close, operations_refresh
from .resources import AlertsResource, LandingResource, SftpResource, WarehouseBusy, WarehouseResource


def _operations_keys() -> list[AssetKey]:
    return sorted(dbt.dbt_operations.keys, key=str)


def _checks_for(keys: list[AssetKey]) -> list:
    """The row-level checks (dbt tests on what arrived, data quality) of these assets; not the
    clock-driven ones (missing files), which its own schedule evaluates, nor the dbt tests of views,
    which read the whole history (the 02:45 full-test run has them)."""
    wanted = set(keys)
    quality = (k for d in (*checks.row_checks, *checks.table_checks) for k in d.check_keys)
    return sorted((k for k in (*dbt.ten_minute_check_keys(), *quality) if k.asset_key in wanted), key=str)


def files_run_request(fresh: dict[str, list[watch.Seen]], as_of_date: str | None = None) -> RunRequest:
    """Pull (SFTP) and load the tables that have new files, then the operations models."""
    tables = [catalog.table(t) for t in sorted(fresh)]
    keys = [landing_key(t) for t in tables if not t.is_dms] + [raw_key(t) for t in tables]
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
        with warehouse.read_dbapi() as con:
            fresh = watch.not_in_ledger(con, fresh) if con is not None else fresh
    except WarehouseBusy:  # a run holds the warehouse: keep the cursor, look again next time
        return SkipReason("warehouse busy; new files are looked at again on the next tick")
    cursor_json = json.dumps(advanced, sort_keys=True)
    arrivals = [
        AssetObservation(
            landing_key(catalog.table(t)),
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
        with warehouse.read_dbapi() as con:
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


def alert_for(key: AssetCheckKey, record, kind: str) -> alerts.Alert:
    evaluation = record.event.asset_check_evaluation if record.event else None
    metadata = {k: getattr(v, "value", v) for k, v in (evaluation.metadata if evaluation else {}).items()}
    severity = evaluation.severity.value if evaluation else "ERROR"
    failed = metadata.get("failed_rows")
    detail = f"{failed} finding(s) in {metadata.get('findings_table')}" if failed is not None else ""
    return alerts.Alert(
        title=f"check {key.name} failed",
        severity=severity,
        subject=key.asset_key.to_user_string(),
        detail=detail,
        kind=kind,
        facts={"run_id": record.run_id, "partition": record.partition, "evaluation_id": record.id},
    )


def freshness_alert(key: AssetKey, record, minutes_behind: int | None = None, kind: str = "freshness") -> alerts.Alert:
    """A freshness policy (SLA) turned FAIL; kind `sla_breach` (the 06:00 tables) is logged as `SLA_BREACH`."""
    return alerts.Alert(
        title="freshness SLA missed",
        severity="ERROR",
        subject=key.to_user_string(),
        detail=f"freshness state {record.freshness_state.value} since {record.updated_at.isoformat()}",
        kind=kind,
        facts={"updated_at": record.updated_at.isoformat(), "minutes_behind": minutes_behind},
    )


def minutes_since_materialized(instance, key: AssetKey, now: float) -> int | None:
    """Minutes since the asset's latest materialization (any partition); None if it never was."""
    event = instance.get_latest_materialization_event(key)
    return None if event is None else int((now - event.timestamp) // 60)


def operations_minutes_behind(instance, now: datetime) -> float:
    """The 10-minute path's lag (`alerts.minutes_behind`) from its latest runs."""
    records = instance.get_run_records(filters=RunsFilter(job_name=operations_refresh.name), limit=100)
    runs = [(r.create_timestamp, r.dagster_run.status == DagsterRunStatus.SUCCESS) for r in records]
    return alerts.minutes_behind(runs, now)


def build_check_alert_sensor(
    check_keys_by_kind: dict[str, list[AssetCheckKey]],
    freshness_keys: list[AssetKey] = (),
    name: str = "check_alerts",
    breach_keys: list[AssetKey] = (),
):
    """`breach_keys`: the freshness keys whose FAIL is an `SLA_BREACH` (the 06:00 tables)."""
    breaches = set(breach_keys)

    @sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Announces each new failed evaluation of a check that holds a finance day, and each asset "
        "whose freshness policy (SLA) turns to FAIL (a 06:00 table: an SLA_BREACH line); publishes the 10-minute "
        "path's MinutesBehindSource to CloudWatch when a metric namespace is configured.",
    )
    def _alerts(context: SensorEvaluationContext, alerting: AlertsResource):
        announced: dict[str, int | str] = json.loads(context.cursor) if context.cursor else {}
        metrics = alerting.metrics()
        if metrics is not None:  # every tick: the alarm reads no data as the daemon not running
            behind = operations_minutes_behind(context.instance, datetime.now(UTC))
            metrics.put(alerts.MINUTES_BEHIND_SOURCE, behind)
        notifier = alerting.notifier()
        sent = 0
        for kind, keys in check_keys_by_kind.items():
            for key in keys:
                record = context.instance.get_latest_asset_check_evaluation_record(key)
                if record is None or record.status != AssetCheckExecutionRecordStatus.FAILED:
                    continue
                if announced.get(key.to_user_string()) == record.id:
                    continue
                notifier.send(alert_for(key, record, kind))
                announced[key.to_user_string()] = record.id
                sent += 1
        states = context.instance.get_freshness_state_records(list(freshness_keys)) if freshness_keys else {}
        for key, record in sorted(states.items(), key=lambda kv: kv[0].to_user_string()):
            marker = f"freshness:{key.to_user_string()}"
            if record.freshness_state != FreshnessState.FAIL or announced.get(marker) == record.updated_at.isoformat():
                continue
            behind = minutes_since_materialized(context.instance, key, time.time())
            kind = "sla_breach" if key in breaches else "freshness"
            notifier.send(freshness_alert(key, record, behind, kind))
            announced[marker] = record.updated_at.isoformat()
            sent += 1
        context.update_cursor(json.dumps(announced, sort_keys=True))
        if not sent:
            return SkipReason("no new failed checks or freshness failures")
        return None

    return _alerts


@run_failure_sensor(
    name="run_failure_alert",
    default_status=DefaultSensorStatus.RUNNING,
    description="Announces every failed run (webhook and SNS) with its job, partition and error.",
)
def run_failure_alert(context: RunFailureSensorContext, alerting: AlertsResource):
    run = context.dagster_run
    alerting.notifier().send(
        alerts.Alert(
            title=f"run of {run.job_name} failed",
            severity="ERROR",
            subject=run.job_name,
            detail=(context.failure_event.message or "")[:500],
            kind="run_failure",
            facts={"run_id": run.run_id, "partition": run.tags.get("dagster/partition")},
        )
    )


def _keys(assets_def, schema: str | None = None) -> list[AssetKey]:
    return sorted((k for k in assets_def.keys if schema is None or k.path[0] == schema), key=str)


# Alerts wake somebody when a finance rule holds a business day (the ERROR checks) and for the SLAs:
# the operations marts (10 minutes) and every nightly table (06:00 Pacific).
day_hold_check_keys = [
    k for c in checks.row_checks for k in c.check_keys if quality.by_name(k.name).severity == quality.ERROR
]
# A 06:00 table missing its deadline is an SLA_BREACH line (production alarms on it); the operations marts'
# 10-minute window also fails on a quiet night with nothing to load, so their lag is MinutesBehindSource.
nightly_sla_keys = _keys(dbt.dbt_reconciliation) + _keys(dbt.dbt_finance)
sla_keys = _keys(dbt.dbt_operations, "marts") + nightly_sla_keys
check_alerts = build_check_alert_sensor(
    {"finance_hold": day_hold_check_keys}, freshness_keys=sla_keys, breach_keys=nightly_sla_keys
)
