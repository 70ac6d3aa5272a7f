"""late_data_sensor on either warehouse: its ledger and raw queries run through the warehouse resource's
DB-API connection, on DuckDB and on the Snowflake emulator (`FOODBANK_WAREHOUSE=snowflake`), and the
same late rows re-open the same published days.

The contract's inventory transactions load through the raw asset; the sensor's first tick starts at the
ledger's latest load; then a late file (the change file again, one posting moved to 05:30 UTC on 1 November,
which is 31 October in Pacific time) loads, and the next tick asks for a re-run of exactly the published
days it touched. The emulator gap this leans on: none known; CONVERT_TIMEZONE (Snowflake's form of DuckDB's
AT TIME ZONE, the one dialect difference of these queries) is translated by the emulator, not run by
Snowflake.
"""

from __future__ import annotations

from datetime import date

import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, build_sensor_context, materialize

from foodbank_platform import settings as fb_settings
from foodbank_platform.definitions import build_definitions
from foodbank_platform.defs import sensors
from foodbank_platform.defs.assets.raw import raw_asset
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow

TXN = catalog.table("wms__inventory_transactions")
BALANCE = AssetKey(["reconciliation", "inventory_daily_balance"])
PUBLISHED = ("2026-10-31", "2026-11-01")  # 2 November, which the late file also touches, is not published
CHANGES = "dms/wms/wms/inventory_transactions/2026/11/02/20261102-091503123.csv"
LATE = "dms/wms/wms/inventory_transactions/2026/11/05/20261105-000000000-late.csv"


def _tick(instance, resources, cursor=None):
    # a nested resource (SnowflakeResource) makes Dagster build the warehouse resource in a context manager
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensors.late_data_sensor(context)


def _ticks(s: fb_settings.Settings, landing) -> list:
    defs = build_definitions(s)
    loading = {k: defs.resources[k] for k in ("landing", "warehouse")}
    watching = {"warehouse": defs.resources["warehouse"]}
    assert materialize([raw_asset(TXN)], resources=loading).success
    with DagsterInstance.ephemeral() as instance:
        for day in PUBLISHED:
            instance.report_runless_asset_event(AssetMaterialization(BALANCE, partition=day))
        first = _tick(instance, watching)
        body = (landing / CHANGES).read_text().replace("2026-11-02 09:13:58.000000", "2026-11-01 05:30:00.000000", 1)
        (landing / LATE).parent.mkdir(parents=True)
        (landing / LATE).write_text(body)
        assert materialize([raw_asset(TXN)], resources=loading).success
        late = _tick(instance, watching, first.cursor)
        again = _tick(instance, watching, late.cursor)
    return [first, late, again]


@pytest.mark.parametrize("warehouse", ["duckdb", "snowflake"])
def test_late_rows_reopen_the_published_days_they_touch(warehouse, tmp_path, lay_out_samples, request):
    landing = lay_out_samples(tmp_path / "landing")
    if warehouse == "snowflake":
        s = request.getfixturevalue("snowflake_db").settings(
            FOODBANK_HOME=str(tmp_path / "home"), FOODBANK_LANDING_URI=str(landing)
        )
    else:
        s = fb_settings.load({"FOODBANK_HOME": str(tmp_path / "home"), "FOODBANK_LANDING_URI": str(landing)})
    first, late, again = _ticks(s, landing)
    assert not first.run_requests and first.cursor  # what was loaded before the first look is not late
    assert "latest load" in first.skip_reason.skip_message
    assert [r.partition_key for r in late.run_requests] == ["2026-10-31"]
    assert late.run_requests[0].tags == {"foodbank/reason": "late_data"}
    assert late.cursor > first.cursor
    assert not again.run_requests and again.cursor == late.cursor
    assert date.fromisoformat(late.run_requests[0].partition_key) < sensors.today_pacific()
