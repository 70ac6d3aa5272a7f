"""The row rules of the feeds people type (sources/row_rules.py, pandera): through the real loader, a row
that breaks one rule is quarantined with that rule's name as its reason, and the rest of its file loads."""

from __future__ import annotations

import pandas as pd
import pytest
from malformed_corpus import ADJ_HEADER, TEFAP_HEADER

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import row_rules

ADJ_FIELDS = (
    "adjustment_id,business_date,sku,lot_code,location_id,adjustment_type,cases,lbs,reason,entered_by,approved_by"
)
GOOD_ADJ = dict(
    adjustment_id="ADJ-0004411",
    business_date="2026-11-01",
    sku="CAN-VEG-0412",
    lot_code="L26-110100017",
    location_id="OAK-DRY-A01-03",
    adjustment_type="CYCLE_COUNT",
    cases="-1",
    lbs="-27.00",
    reason="count short 1 case",
    entered_by="tkim",
    approved_by="rpatel",
)
# rule -> the fields that break it (and only it)
BAD_ADJ = {
    "adjustment_id_shape": dict(adjustment_id="ADJ 4412"),
    "business_date_plausible": dict(business_date="0226-11-01"),
    "sku_shape": dict(sku="can veg 0412"),
    "adjustment_type_allowed": dict(adjustment_type="THEFT"),
    "reason_given": dict(reason=" "),
    "cases_and_lbs_same_sign": dict(cases="-1", lbs="27.00"),
    "quantity_in_range": dict(cases="-25000", lbs="-675000.00"),
    "approved_by_someone_else": dict(entered_by="tkim", approved_by="TKim"),
}

TEFAP_FIELDS = TEFAP_HEADER.strip().split("|")
GOOD_TEFAP = dict(
    bol_number="BOL778812",
    line_number="1",
    usda_material_code="100395",
    description="APPLES FRESH 40 LB",
    sku="PRD-APL-0007",
    cases="12",
    net_lbs="480",
    received_date="2026-10-31",
    warehouse_code="OAK",
    program="TEFAP",
    unit_value_usd="31.20",
)
BAD_TEFAP = {
    "line_number_positive": dict(line_number="0"),
    "usda_material_code_shape": dict(usda_material_code="10039"),
    "sku_shape": dict(sku="prd apl"),
    "cases_positive": dict(cases="-12"),
    "net_lbs_positive": dict(net_lbs="0"),
    "received_date_plausible": dict(received_date="2206-10-31"),
    "program_allowed": dict(program="SNAP"),
    "unit_value_in_range": dict(unit_value_usd="3120.00"),
}


def adjustments_csv(rows: list[dict]) -> bytes:
    def field(v: str) -> str:
        return f'"{v}"' if "," in v else v

    lines = [",".join(field(row[f]) for f in ADJ_FIELDS.split(",")) for row in rows]
    return (ADJ_HEADER + "\n".join(lines) + "\n").encode("utf-8")


def tefap_txt(rows: list[dict]) -> bytes:
    return (TEFAP_HEADER + "\n".join("|".join(row[f] for f in TEFAP_FIELDS) for row in rows) + "\n").encode()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One spreadsheet and one BOL file: a good row first, then one row per rule, each breaking only it."""
    root = tmp_path_factory.mktemp("row_rules")
    store = LocalStore(root / "landing")
    adj = [GOOD_ADJ] + [
        {**GOOD_ADJ, "adjustment_id": f"ADJ-{9000 + i}", **bad} for i, bad in enumerate(BAD_ADJ.values())
    ]
    tefap = [GOOD_TEFAP] + [
        {**GOOD_TEFAP, "line_number": str(2 + i), **bad} for i, bad in enumerate(BAD_TEFAP.values())
    ]
    store.write_bytes("sftp/manual_adjustments/rules.csv", adjustments_csv(adj))
    store.write_bytes("sftp/usda_tefap/tefap_receipts_20261101.txt", tefap_txt(tefap))
    con = warehouse.connect(root / "w.duckdb")
    load_new_files(store, con)
    yield con
    con.close()


def quarantined(con, key: str) -> dict[int, str]:
    return dict(con.execute("SELECT row_number, reason FROM audit.quarantine WHERE landing_key = ?", [key]).fetchall())


def test_every_rule_is_tested():
    assert set(BAD_ADJ) == set(row_rules._rule_names(row_rules.ADJUSTMENTS))
    assert set(BAD_TEFAP) == set(row_rules._rule_names(row_rules.TEFAP_RECEIPTS))


@pytest.mark.parametrize("rule", list(BAD_ADJ))
def test_an_adjustment_breaking_a_rule_is_quarantined_with_its_name(loaded, rule):
    reasons = quarantined(loaded, "sftp/manual_adjustments/rules.csv")
    assert reasons[2 + list(BAD_ADJ).index(rule)] == rule


@pytest.mark.parametrize("rule", list(BAD_TEFAP))
def test_a_bol_line_breaking_a_rule_is_quarantined_with_its_name(loaded, rule):
    reasons = quarantined(loaded, "sftp/usda_tefap/tefap_receipts_20261101.txt")
    assert reasons[2 + list(BAD_TEFAP).index(rule)] == rule


def test_the_rows_that_keep_the_rules_load(loaded):
    assert loaded.execute("SELECT adjustment_id FROM raw.manual_adjustments__adjustments").fetchall() == [
        ("ADJ-0004411",)
    ]
    assert loaded.execute("SELECT bol_number, line_number FROM raw.usda_tefap__receipts").fetchall() == [
        ("BOL778812", 1)
    ]
    assert len(quarantined(loaded, "sftp/manual_adjustments/rules.csv")) == len(BAD_ADJ)
    assert len(quarantined(loaded, "sftp/usda_tefap/tefap_receipts_20261101.txt")) == len(BAD_TEFAP)


def test_a_row_breaking_several_rules_names_them_all():
    frame = pd.DataFrame([{**GOOD_TEFAP, "program": "SNAP", "cases": "-1"}])
    broken = row_rules.broken_rules(row_rules.TEFAP_RECEIPTS, frame)
    assert broken.to_dict() == {0: "cases_positive; program_allowed"}
