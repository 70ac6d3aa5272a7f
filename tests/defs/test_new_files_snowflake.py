"""new_files_sensor on either warehouse: which listed files the ledger already holds is asked through the
warehouse resource's DB-API connection (`read_dbapi`), on DuckDB and on the Snowflake emulator
(`FOODBANK_WAREHOUSE=snowflake`), with the same answer.

The contract's inventory transactions load through the raw asset. The sensor's first tick (no cursor) lists
both files, finds both in the ledger and asks for nothing. Then a loaded file is touched (same bytes, newer
time) and a new change file lands: the next tick asks for one run, for the new file only. The ledger is
asked one identity at a time (`watch.IN_LIST` = 1), so the batching of a long list runs too.
"""

from __future__ import annotations

import os
import shutil

import pytest
from dagster import AssetObservation, DagsterInstance, build_sensor_context, materialize

from foodbank_platform import settings as fb_settings
from foodbank_platform import watch
from foodbank_platform.definitions import build_definitions
from foodbank_platform.defs import sensors
from foodbank_platform.defs.assets.raw import raw_asset
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow

TXN = catalog.table("wms__inventory_transactions")
FOLDER = "dms/wms/wms/inventory_transactions"
CHANGES = f"{FOLDER}/2026/11/02/20261102-091503123.csv"
NEW = f"{FOLDER}/2026/11/03/20261103-080000000.csv"


def _tick(instance, resources, cursor=None):
    # a nested resource (SnowflakeResource) makes Dagster build the warehouse resource in a context manager
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        return sensors.new_files_sensor(context)


def _ticks(s: fb_settings.Settings, landing) -> tuple:
    defs = build_definitions(s)
    assert materialize([raw_asset(TXN)], resources={k: defs.resources[k] for k in ("landing", "warehouse")}).success
    sensing = {k: defs.resources[k] for k in ("landing", "sftp", "warehouse")}
    with DagsterInstance.ephemeral() as instance:
        first = _tick(instance, sensing)
        later = os.stat(landing / CHANGES).st_mtime + 60
        os.utime(landing / CHANGES, (later, later))  # the same bytes again, seen after the cursor
        body = (landing / CHANGES).read_text().replace("2026-11-02 09:13:58.000000", "2026-11-03 07:59:00.000000", 1)
        (landing / NEW).parent.mkdir(parents=True)
        (landing / NEW).write_text(body)
        os.utime(landing / NEW, (later, later))
        arrived = _tick(instance, sensing, first.cursor)
    return first, arrived


@pytest.mark.parametrize("warehouse", ["duckdb", "snowflake"])
def test_files_the_ledger_holds_are_not_requested_a_new_one_is(warehouse, tmp_path, samples_dir, request, monkeypatch):
    monkeypatch.setattr(watch, "IN_LIST", 1)
    landing = tmp_path / "landing"
    shutil.copytree(samples_dir / FOLDER, landing / FOLDER)
    sftp = tmp_path / "sftp"  # no SFTP feed delivers anything here
    sftp.mkdir()
    env = {
        "FOODBANK_HOME": str(tmp_path / "home"),
        "FOODBANK_LANDING_URI": str(landing),
        "FOODBANK_SFTP_URI": str(sftp),
    }
    if warehouse == "snowflake":
        s = request.getfixturevalue("snowflake_db").settings(**env)
    else:
        s = fb_settings.load(env)
    first, arrived = _ticks(s, landing)

    assert not first.run_requests and first.cursor
    assert first.skip_reason.skip_message == "every new file is already in the ledger"

    [run] = arrived.run_requests
    assert run.tags["foodbank/new_files"] == "1"
    assert {k.to_user_string() for k in run.asset_selection if k.path[0] == "raw"} == {
        "raw/wms__inventory_transactions"
    }
    [seen] = [e for e in arrived.asset_events if isinstance(e, AssetObservation)]
    assert seen.metadata["files_arrived"].value == 1
    assert seen.metadata["newest_file"].value == NEW
    assert seen.metadata["bytes_arrived"].value == (landing / NEW).stat().st_size
