"""A snapshot of the code location's wiring: asset keys and groups, checks, jobs, schedules, sensors and
partitions. A change to any of them shows up in review as a change to `snapshots/definitions.json`;
regenerate it with `FOODBANK_UPDATE_SNAPSHOT=1 pytest tests/defs/test_definitions.py` and commit the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "definitions.json"


def wiring() -> dict:
    from foodbank_platform.definitions import build_definitions
    from foodbank_platform.settings import load

    defs = build_definitions(load({}))  # the defaults, whatever this shell exports
    graph = defs.resolve_asset_graph()
    repo = defs.get_repository_def()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "materializable": node.is_materializable,
            "partitions": str(partitions) if partitions else None,
            "checks": sorted(
                f"{c.name}{' (blocking)' if graph.get_check_spec(c).blocking else ''}" for c in node.check_keys
            ),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        "schedules": {s.name: f"{s.cron_schedule} {s.execution_timezone} -> {s.job_name}" for s in repo.schedule_defs},
        "sensors": {s.name: s.minimum_interval_seconds for s in repo.sensor_defs},
    }


def test_the_wiring_is_the_reviewed_one():
    current = json.dumps(wiring(), indent=1, sort_keys=True) + "\n"
    if os.environ.get("FOODBANK_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    assert SNAPSHOT.read_text() == current, (
        "the code location's wiring changed: review, then FOODBANK_UPDATE_SNAPSHOT=1 to accept"
    )


def test_raw_assets_show_their_columns_and_the_row_rules_of_the_feeds_people_type():
    from foodbank_platform.defs.assets.raw import raw_assets

    schemas = {a.key.path[-1]: a.specs_by_key[a.key].metadata["dagster/column_schema"] for a in raw_assets}
    adjustments = {c.name: c for c in schemas["manual_adjustments__adjustments"].columns}
    assert adjustments["adjustment_type"].constraints.other == ["adjustment_type_allowed"]
    assert "approved_by_someone_else" in schemas["manual_adjustments__adjustments"].constraints.other
    assert {c.name: c.type for c in schemas["wms__inventory_transactions"].columns}["cases"] == "DECIMAL(14,2)"
    assert schemas["wms__inventory_transactions"].constraints.other == []
