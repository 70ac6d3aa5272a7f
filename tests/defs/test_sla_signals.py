"""The two SLA signals production's alarms read (deploy/infra/stacks/monitoring.py): the `SLA_BREACH` log line
when a 06:00 table's freshness policy fails, and `MinutesBehindSource`, the 10-minute path's lag, which the
`check_alerts` sensor publishes to CloudWatch (here moto's server on loopback) only when a namespace is set."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
from dagster import AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus, build_sensor_context

from foodbank_platform import alerts
from foodbank_platform.defs import sensors
from foodbank_platform.defs.resources import AlertsResource

NOW = datetime(2026, 11, 3, 12, tzinfo=UTC)


def ago(minutes: int) -> datetime:
    return NOW - timedelta(minutes=minutes)


def test_minutes_behind_counts_from_the_oldest_run_not_caught_up_by_a_success():
    assert alerts.minutes_behind([], NOW) == 0  # a quiet night: nothing requested, nothing behind
    assert alerts.minutes_behind([(ago(30), True), (ago(3), True)], NOW) == 0
    assert alerts.minutes_behind([(ago(30), True), (ago(14), False), (ago(4), False)], NOW) == 14
    assert alerts.minutes_behind([(ago(30), False), (ago(20), True)], NOW) == 0  # the success loaded its files
    assert alerts.minutes_behind([(ago(45), False)], NOW) == 45  # never succeeded


def test_a_missed_0600_sla_is_one_sla_breach_line_with_asset_and_minutes(caplog):
    record = SimpleNamespace(freshness_state=SimpleNamespace(value="FAIL"), updated_at=NOW)
    key = AssetKey(["marts", "finance_close"])
    with caplog.at_level(logging.WARNING, logger="foodbank_platform.alerts"):
        alerts.LogNotifier().send(sensors.freshness_alert(key, record, 75, kind="sla_breach"))
        alerts.LogNotifier().send(sensors.freshness_alert(AssetKey(["marts", "lot_trace"]), record, 12))
    breach, operations = caplog.messages
    assert breach.startswith("SLA_BREACH asset=marts/finance_close minutes_behind=75 ")
    assert "SLA_BREACH" not in operations  # the 10-minute marts' lag is the metric, not this line
    # which SLAs breach: the nightly (06:00) tables, not the operations marts
    nightly = set(sensors.nightly_sla_keys)
    assert key in nightly and AssetKey(["marts", "lot_trace"]) not in nightly
    assert nightly < set(sensors.sla_keys)


def _run(instance, status: DagsterRunStatus) -> None:
    run = DagsterRun(job_name=sensors.operations_refresh.name, run_id=f"r-{len(instance.get_runs())}", status=status)
    instance.add_run(run)


def test_minutes_behind_source_is_published_to_cloudwatch_only_when_configured(s3_endpoint, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)  # moto's server answers CloudWatch too
    cloudwatch = boto3.client("cloudwatch", endpoint_url=s3_endpoint)
    namespace = f"FoodbankTest{datetime.now().timestamp():.0f}"
    instance = DagsterInstance.ephemeral()
    _run(instance, DagsterRunStatus.SUCCESS)
    _run(instance, DagsterRunStatus.FAILURE)  # requested after the success: its files wait
    later = datetime.now(UTC) + timedelta(minutes=15)
    assert 14.9 < sensors.operations_minutes_behind(instance, later) < 15.1

    sensor = sensors.build_check_alert_sensor({}, name="alerts_under_test")
    sensor(build_sensor_context(instance=instance, resources={"alerting": AlertsResource()}))
    assert not cloudwatch.list_metrics(Namespace=namespace)["Metrics"]  # not configured: nothing published

    configured = {"alerting": AlertsResource(metric_namespace=namespace)}
    sensor(build_sensor_context(instance=instance, resources=configured))
    [metric] = cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
    assert metric["MetricName"] == "MinutesBehindSource"
    stats = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName="MinutesBehindSource",
        StartTime=datetime.now(UTC) - timedelta(hours=1),
        EndTime=datetime.now(UTC) + timedelta(hours=1),
        Period=60,
        Statistics=["Maximum"],
    )
    [point] = stats["Datapoints"]
    assert 0 <= point["Maximum"] < 1  # the failed run was requested moments ago
