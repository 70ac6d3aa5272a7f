"""Telling the four people who run the platform that something needs them.

A missed SLA or a finance day held by its findings is only useful if somebody hears about it, and
where they hear about it differs by environment: a laptop logs, the food bank's chat gets a webhook,
the on-call rota is an SNS topic. So an `Alert` is a small value, and a notifier is anything with
`send(alert)`. Which notifiers are active is configuration (`FOODBANK_ALERT_WEBHOOK_URL`,
`FOODBANK_ALERT_SNS_TOPIC_ARN`); the log notifier is always on, so an alert is never silently lost. A
missed 06:00 SLA is logged as a line starting `SLA_BREACH`, and with `FOODBANK_METRIC_NAMESPACE` set the
10-minute path's lag is published as the CloudWatch metric `MinutesBehindSource`: production's alarms
read both (deploy/infra/stacks/monitoring.py).
Nothing here imports Dagster: the sensors in `defs/sensors.py` build alerts and hand them over.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Iterable, Protocol

log = logging.getLogger("foodbank_platform.alerts")


@dataclass(frozen=True)
class Alert:
    title: str
    severity: str  # ERROR | WARN
    subject: str  # the asset or run the alert is about, e.g. "marts/finance_daily_summary"
    detail: str = ""
    kind: str = "data_quality"  # data_quality | freshness | sla_breach | run_failure
    facts: dict = field(default_factory=dict)

    def as_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, default=str).encode()


class Notifier(Protocol):
    def send(self, alert: Alert) -> None: ...


class LogNotifier:
    def __init__(self, logger: logging.Logger = log):
        self.logger = logger

    def send(self, alert: Alert) -> None:
        level = logging.ERROR if alert.severity == "ERROR" else logging.WARNING
        if alert.kind == "sla_breach":  # the line production's SlaBreaches metric filter counts
            minutes = alert.facts.get("minutes_behind")
            self.logger.log(level, "SLA_BREACH asset=%s minutes_behind=%s %s", alert.subject, minutes, alert.detail)
            return
        self.logger.log(level, "[%s] %s: %s %s", alert.kind, alert.subject, alert.title, alert.detail)


class WebhookNotifier:
    """POSTs the alert as JSON (Slack/Teams/any incoming webhook behind a small relay)."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url = url
        self.timeout = timeout

    def send(self, alert: Alert) -> None:
        request = urllib.request.Request(
            self.url, data=alert.as_json(), method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            if response.status >= 300:
                raise RuntimeError(f"webhook {self.url} answered {response.status}")


class SnsNotifier:
    def __init__(self, topic_arn: str, client=None):
        self.topic_arn = topic_arn
        self._client = client

    def send(self, alert: Alert) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sns")
        self._client.publish(
            TopicArn=self.topic_arn, Subject=f"[{alert.severity}] {alert.title}"[:100], Message=alert.as_json().decode()
        )


class FanOut:
    """Every configured channel; one channel failing must not keep the alert from the others."""

    def __init__(self, notifiers: list[Notifier]):
        self.notifiers = notifiers

    def send(self, alert: Alert) -> None:
        errors = []
        for n in self.notifiers:
            try:
                n.send(alert)
            except Exception as e:  # noqa: BLE001 - reported below, after the other channels had their turn
                errors.append(f"{type(n).__name__}: {e}")
        if errors:
            raise RuntimeError("alert not delivered to " + "; ".join(errors))


def from_environment(environ: dict[str, str] | None = None) -> FanOut:
    e = os.environ if environ is None else environ
    notifiers: list[Notifier] = [LogNotifier()]
    if e.get("FOODBANK_ALERT_WEBHOOK_URL"):
        notifiers.append(WebhookNotifier(e["FOODBANK_ALERT_WEBHOOK_URL"]))
    if e.get("FOODBANK_ALERT_SNS_TOPIC_ARN"):
        notifiers.append(SnsNotifier(e["FOODBANK_ALERT_SNS_TOPIC_ARN"]))
    return FanOut(notifiers)


# --- the lag of the 10-minute path, as a CloudWatch metric --------------------------------------

MINUTES_BEHIND_SOURCE = "MinutesBehindSource"


def minutes_behind(runs: Iterable[tuple[datetime, bool]], now: datetime) -> float:
    """How long landed data has waited for the 10-minute path, from its runs as (requested at, succeeded):
    since the request of the oldest run not succeeded that was requested after the last successful one
    (a successful run loads every file not loaded yet), 0 when there is none. A quiet night with no new
    files requests no run and is 0 minutes behind; a stuck or failing path grows until it succeeds."""
    runs = list(runs)
    last_success = max((at for at, ok in runs if ok), default=None)
    waiting = [at for at, ok in runs if not ok and (last_success is None or at > last_success)]
    return max(0.0, (now - min(waiting)).total_seconds() / 60) if waiting else 0.0


class MetricPublisher:
    """Metrics in one CloudWatch namespace (runs and the daemon may PutMetricData in it only)."""

    def __init__(self, namespace: str, client=None):
        self.namespace = namespace
        self._client = client

    def put(self, name: str, value: float, unit: str = "None") -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("cloudwatch")
        self._client.put_metric_data(
            Namespace=self.namespace, MetricData=[{"MetricName": name, "Value": value, "Unit": unit}]
        )


def metrics_from_environment(environ: dict[str, str] | None = None) -> MetricPublisher | None:
    """`FOODBANK_METRIC_NAMESPACE` set (production: FoodbankPlatform): a publisher; unset: none."""
    e = os.environ if environ is None else environ
    return MetricPublisher(e["FOODBANK_METRIC_NAMESPACE"]) if e.get("FOODBANK_METRIC_NAMESPACE") else None
