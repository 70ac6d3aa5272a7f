"""Alerts: failed ERROR checks, missed SLAs and failed runs reach a person.

The notifier itself is plain Python (`foodbank_platform.alerts`); this module decides *when* to call
it. `check_alert_sensor` looks at the latest evaluation of every check worth waking somebody for
(the blocking data-quality checks and the freshness checks that encode the SLAs) and alerts once per
failed evaluation: the cursor remembers the evaluation ids already announced, so a failure is not
repeated every minute, and a new failure after a recovery is announced again. `run_failure_alert`
covers runs that fail outright (after their retries).
"""

import json

from dagster import (AssetCheckKey, ConfigurableResource, DefaultSensorStatus, RunFailureSensorContext,
                     SensorEvaluationContext, SkipReason, run_failure_sensor, sensor)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from .. import alerts


class AlertsResource(ConfigurableResource):
    """Where alerts go besides the log: an incoming webhook and/or an SNS topic (from the environment)."""

    webhook_url: str | None = None
    sns_topic_arn: str | None = None

    def notifier(self) -> alerts.FanOut:
        env = {"FOODBANK_ALERT_WEBHOOK_URL": self.webhook_url or "",
               "FOODBANK_ALERT_SNS_TOPIC_ARN": self.sns_topic_arn or ""}
        return alerts.from_environment(env)


def alert_for(key: AssetCheckKey, record, kind: str) -> alerts.Alert:
    evaluation = record.event.asset_check_evaluation if record.event else None
    metadata = {k: getattr(v, "value", v) for k, v in (evaluation.metadata if evaluation else {}).items()}
    severity = evaluation.severity.value if evaluation else "ERROR"
    failed = metadata.get("failed_rows")
    detail = f"{failed} finding(s) in {metadata.get('findings_table')}" if failed is not None else str(
        metadata.get("dagster/freshness_params") or metadata.get("dagster/overdue_seconds") or "")
    return alerts.Alert(
        title=f"check {key.name} failed", severity=severity, subject=key.asset_key.to_user_string(),
        detail=detail, kind=kind,
        facts={"run_id": record.run_id, "partition": record.partition, "evaluation_id": record.id},
    )


def build_check_alert_sensor(check_keys_by_kind: dict[str, list[AssetCheckKey]], name: str = "check_alerts"):
    @sensor(name=name, minimum_interval_seconds=60, default_status=DefaultSensorStatus.RUNNING,
            description="Announces each new failed evaluation of a blocking or SLA check.")
    def _alerts(context: SensorEvaluationContext, alerting: AlertsResource):
        announced: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
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
        context.update_cursor(json.dumps(announced, sort_keys=True))
        if not sent:
            return SkipReason("no new failed checks")
        return None

    return _alerts


@run_failure_sensor(name="run_failure_alert", default_status=DefaultSensorStatus.RUNNING)
def run_failure_alert(context: RunFailureSensorContext, alerting: AlertsResource):
    run = context.dagster_run
    alerting.notifier().send(alerts.Alert(
        title=f"run of {run.job_name} failed", severity="ERROR", subject=run.job_name,
        detail=(context.failure_event.message or "")[:500], kind="run_failure",
        facts={"run_id": run.run_id, "partition": run.tags.get("dagster/partition")}))
