"""The Dagster UI as the food bank's engineers see it, driven in headless Chromium.

A real `dagster-webserver` serves this code location on loopback with a throw-away DAGSTER_HOME;
on an empty warehouse the browser checks that the lineage runs landing → raw → staging → canonical → marts (and on to
reconciliation → finance), that the data-quality checks are listed on their assets, that the
schedules and sensors exist, and that a three-day backfill of the nightly close can be launched from
an asset page. On the state `foodbank demo` leaves, `foodbank dev` (webserver and daemon, as `make dev`)
shows the demo's runs, its sensors' first ticks launch nothing, and a raw asset shows the table's row
count. Every asset, job, schedule and sensor says what it is and who owns it. Screenshots are kept in
`test-artifacts/`. Chromium is Debian's; `ensure_chromium()`
installs it with apt-get when `/usr/bin/chromium` is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from ui_browser import dagster_webserver, dismiss_welcome, ensure_chromium, foodbank_dev, headless_page

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BACKFILL_DAYS = ["2026-10-29", "2026-10-30", "2026-10-31"]


@pytest.fixture(scope="module", autouse=True)
def browser_and_artifacts():
    """Chromium and the screenshot folder, whichever test of the module (in random order) comes first."""
    ensure_chromium()
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    home = tmp_path_factory.mktemp("ui")
    env = {"FOODBANK_HOME": str(home / "foodbank"), "FOODBANK_DUCKDB_PATH": str(home / "foodbank" / "w.duckdb")}
    with dagster_webserver(home / "dagster", env, ARTIFACTS / "dagster-webserver.log") as base:
        yield base, home / "dagster"


def _graph_x(page, label: str) -> float:
    """x of the group box in the lineage graph (the sidebar lists the same names further left)."""
    boxes = [
        b
        for b in (
            page.get_by_text(label, exact=True).nth(i).bounding_box()
            for i in range(page.get_by_text(label, exact=True).count())
        )
        if b and b["height"] > 0
    ]
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
        x = {
            g: _graph_x(page, g)
            for g in ["landing", "raw", "staging", "canonical", "marts", "reconciliation", "finance"]
        }
        assert x["landing"] < x["raw"] < x["staging"] < x["canonical"] < x["marts"], x
        assert x["canonical"] < x["reconciliation"] < x["finance"], x

        for asset, check in [
            ("canonical/inventory_events", "missing_skus"),
            ("marts/finance_exceptions", "negative_balance"),
            ("raw/legacy_warehouse__shipments", "missing_files"),
        ]:
            page.goto(f"{base}/assets/{asset}?view=checks")
            page.get_by_text(check, exact=True).first.wait_for()

        page.goto(base + "/automation")
        for name in [
            "new_files_sensor",
            "late_data_sensor",
            "nightly_close_schedule",
            "expected_files_schedule",
            "check_alerts",
            "run_failure_alert",
        ]:
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


# ------------------------------------------------------------------ what a new user meets after make demo

SENSORS = ("new_files_sensor", "late_data_sensor")


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    """`foodbank demo` in a bare shell into a fresh home: the state `make demo` leaves."""
    home = tmp_path_factory.mktemp("demo") / "foodbank"
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": "/usr/local/bin:/usr/bin:/bin", "FOODBANK_HOME": str(home)}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("foodbank")), "demo"], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return home


def _sensor_ticks(dagster_home: Path) -> dict[str, list]:
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        states = instance.all_instigator_state()
        return {
            st.instigator_name: list(instance.get_ticks(st.instigator_origin_id, st.selector_id))
            for st in states
            if st.instigator_name in SENSORS
        }


def _first_ticks_done(ticks: dict[str, list]) -> bool:
    return all(ticks.get(n) and ticks[n][-1].status.value != "STARTED" for n in SENSORS)


def _run_ids(dagster_home: Path) -> set[str]:
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(dagster_home)) as instance:
        return {r.run_id for r in instance.get_runs()}


def test_make_dev_on_the_demo_state_shows_its_runs_and_launches_nothing(demo_home):
    dagster_home = demo_home / "dagster"
    demo_runs = _run_ids(dagster_home)
    assert len(demo_runs) == 2  # the 10-minute path and the nightly close of the demo
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as con:
        raw_rows = con.execute("SELECT count(*) FROM raw.wms__inventory_transactions").fetchone()[0]

    with foodbank_dev(demo_home, ARTIFACTS / "foodbank-dev.log") as base:
        deadline = time.monotonic() + 150  # the daemon's first tick of every sensor comes within a minute or so
        while time.monotonic() < deadline and not _first_ticks_done(_sensor_ticks(dagster_home)):
            time.sleep(3)
        ticks = _sensor_ticks(dagster_home)
        with headless_page() as page:
            page.goto(base + "/runs")
            dismiss_welcome(page)
            page.get_by_text("nightly_close").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "ui-demo-runs.png"))
            page.goto(base + "/asset-groups")
            page.get_by_text("reconciliation", exact=True).last.wait_for()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "ui-demo-asset-graph.png"))
            page.goto(base + "/assets/raw/wms__inventory_transactions")
            page.get_by_text(f"{raw_rows:,}").first.wait_for()  # the table's rows, not the last run's
            page.screenshot(path=str(ARTIFACTS / "ui-demo-raw-asset.png"))
            page.get_by_text("data-engineering").first.wait_for()
            # the demo's last day, selected: the list itself opens on today's (empty) end, which moves daily
            page.goto(base + "/assets/reconciliation/inventory_daily_balance?view=partitions&partition=2026-11-04")
            page.get_by_text("2026-11-04").first.wait_for()
            page.screenshot(path=str(ARTIFACTS / "ui-demo-nightly-partitions.png"))
            page.goto(base + "/automation")
            page.get_by_text("new_files_sensor", exact=True).first.wait_for()
            page.wait_for_timeout(3000)  # the rows fill in their last ticks after the list
            page.screenshot(path=str(ARTIFACTS / "ui-demo-automation.png"))
        assert _run_ids(dagster_home) == demo_runs, "the UI launched runs nobody asked for"

    for name in SENSORS:
        assert ticks.get(name), f"{name} never ticked: {ticks}"
        first = ticks[name][-1]
        assert first.status.value == "SKIPPED" and not first.run_ids, (name, first.status, first.skip_reason)
    assert "already in the ledger" in ticks["new_files_sensor"][-1].skip_reason
    assert "latest load" in ticks["late_data_sensor"][-1].skip_reason


def test_every_asset_and_automation_says_what_it_is_and_who_owns_it():
    from foodbank_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:data-engineering"], key
        assert node.description and "#### Raw SQL" not in node.description, key
        if node.is_materializable:  # external assets (DMS landing, the ledger) have no code of ours
            assert "dagster/code_references" in node.metadata, key
        if key.path[0] in ("staging", "canonical", "marts", "reconciliation"):
            assert node.metadata["dbt_docs"].url.endswith(key.path[-1]), key
    repo = defs.get_repository_def()
    for thing in [*repo.get_all_jobs(), *repo.schedule_defs, *repo.sensor_defs]:
        if not thing.name.startswith("__"):
            assert thing.description, thing.name
