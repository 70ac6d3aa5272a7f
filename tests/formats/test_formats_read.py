"""Every contract sample parses to the values the contract implies, through the real loader."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, lay_out_samples):
    root = tmp_path_factory.mktemp("samples")
    lay_out_samples(root / "landing")
    con = warehouse.connect(root / "w.duckdb")
    report = load_new_files(LocalStore(root / "landing"), con)
    yield con, report, root / "landing"
    con.close()


def rows(con, sql):
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_every_sample_file_loads_without_loss(loaded):
    con, report, _ = loaded
    assert report.failed_files() == []
    ledger = rows(con, "SELECT * FROM audit.file_ledger")
    assert len(ledger) == 7
    for f in ledger:
        assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"]
    assert report.rows_quarantined == 0


def test_dms_full_load_keeps_quoted_supplier_lot_and_nulls(loaded):
    con, *_ = loaded
    r = rows(con, "SELECT * FROM raw.wms__inventory_transactions WHERE txn_id = 1003")[0]
    assert r["supplier_lot"] == 'GRW 55,"A" LOT'
    assert r["op"] == "I" and r["dms_change_seq"] is None
    assert r["from_location_id"] is None and r["to_location_id"] == "OAK-COOLER-02"
    assert r["cases"] == Decimal("12.00") and r["lbs"] == Decimal("480.00")
    assert r["dms_commit_ts"] == datetime(2026, 11, 1, 7, 0, 2, 118204)
    assert r["_file"].endswith("LOAD00000001.csv") and r["_row_number"] == 3


def test_dms_cdc_void_is_an_update_to_void(loaded):
    con, *_ = loaded
    seq = rows(
        con,
        "SELECT op, status, cases, dms_change_seq, reason_code FROM raw.wms__inventory_transactions "
        "WHERE _file LIKE '%/2026/11/02/%' ORDER BY _row_number",
    )
    assert [(r["op"], r["status"]) for r in seq] == [("I", "POSTED"), ("U", "VOID"), ("I", "POSTED"), ("I", "POSTED")]
    assert seq[1]["dms_change_seq"] == "20261102091440019342000000000000418"
    assert seq[2]["cases"] == Decimal("4.00")
    assert seq[3]["reason_code"] == "temp excursion, cooler 2"


def test_dms_delete_carries_only_the_key(loaded):
    con, *_ = loaded
    d = rows(con, "SELECT * FROM raw.intake__donations WHERE op = 'D'")[0]
    assert d["id"] == 88117 and d["donation_id"] is None and d["status"] is None


def test_shipments_windows_1252_crlf(loaded):
    con, *_ = loaded
    r = rows(con, "SELECT * FROM raw.legacy_warehouse__shipments ORDER BY _row_number")
    assert r[0]["agency_name"] == "Iglesia Santa María Pantry"
    assert r[1]["agency_name"] == "Alameda Seniors, Inc."
    assert r[0]["shipped_at"] == datetime(2026, 11, 2, 9, 13, 58)  # Pacific wall time, as written
    assert r[0]["is_void"] is False and r[1]["route_id"] is None
    assert r[0]["cases_shipped"] == Decimal("4") and r[0]["order_id"] == 55120


def test_adjustments_bom_loose_header_thousands_and_unapproved(loaded):
    con, *_ = loaded
    r = {x["adjustment_id"]: x for x in rows(con, "SELECT * FROM raw.manual_adjustments__adjustments")}
    assert set(r) == {"ADJ-0004411", "ADJ-0004412", "ADJ-0004413"}  # trailing ,,,, rows are not rows
    assert r["ADJ-0004412"]["lbs"] == Decimal("-1250.00") and r["ADJ-0004412"]["cases"] == Decimal("-50")
    assert r["ADJ-0004412"]["reason"] == "freezer 1 door left open, see incident #31"
    assert r["ADJ-0004413"]["approved_by"] is None  # not approved: not yet an inventory event
    assert r["ADJ-0004411"]["business_date"] == date(2026, 11, 1)
    ledger = rows(con, "SELECT rows_blank FROM audit.file_ledger WHERE source_table LIKE 'manual%'")[0]
    assert ledger["rows_blank"] == 2


def test_tefap_pipe_delimited_empty_sku(loaded):
    con, *_ = loaded
    r = rows(con, "SELECT * FROM raw.usda_tefap__receipts ORDER BY line_number")
    assert r[0]["unit_value_usd"] == Decimal("31.20") and r[0]["net_lbs"] == Decimal("480")
    assert r[1]["sku"] is None and r[1]["description"] == "BEANS PINTO CANNED 24/15.5 OZ"


def test_onhand_snapshot(loaded):
    con, *_ = loaded
    r = rows(con, "SELECT * FROM raw.legacy_warehouse__onhand ORDER BY sku")
    assert r[0]["snapshot_date"] == date(2026, 11, 1) and r[0]["on_hand_lbs"] == Decimal("1080.00")


def test_second_pass_and_redelivery_load_nothing(loaded):
    con, _, landing = loaded

    def counts():
        return con.execute(
            "SELECT (SELECT count(*) FROM raw.wms__inventory_transactions), (SELECT count(*) FROM audit.file_ledger)"
        ).fetchone()

    before = counts()
    again = load_new_files(LocalStore(landing), con)
    assert again.rows_loaded == 0 and counts() == before
    # identical bytes delivered again under a new modification time: recognised, not loaded
    f = landing / "sftp/usda_tefap/tefap_receipts_20261101.txt"
    f.write_bytes(f.read_bytes())
    redelivered = load_new_files(LocalStore(landing), con)
    statuses = [x.status for t in redelivered.tables for x in t.files]
    assert statuses == ["redelivered"] and counts() == before
