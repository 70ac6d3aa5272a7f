"""Alerts: failed ERROR checks, missed SLAs and failed runs reach a person.

The notifier itself is plain Python (`foodbank_platform.alerts`); this module decides *when* to call
it. `check_alert_sensor` looks at the latest evaluation of every check worth waking somebody for
(the blocking data-quality checks) and at the freshness state of every asset with an SLA (the
`FreshnessPolicy` on its spec, evaluated by Dagster's freshness daemon), and alerts once per failed
evaluation or failed freshness state: the cursor remembers what was already announced, so a failure
is not repeated every minute, and a new failure after a recovery is announced again.
`run_failure_alert` covers runs that fail outright (after their retries).
"""

import json

from dagster import (
    AssetCheckKey,
    AssetKey,
    ConfigurableResource,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from .. import alerts


class AlertsResource(ConfigurableResource):
    """Where alerts go besides the log: an incoming webhook and/or an SNS topic (from the environment)."""

    webhook_url: str | None = None
    sns_topic_arn: str | None = None

    def notifier(self) -> alerts.FanOut:
        env = {
            "FOODBANK_ALERT_WEBHOOK_URL": self.webhook_url or "",
            "FOODBANK_ALERT_SNS_TOPIC_ARN": self.sns_topic_arn or "",
        }
        return alerts.from_environment(env)


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


def freshness_alert(key: AssetKey, record) -> alerts.Alert:
    return alerts.Alert(
        title="freshness SLA missed",
        severity="ERROR",
        subject=key.to_user_string(),
        detail=f"freshness state {record.freshness_state.value} since {record.updated_at.isoformat()}",
        kind="freshness",
        facts={"updated_at": record.updated_at.isoformat()},
    )


def build_check_alert_sensor(
    check_keys_by_kind: dict[str, list[AssetCheckKey]], freshness_keys: list[AssetKey] = (), name: str = "check_alerts"
):
    @sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Announces each new failed evaluation of a blocking check, and each asset whose "
        "freshness policy (SLA) turns to FAIL.",
    )
    def _alerts(context: SensorEvaluationContext, alerting: AlertsResource):
        announced: dict[str, int | str] = json.loads(context.cursor) if context.cursor else {}
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
            notifier.send(freshness_alert(key, record))
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
