"""The writers reproduce the contract samples byte for byte, and what they write reads back.

Each sample's rows are rebuilt from plain values (not from the sample's text), written, and compared
with the sample file: quoting, NULL tokens, number and time formats, encodings and line endings are
all pinned by the files the source owners handed over.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

from foodbank_platform.formats import source_files
from foodbank_platform.sources.catalog import table

TXN = table("wms__inventory_transactions")
DONATIONS = table("intake__donations")
SHIPMENTS = table("legacy_warehouse__shipments")
ONHAND = table("legacy_warehouse__onhand")
ADJUSTMENTS = table("manual_adjustments__adjustments")
TEFAP = table("usda_tefap__receipts")

TXN_COLS = [
    "txn_id",
    "txn_type",
    "status",
    "sku",
    "lot_code",
    "supplier_lot",
    "from_location_id",
    "to_location_id",
    "cases",
    "lbs",
    "reference_type",
    "reference_id",
    "reason_code",
    "occurred_at",
    "created_by",
    "updated_at",
]


def frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for c in df.columns:  # timestamps given as text become real datetimes, as a producer would pass them
        if c.endswith(("_ts", "_at")):
            df[c] = pd.to_datetime(df[c])
    return df


def sample(samples_dir, rel: str) -> bytes:
    return (samples_dir / rel).read_bytes()


def test_dms_full_load_matches_sample(samples_dir):
    # fmt: off
    rows = [
        (None, "2026-11-01 07:00:02.118204", None, 1001, "RECEIPT", "POSTED", "CAN-VEG-0412", "L26-110100017", None,
         None, "OAK-DOCK-01", 40, 1080, "DONATION", "DN-OAK-2026-0012345", None, "2026-10-31 16:12:09", "jlee",
         "2026-10-31 16:12:09"),
        (None, "2026-11-01 07:00:02.118204", None, 1002, "TRANSFER", "POSTED", "CAN-VEG-0412", "L26-110100017", None,
         "OAK-DOCK-01", "OAK-DRY-A01-03", 40, 1080, "NONE", None, None, "2026-10-31 16:40:51", "mgarcia",
         "2026-10-31 16:40:51"),
        (None, "2026-11-01 07:00:02.118204", None, 1003, "RECEIPT", "POSTED", "PRD-APL-0007", "L26-110100018",
         'GRW 55,"A" LOT', None, "OAK-COOLER-02", 12, 480, "TEFAP_BOL", "BOL778812-1", None, "2026-10-31 17:02:00",
         "jlee", "2026-10-31 17:02:00"),
    ]
    # fmt: on
    df = frame(["op", "dms_commit_ts", "dms_change_seq", *TXN_COLS], rows)
    got = source_files.write_dms_csv(df, TXN, full_load=True)
    assert got == sample(samples_dir, "dms/wms/wms/inventory_transactions/LOAD00000001.csv")


def test_dms_cdc_with_void_and_quoted_reason_matches_sample(samples_dir):
    base = ("CAN-VEG-0412", "L26-110100017", None, "OAK-DRY-A01-03", None)
    # fmt: off
    rows = [
        ("I", "2026-11-02 09:14:11.402771", "20261102091411402771000000000000417", 1004, "DISTRIBUTION", "POSTED",
         *base, 5, 135, "SHIPMENT", "SL-00088121", None, "2026-11-02 09:13:58", "scanner-07", "2026-11-02 09:14:11.402771"),
        ("U", "2026-11-02 09:14:40.019342", "20261102091440019342000000000000418", 1004, "DISTRIBUTION", "VOID",
         *base, 5, 135, "SHIPMENT", "SL-00088121", None, "2026-11-02 09:13:58", "scanner-07", "2026-11-02 09:14:40.019342"),
        ("I", "2026-11-02 09:14:40.019342", "20261102091440019342000000000000419", 1005, "DISTRIBUTION", "POSTED",
         *base, 4, 108, "SHIPMENT", "SL-00088121", None, "2026-11-02 09:13:58", "scanner-07", "2026-11-02 09:14:40.019342"),
        ("I", "2026-11-02 09:15:02.771010", "20261102091502771010000000000000420", 1006, "SPOILAGE", "POSTED",
         "PRD-APL-0007", "L26-110100018", None, "OAK-COOLER-02", None, 1, 40, "NONE", None, "temp excursion, cooler 2",
         "2026-11-02 09:14:30", "qa-2", "2026-11-02 09:15:02.771010"),
    ]
    # fmt: on
    df = frame(["op", "dms_commit_ts", "dms_change_seq", *TXN_COLS], rows)
    got = source_files.write_dms_csv(df, TXN, full_load=False)
    assert got == sample(samples_dir, "dms/wms/wms/inventory_transactions/2026/11/02/20261102-091503123.csv")


def test_dms_delete_has_only_the_key(samples_dir):
    cols = [
        "op",
        "dms_commit_ts",
        "dms_change_seq",
        "id",
        "donation_id",
        "donor_id",
        "warehouse_code",
        "source_program",
        "received_at",
        "status",
        "updated_at",
    ]
    head = ("DN-OAK-2026-0012399", "DNR-0142", "OAK", "DONATED", "2026-11-02 16:40:00")
    # fmt: off
    rows = [
        ("I", "2026-11-02 16:59:12.000140", "20261102165912000140000000000000077", 88120, *head, "OPEN",
         "2026-11-02 16:59:12.000140"),
        ("U", "2026-11-02 16:59:55.310002", "20261102165955310002000000000000078", 88120, *head, "POSTED",
         "2026-11-02 16:59:55.310002"),
        ("D", "2026-11-02 16:59:58.000001", "20261102165958000001000000000000079", 88117, None, None, None, None,
         None, None, None),
    ]
    # fmt: on
    got = source_files.write_dms_csv(frame(cols, rows), DONATIONS)
    assert got == sample(samples_dir, "dms/intake/intake/donations/2026/11/02/20261102-170001004.csv")


def test_shipments_match_sample_in_windows_1252_with_crlf(samples_dir):
    cols = SHIPMENTS.column_names
    # fmt: off
    rows = [
        ("SL-00088121", 55120, 901233, "AG-0417", "Iglesia Santa María Pantry", "CAN-VEG-0412", "L26-110100017",
         "OAK-DRY-A01-03", 4, 108, "2026-11-02 17:13:58+00:00", "R-12", False),
        ("SL-00088122", 55121, 901240, "AG-0009", "Alameda Seniors, Inc.", "PRD-APL-0007", "L26-110100018",
         "OAK-COOLER-02", 2, 80, "2026-11-02 17:14:20+00:00", None, False),
    ]
    # fmt: on
    df = frame(cols, rows)  # shipped_at given in UTC; the file carries Pacific wall time (PST on 11/02)
    assert source_files.write_legacy_csv(df, SHIPMENTS) == sample(
        samples_dir, "sftp/outbound/legacy_warehouse/shipments/shipments_20261102_0915.csv"
    )


def test_onhand_matches_sample(samples_dir):
    rows = [
        ("2026-11-01", "CAN-VEG-0412", "L26-110100017", "OAK-DRY-A01-03", 40, 1080),
        ("2026-11-01", "PRD-APL-0007", "L26-110100018", "OAK-COOLER-02", 12, 480),
    ]
    got = source_files.write_legacy_csv(frame(ONHAND.column_names, rows), ONHAND)
    assert got == sample(samples_dir, "sftp/outbound/legacy_warehouse/onhand/onhand_20261101.csv")


def test_adjustments_match_sample_with_bom_loose_header_and_thousands(samples_dir):
    # fmt: off
    rows = [
        ("ADJ-0004411", "2026-11-01", "CAN-VEG-0412", "L26-110100017", "OAK-DRY-A01-03", "CYCLE_COUNT", -1, -27,
         "count short 1 case", "tkim", "rpatel"),
        ("ADJ-0004412", "2026-11-01", "FRZ-CHK-0101", "L26-102900003", "OAK-FREEZER-01", "SPOILAGE", -50, -1250,
         "freezer 1 door left open, see incident #31", "tkim", "rpatel"),
        ("ADJ-0004413", "2026-11-02", "PRD-APL-0007", "L26-110100018", "OAK-COOLER-02", "CORRECTION", 1, 40,
         "miskeyed spoilage", "tkim", None),
    ]
    # fmt: on
    got = source_files.write_adjustments_csv(frame(ADJUSTMENTS.column_names, rows), ADJUSTMENTS, header_style="sample")
    assert got == sample(samples_dir, "sftp/outbound/manual_adjustments/Nov week 1 adjustments.csv")


def test_tefap_matches_sample(samples_dir):
    rows = [
        ("BOL778812", 1, "100395", "APPLES FRESH 40 LB", "PRD-APL-0007", 12, 480, "2026-10-31", "OAK", "TEFAP", 31.2),
        (
            "BOL778812",
            2,
            "110361",
            "BEANS PINTO CANNED 24/15.5 OZ",
            None,
            60,
            1395,
            "2026-10-31",
            "OAK",
            "TEFAP",
            18.75,
        ),
    ]
    got = source_files.write_tefap(frame(TEFAP.column_names, rows), TEFAP)
    assert got == sample(samples_dir, "sftp/outbound/usda_tefap/tefap_receipts_20261101.txt")


def test_tefap_refuses_a_value_with_the_delimiter():
    rows = [("BOL1", 1, "100", "BEANS | RICE", None, 1, 1, "2026-10-31", "OAK", "TEFAP", 1)]
    with pytest.raises(ValueError, match="delimiter"):
        source_files.write_tefap(frame(TEFAP.column_names, rows), TEFAP)


AWKWARD = ["plain", "", None, "a,b", 'say "hi"', "line one\nline two", "crlf\r\nend", "\\N-looking", "né, ñ"]


def test_dms_round_trips_awkward_text_through_csv_module():
    n = len(AWKWARD)
    df = pd.DataFrame(
        {
            "op": ["U"] * n,
            "dms_commit_ts": pd.to_datetime(["2026-11-02 09:00:00.000001"] * n),
            "dms_change_seq": [f"{i:035d}" for i in range(n)],
            "txn_id": range(n),
            "txn_type": ["ADJUSTMENT"] * n,
            "status": ["POSTED"] * n,
            "sku": ["X"] * n,
            "lot_code": ["L"] * n,
            "supplier_lot": [None] * n,
            "from_location_id": [None] * n,
            "to_location_id": ["OAK-DOCK-01"] * n,
            "cases": np.linspace(-3, 3, n),
            "lbs": [1234.565] * n,
            "reference_type": ["NONE"] * n,
            "reference_id": [None] * n,
            "reason_code": AWKWARD,
            "occurred_at": pd.to_datetime(["2026-11-02"] * n),
            "created_by": ["x"] * n,
            "updated_at": pd.to_datetime(["2026-11-02"] * n),
        }
    )
    data = source_files.write_dms_csv(df, TXN)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == source_files.dms_columns(TXN)
    reasons = [r[source_files.dms_columns(TXN).index("reason_code")] for r in rows[1:]]
    # NULL is the bare token \N; the empty string is quoted, so both survive a strict reader
    assert reasons == [source_files.NULL if v is None else v for v in AWKWARD]
    assert b',"",' in data and b",\\N," in data
    assert [r[11] for r in rows[1:]][:2] == ["-3.00", "-2.25"]
    assert all(r[12] == "1234.57" for r in rows[1:])  # half away from zero, like PostgreSQL


def test_legacy_round_trips_agency_names_through_csv_module():
    names = ["Iglesia Santa María Pantry", "Alameda Seniors, Inc.", 'The "Good" Shelter', "Niños Youth"]
    n = len(names)
    df = pd.DataFrame(
        {
            "shipment_line_id": [f"SL-{i:08d}" for i in range(n)],
            "order_id": range(n),
            "order_line_id": range(n),
            "agency_id": ["AG-0001"] * n,
            "agency_name": names,
            "sku": ["X"] * n,
            "lot_code": ["L"] * n,
            "from_location_id": ["OAK-DRY-A01-01"] * n,
            "cases_shipped": [2.5, 1, 1000, 3],
            "lbs_shipped": [10, 1, 1000.5, 2],
            "shipped_at": pd.to_datetime(["2026-11-01 08:30:00"] * n).tz_localize("UTC"),
            "route_id": [None, "R-1", None, "R-2"],
            "is_void": [False, True, False, False],
        }
    )
    data = source_files.write_legacy_csv(df, SHIPMENTS)
    assert data.count(b"\r\n") == n + 1 and b"\n" not in data.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(data.decode("cp1252"), newline="")))
    assert [r[4] for r in rows[1:]] == names
    assert [r[8] for r in rows[1:]] == ["2.5", "1", "1000", "3"]
    # 08:30 UTC on the autumn change day is 01:30 PDT, the first pass through the repeated hour
    assert rows[1][10] == "11/01/2026 01:30:00" and [r[12] for r in rows[1:]] == ["N", "Y", "N", "N"]
