"""Alarms to one SNS topic: a DMS replication failing, a Dagster run failing, an SLA breached.

Dagster OSS publishes no CloudWatch metrics, so run failures are counted from the run workers' log
lines (`RUN_FAILURE` is the event name Dagster logs). The SLA alarms read the platform's own metrics
in the `FoodbankPlatform` namespace: `MinutesBehindSource`, which the daemon's `check_alerts` sensor
publishes every minute (how long landed data has waited for the 10-minute path, `alerts.minutes_behind`;
missing data is a breach, since then the daemon runs no sensor and nothing loads), and any
`SLA_BREACH` log line (that sensor, when a 06:00 Pacific table's freshness policy turns FAIL).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from .orchestration import METRIC_NAMESPACE

OPERATIONAL_SLA_MINUTES = 10


class Alerts(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, key: kms.IKey, run_logs: list[logs.ILogGroup], alert_email: str | None
    ) -> None:
        super().__init__(scope, cid)
        self.topic = sns.Topic(self, "Topic", display_name="foodbank platform alerts", master_key=key, enforce_ssl=True)
        if alert_email:
            self.topic.add_subscription(subs.EmailSubscription(alert_email))
        action = cw_actions.SnsAction(self.topic)

        events.Rule(
            self,
            "DmsFailure",
            description="A DMS replication of a source system failed",
            event_pattern=events.EventPattern(source=["aws.dms"], detail={"category": ["Failure"]}),
            targets=[targets.SnsTopic(self.topic)],
        )

        for name, pattern in (("RunFailures", "RUN_FAILURE"), ("SlaBreaches", "SLA_BREACH")):
            for i, group in enumerate(run_logs):
                logs.MetricFilter(
                    self,
                    f"{name}{i}",
                    log_group=group,
                    metric_namespace=METRIC_NAMESPACE,
                    metric_name=name,
                    filter_pattern=logs.FilterPattern.literal(f'"{pattern}"'),
                    metric_value="1",
                    default_value=0,
                )
            alarm = cw.Alarm(
                self,
                f"{name}Alarm",
                alarm_description=f"{name}: see the Dagster UI",
                metric=cw.Metric(
                    namespace=METRIC_NAMESPACE, metric_name=name, statistic="Sum", period=Duration.minutes(5)
                ),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(action)

        behind = cw.Alarm(
            self,
            "OperationalSlaAlarm",
            alarm_description=f"Operational tables more than {OPERATIONAL_SLA_MINUTES} min behind",
            metric=cw.Metric(
                namespace=METRIC_NAMESPACE,
                metric_name="MinutesBehindSource",
                statistic="Maximum",
                period=Duration.minutes(5),
            ),
            threshold=OPERATIONAL_SLA_MINUTES,
            evaluation_periods=2,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cw.TreatMissingData.BREACHING,
        )
        behind.add_alarm_action(action)
