"""The pieces of the quality and alerting machinery that need no pipeline run.

- the alert webhook posts JSON to a real HTTP server on loopback (no external endpoint);
- one failing channel does not keep an alert from the others, and the failure is reported;
- the missing-files calendar: a gap longer than 45 minutes in shipping hours is a finding, a late
  file only counts while it is late, and the nightly snapshot is due at 03:00 the next day;
- findings replace only the days a day-scoped check was run for (what makes backfills idempotent);
- the files sensor's cursor logic: out-of-name-order DMS files and same-name re-uploads are new.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from foodbank_platform import alerts, quality, watch

ALERT = alerts.Alert(
    title="check negative_balances failed",
    severity="ERROR",
    subject="reconciliation/inventory_daily_balance",
    detail="6 finding(s)",
    facts={"partition": "2026-10-30"},
)


def test_webhook_posts_the_alert_as_json(webhook_server):
    url, received = webhook_server
    alerts.from_environment({"FOODBANK_ALERT_WEBHOOK_URL": url}).send(ALERT)
    assert len(received) == 1
    assert received[0]["path"] == "/hooks/foodbank"
    assert received[0]["type"] == "application/json"
    assert received[0]["body"]["subject"] == "reconciliation/inventory_daily_balance"
    assert received[0]["body"]["facts"] == {"partition": "2026-10-30"}


def test_a_dead_channel_is_reported_after_the_others_had_their_turn(webhook_server, caplog):
    url, received = webhook_server
    dead = alerts.WebhookNotifier("http://127.0.0.1:9/unreachable", timeout=2)
    fan = alerts.FanOut([alerts.LogNotifier(), dead, alerts.WebhookNotifier(url)])
    with pytest.raises(RuntimeError, match="WebhookNotifier"):
        fan.send(ALERT)
    assert len(received) == 1
    assert "negative_balances" in caplog.text


def test_only_the_log_without_configuration():
    fan = alerts.from_environment({})
    assert [type(n) for n in fan.notifiers] == [alerts.LogNotifier]


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hh, minutes=mm)


def test_shipment_gaps_longer_than_45_minutes_in_shipping_hours():
    day = date(2026, 10, 30)
    files = [_at(day, 6, 15 * i) for i in range(1, 48)]  # 06:15 … 17:45, every 15 minutes
    assert quality.shipment_gaps(files, _at(day, 18), days=0) == []
    without_noon = [t for t in files if not _at(day, 11, 30) <= t <= _at(day, 12, 30)]
    gaps = quality.shipment_gaps(without_noon, _at(day, 18), days=0)
    assert gaps == [("shipments", day, _at(day, 11, 15), _at(day, 12, 45), 90)]
    # 30 minutes without a file (one file missing) is within the rule
    one_missing = [t for t in files if t != _at(day, 9)]
    assert quality.shipment_gaps(one_missing, _at(day, 18), days=0) == []
    # before 06:45 nothing is overdue yet; the open end counts up to now
    assert quality.shipment_gaps([], _at(day, 6, 40), days=0) == []
    assert quality.shipment_gaps([], _at(day, 7), days=0) == [("shipments", day, _at(day, 6), _at(day, 7), 60)]


def test_onhand_snapshot_due_at_three_next_morning_counts_only_until_delivered():
    con = duckdb.connect(":memory:")
    day = date(2026, 10, 30)
    deliveries = [("onhand_20261030.csv", _at(day + timedelta(days=1), 5))]  # two hours late
    before_due = quality.evaluate_missing_files(con, deliveries, _at(day + timedelta(days=1), 2, 59), days=1)
    late = quality.evaluate_missing_files(con, deliveries, _at(day + timedelta(days=1), 3, 1), days=1)
    stored = con.execute("SELECT feed, business_date FROM audit.dq_missing_files WHERE feed = 'onhand'").fetchall()
    after = quality.evaluate_missing_files(con, deliveries, _at(day + timedelta(days=1), 5, 1), days=1)
    assert ("onhand", day) not in [(r[0], r[1]) for r in before_due.examples]
    assert ("onhand", day) in [(r[0], r[1]) for r in late.examples]
    assert stored == [("onhand", day)]
    assert ("onhand", day) not in [(r[0], r[1]) for r in after.examples]


def test_day_scoped_findings_replace_only_their_days():
    con = duckdb.connect(":memory:")
    con.execute("CREATE SCHEMA marts")
    # the finance close's findings (marts.finance_exceptions, built by dbt), of two days and two rules
    con.execute(
        "CREATE TABLE marts.finance_exceptions AS SELECT * FROM (VALUES "
        "(DATE '2026-10-29', 'negative_balance', 'published', 'A|L1|X', 'closing below zero', -2.0, -20.0, -39.4), "
        "(DATE '2026-10-30', 'negative_balance', 'published', 'B|L2|Y', 'closing below zero', -1.0, -10.0, -19.7), "
        "(DATE '2026-10-30', 'duplicate_donation_id', 'holds_lines', 'DN-1', 'donation 1 line 2', 3.0, 30.0, 59.1)) "
        "t(business_date, finance_rule, effect, subject, detail, cases, lbs, value_usd)"
    )
    check = quality.by_name("negative_balance")
    first = quality.evaluate(con, check, date(2026, 10, 29), date(2026, 10, 31))
    assert first.failed_rows == 2 and not first.passed and check.severity == quality.WARN
    con.execute("DELETE FROM marts.finance_exceptions WHERE business_date = DATE '2026-10-29'")
    again = quality.evaluate(con, check, date(2026, 10, 30), date(2026, 10, 31))  # only the 30th re-checked
    assert again.failed_rows == 1
    kept = con.execute("SELECT business_date, subject FROM audit.dq_negative_balance ORDER BY 1").fetchall()
    assert kept == [(date(2026, 10, 29), "A|L1|X"), (date(2026, 10, 30), "B|L2|Y")]
    assert "| 2026-10-30 | published | B|L2|Y |" in again.examples_markdown()
    assert again.examples_json()[0]["subject"] == "B|L2|Y"


def test_file_cursor_sees_out_of_order_and_reuploaded_files():
    listing = {"wms__inventory_transactions": [watch.Seen("b.csv", 10, 100.0), watch.Seen("a.csv", 10, 100.0)]}
    fresh, cursor = watch.new_files(listing, {})
    assert [f.key for f in fresh["wms__inventory_transactions"]] == ["a.csv", "b.csv"]
    assert watch.new_files(listing, cursor)[0] == {}
    # a file with an older name landing later, and a same-name re-upload with new bytes
    later = {
        "wms__inventory_transactions": listing["wms__inventory_transactions"]
        + [watch.Seen("0.csv", 5, 100.0), watch.Seen("a.csv", 12, 130.0)]
    }
    fresh2, _ = watch.new_files(later, cursor)
    assert {(f.key, f.size) for f in fresh2["wms__inventory_transactions"]} == {("0.csv", 5), ("a.csv", 12)}
    assert watch.run_key(fresh2) == watch.run_key({k: list(reversed(v)) for k, v in fresh2.items()})
    assert watch.run_key(fresh2) != watch.run_key(fresh)
