"""The dbt project on DuckDB, end to end: raw (real loader + known facts) -> staging -> canonical ->
reconciliation, marts, history and restatements.

`dbt build` runs once for the session (seeds, models, snapshots, data tests and the unit tests of the
canonical rules); a late correction is then loaded and a second, incremental `dbt build` runs, which
is what the 10-minute schedule does. Tests read the resulting warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_support import (
    DBT_VARS,
    EXPECTED_STATUSES,
    LATE_CORRECTION,
    add_raw_rows,
    build_raw_warehouse,
    query,
    run_dbt,
    utcnow,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def dbt_duckdb(tmp_path_factory, samples_dir):
    """(warehouse path, first build, second build after a late correction)."""
    home = tmp_path_factory.mktemp("dbt_duckdb")
    path = build_raw_warehouse(home, samples_dir)
    env = {"FOODBANK_DUCKDB_PATH": str(path)}
    first = run_dbt(["build", "--vars", DBT_VARS], home, env)
    assert first.returncode == 0, first.stdout[-6000:]
    snapshot_after_first = {
        "events": query(path, "select event_id from canonical.inventory_events order by 1"),
    }
    con = duckdb.connect(str(path))
    try:
        add_raw_rows(con, LATE_CORRECTION, "late", utcnow())
    finally:
        con.close()
    second = run_dbt(["build", "--vars", DBT_VARS], home, env)
    assert second.returncode == 0, second.stdout[-6000:]
    return path, first, second, snapshot_after_first


def test_build_runs_every_model_test_and_unit_test(dbt_duckdb):
    _, first, _, _ = dbt_duckdb
    assert "ERROR=0" in first.stdout and "FAIL" not in first.stdout.split("Done.")[-1]
    # the canonical rules are unit tests inside the build; make sure they ran, not just the models
    for rule in (
        "transfer_is_two_legs",
        "legacy_wall_time_follows_the_contracts_dst_rule",
        "dms_latest_change_wins_and_reload_replaces_state",
        "latest_shipment_file_by_name_wins",
    ):
        assert rule in first.stdout


def test_canonical_tables_are_populated(dbt_duckdb):
    path, *_ = dbt_duckdb
    for table in ("inventory_events", "donations", "agency_orders", "fulfillment_line_items"):
        assert query(path, f"select count(*) from canonical.{table}")[0][0] > 0, table


def test_void_keeps_the_posting_and_adds_a_reversal(dbt_duckdb):
    path, *_ = dbt_duckdb
    rows = query(
        path,
        """
        select is_reversal, cases_delta, event_id, reverses_event_id from canonical.inventory_events
        where source_record_id = '1004' order by is_reversal""",
    )
    (posting, reversal) = rows
    assert posting[:2] == (False, -5) and reversal[:2] == (True, 5)
    assert reversal[3] == posting[2]
    # the distribution that counts for SL-00088121 is the re-posting (1005), 4 cases
    net = query(
        path,
        """select -sum(cases_delta) from canonical.inventory_events
                         where event_type = 'DISTRIBUTION' and reference_id = 'SL-00088121'""",
    )[0][0]
    assert net == 4


def test_unapproved_adjustment_is_not_in_the_book(dbt_duckdb):
    path, *_ = dbt_duckdb
    ids = {
        r[0]
        for r in query(
            path, "select source_record_id from canonical.inventory_events where source_system = 'manual_adjustments'"
        )
    }
    assert ids == {"ADJ-0004411", "ADJ-0004412"}  # ADJ-0004413 has no approver in the sample


def test_event_ids_survive_an_incremental_rebuild(dbt_duckdb):
    path, _, _, before = dbt_duckdb
    after = {r[0] for r in query(path, "select event_id from canonical.inventory_events")}
    assert {r[0] for r in before["events"]} <= after
    assert len(after) == len(before["events"]) + 1  # the late receipt, nothing duplicated


def test_roll_forward_identity_holds_on_every_row(dbt_duckdb):
    path, *_ = dbt_duckdb
    broken = query(
        path,
        """
        with b as (
            select *, lead(opening_cases) over (partition by sku, lot_code, location_id order by business_date)
                      as next_opening,
                   lead(business_date) over (partition by sku, lot_code, location_id order by business_date)
                      as next_date
            from reconciliation.inventory_daily_balance)
        select * from b
        where opening_cases + receipts_cases + transfers_in_cases - transfers_out_cases + adjustments_cases
              - spoilage_cases - distributions_cases <> closing_cases
           or (next_date = business_date + 1 and next_opening <> closing_cases)""",
    )
    assert broken == []
    # the book agrees with the events it is built from
    ((book, events),) = query(
        path,
        """
        select (select sum(closing_lbs) from reconciliation.inventory_daily_balance
                where business_date = (select max(business_date) from reconciliation.inventory_daily_balance)),
               (select sum(lbs_delta) from canonical.inventory_events)""",
    )
    assert book == events


def _statuses(path: Path, table: str, key: str) -> dict[str, str]:
    return dict(query(path, f"select cast({key} as varchar), status from reconciliation.{table}"))


def test_reconciliations_find_the_planted_differences(dbt_duckdb):
    path, *_ = dbt_duckdb
    for (table, key), expected in EXPECTED_STATUSES.items():
        assert _statuses(path, table, key) == expected, table
    onhand = dict(
        query(path, "select sku, status from reconciliation.book_vs_onhand where business_date = '2026-11-01'")
    )
    # the cycle count ADJ-0004411 is in the book, not in the WMS's on-hand; the apples agree until the late receipt
    assert onhand["CAN-VEG-0412"] == "variance"
    assert onhand["PRD-APL-0007"] == "variance"
    assert onhand["FRZ-CHK-0101"] == "missing_in_onhand"


def test_a_late_correction_to_a_published_day_is_a_restatement(dbt_duckdb):
    path, *_ = dbt_duckdb
    versions = dict(
        query(
            path,
            """select cast(business_date as varchar), max(publication_version)
                                   from audit.published_daily_balance group by 1""",
        )
    )
    # 2026-11-02 is not closed yet; 2026-10-31 is held (the samples carry no on-hand snapshot for it)
    assert versions == {"2026-11-01": 2}
    close = dict(query(path, "select cast(business_date as varchar), status from marts.finance_close"))
    assert close["2026-10-31"] == "held" and close["2026-11-01"] != "held" and "2026-11-02" not in close
    assert query(path, "select finance_rule from marts.finance_exceptions where effect = 'holds_day'") == [
        ("missing_onhand_snapshot",)
    ]
    # version 1 of the day is still there, unchanged: the published report is reproducible
    ((v1,),) = query(
        path,
        """select closing_cases from audit.published_daily_balance
                            where business_date = '2026-11-01' and sku = 'PRD-APL-0007' and publication_version = 1""",
    )
    assert v1 == 12
    rows = query(
        path,
        """select sku, receipts_cases_change, closing_cases_before, closing_cases_after, source_records
                          from audit.restatements""",
    )
    assert rows == [("PRD-APL-0007", 2, 12, 14, "wms:2002")]


def test_history_reads_canonical_as_known_before_the_correction(dbt_duckdb):
    path, *_ = dbt_duckdb
    ((first_build,),) = query(path, "select min(dbt_valid_from) from audit.inventory_events_history")
    known_then = query(
        path,
        f"""select count(*) from audit.inventory_events_history
                                 where dbt_valid_from <= '{first_build}'
                                   and (dbt_valid_to > '{first_build}' or dbt_valid_to is null)""",
    )[0][0]
    known_now = query(path, "select count(*) from audit.inventory_events_history where dbt_valid_to is null")[0][0]
    assert known_now == known_then + 1
    # a changed order line: the old version is closed when the new one starts
    versions = query(
        path,
        """select order_type, dbt_valid_from, dbt_valid_to from audit.agency_orders_history
                              where order_line_id = 901250 order by dbt_valid_from""",
    )
    assert [v[0] for v in versions] == ["PREORDER", "SHOPPING"]
    assert versions[0][2] == versions[1][1] and versions[1][2] is None


def test_marts_answer_the_mornings_questions(dbt_duckdb):
    path, *_ = dbt_duckdb
    # on hand now: the beans lot expires on 2026-11-20, 18 days after "today" (2026-11-02)
    ((lbs, d14, d30),) = query(
        path,
        """select on_hand_lbs, lbs_expiring_14d, lbs_expiring_30d from marts.on_hand
                                      where lot_code = 'L26-110100017' and location_id = 'OAK-DRY-A01-03'""",
    )
    assert lbs == 1080 - 27 - 108 and d14 == 0 and d30 == lbs
    # a recall by supplier lot finds the receipt, the spoilage and the unposted shipment to agency AG-0009
    trace = query(
        path,
        """select movement, agency_id, lot_on_hand_cases from marts.lot_trace
                           where supplier_lot = 'GRW 55,"A" LOT' order by occurred_at""",
    )
    movements = [m for m, _, _ in trace]
    assert movements.count("RECEIPT") == 2 and "SPOILAGE" in movements
    assert ("SHIPMENT_NOT_IN_WMS", "AG-0009") in [(m, a) for m, a, _ in trace]
    assert {on_hand for *_, on_hand in trace} == {12 + 2 - 1}
    # TEFAP is valued at the BOL's USDA value: $31.20 a case, 12 cases on 480 lbs; the finance marts hold the
    # published days: 2026-11-01's late 80 lbs, not 2026-10-31's 480 (held: no on-hand snapshot)
    ((value,),) = query(
        path,
        """select sum(value_usd) from marts.finance_flows_daily
                               where source_program = 'TEFAP' and flow = 'RECEIVED'""",
    )
    assert float(value) == pytest.approx(31.20 * 12 / 480 * 80)
    ((fill_rate,),) = query(path, "select fill_rate from marts.agency_service where agency_id = 'AG-0417'")
    assert fill_rate == 1


DOCUMENTED_SCHEMAS = ("staging", "canonical", "reconciliation", "marts", "audit")


def test_docs_generate_and_every_analyst_table_is_documented(dbt_duckdb, tmp_path):
    """`dbt docs generate` works, and every column an analyst sees in staging, canonical, reconciliation,
    marts and audit has a description (actual columns from the catalog, not just what the YAML lists)."""
    path, *_ = dbt_duckdb
    result = run_dbt(["docs", "generate", "--vars", DBT_VARS], tmp_path, {"FOODBANK_DUCKDB_PATH": str(path)})
    assert result.returncode == 0, result.stdout[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    undocumented = []
    checked = 0
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "snapshot") or node["schema"] not in DOCUMENTED_SCHEMAS:
            continue
        if node["resource_type"] == "model" and not node["description"].strip():
            undocumented.append(uid)
        if node["resource_type"] == "snapshot":
            continue  # snapshot columns are the canonical table's, documented there
        actual = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        described = {c.lower() for c, meta in node["columns"].items() if meta.get("description", "").strip()}
        undocumented += [f"{uid}.{c}" for c in sorted(actual - described)]
        checked += 1
    assert checked >= 17
    assert undocumented == []


def test_a_reversal_whose_event_is_gone_fails_its_test_also_on_the_arrived_rows(dbt_duckdb, tmp_path):
    """The reversal test reads the arrived rows on both sides on the 10-minute path (FOODBANK_ARRIVED_SINCE):
    on a copy whose voided posting lost its original event, it fails with that one reversal."""
    path, _, _, _ = dbt_duckdb
    copy = tmp_path / "broken.duckdb"
    shutil.copyfile(path, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute("delete from canonical.inventory_events where source_record_id = '1004' and not is_reversal")
    finally:
        con.close()
    env = {"FOODBANK_DUCKDB_PATH": str(copy), "FOODBANK_ARRIVED_SINCE": "2000-01-01 00:00:00"}
    result = run_dbt(["test", "--select", "test_name:reverses_an_event_of_its_record"], tmp_path, env)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "Got 1 result" in result.stdout and "reverses_an_event_of_its_record" in result.stdout
