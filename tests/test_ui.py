"""The Dagster UI as the food bank's engineers see it, driven in headless Chromium.

A real `dagster-webserver` serves this code location on loopback with a throw-away DAGSTER_HOME;
the browser checks that the lineage runs landing → raw → staging → canonical → marts (and on to
reconciliation → finance), that the data-quality checks are listed on their assets, that the
schedules and sensors exist, and that a three-day backfill of the nightly close can be launched from
an asset page. Screenshots are kept in `test-artifacts/`. Chromium is Debian's; `ensure_chromium()`
installs it with apt-get when `/usr/bin/chromium` is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ui_browser import dagster_webserver, dismiss_welcome, ensure_chromium, headless_page

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
BACKFILL_DAYS = ["2026-10-29", "2026-10-30", "2026-10-31"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    home = tmp_path_factory.mktemp("ui")
    env = {"FOODBANK_HOME": str(home / "foodbank"), "FOODBANK_DUCKDB_PATH": str(home / "foodbank" / "w.duckdb")}
    with dagster_webserver(home / "dagster", env, ARTIFACTS / "dagster-webserver.log") as base:
        yield base, home / "dagster"


def _graph_x(page, label: str) -> float:
    """x of the group box in the lineage graph (the sidebar lists the same names further left)."""
    boxes = [b for b in (page.get_by_text(label, exact=True).nth(i).bounding_box()
                         for i in range(page.get_by_text(label, exact=True).count())) if b and b["height"] > 0]
    assert boxes, f"group {label!r} not shown"
    return max(b["x"] for b in boxes)


def test_ui_lineage_checks_automation_and_backfill(webserver):
    base, dagster_home = webserver
    with headless_page() as page:
        page.goto(base + "/asset-groups")
        dismiss_welcome(page)
        page.get_by_text("reconciliation", exact=True).last.wait_for()
        page.wait_for_timeout(1500)  # the graph lays itself out after the data arrives
        page.screenshot(path=str(ARTIFACTS / "ui-asset-graph.png"))
        x = {g: _graph_x(page, g) for g in ["landing", "raw", "staging", "canonical", "marts", "reconciliation",
                                            "finance"]}
        assert x["landing"] < x["raw"] < x["staging"] < x["canonical"] < x["marts"], x
        assert x["canonical"] < x["reconciliation"] < x["finance"], x

        for asset, check in [("canonical/inventory_events", "missing_skus"),
                             ("reconciliation/inventory_daily_balance", "negative_balances"),
                             ("raw/legacy_warehouse__shipments", "missing_files")]:
            page.goto(f"{base}/assets/{asset}?view=checks")
            page.get_by_text(check).first.wait_for()

        page.goto(base + "/automation")
        for name in ["new_files_sensor", "late_data_sensor", "nightly_close_schedule", "expected_files_schedule",
                     "check_alerts", "run_failure_alert"]:
            page.get_by_text(name, exact=True).first.wait_for()
        page.screenshot(path=str(ARTIFACTS / "ui-automation.png"))

        page.goto(base + "/assets/reconciliation/inventory_daily_balance")
        dismiss_welcome(page)
        page.get_by_role("button", name="Materialize…").click()
        confirm = page.get_by_role("button", name="Confirm")  # "upstream never materialized" warning
        confirm.wait_for()
        confirm.click()
        page.get_by_text("Launch runs to materialize").wait_for()
        partitions = page.get_by_placeholder("No matching partitions")
        partitions.fill(f"[{BACKFILL_DAYS[0]}...{BACKFILL_DAYS[-1]}]")
        partitions.press("Enter")
        page.get_by_text("3 partitions").first.wait_for()
        page.get_by_text("Backfills all partitions in a single run").wait_for()
        page.screenshot(path=str(ARTIFACTS / "ui-backfill-dialog.png"))
        page.get_by_role("button", name="Launch backfill").click()
        page.get_by_text("Created backfill").wait_for()
        page.screenshot(path=str(ARTIFACTS / "ui-backfill-created.png"))

    from dagster import AssetKey, DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        backfills = instance.get_backfills()
    assert len(backfills) == 1
    target = backfills[0].asset_backfill_data.target_subset
    launched = target.get_partitions_subset(AssetKey(["reconciliation", "inventory_daily_balance"]))
    assert sorted(launched.get_partition_keys()) == BACKFILL_DAYS
