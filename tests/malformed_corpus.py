"""The corpus of malformed landing files: (landing key, bytes, what the loader must make of it).

Used by test_bad_input.py (the loader's verdict on each file), test_stream.py (streamed loads) and
test_fault_suite.py (which counts it as fault g).
"""

from __future__ import annotations

TXN = "dms/wms/wms/inventory_transactions"
TXN_HEADER = (
    "Op,dms_commit_ts,dms_change_seq,txn_id,txn_type,status,sku,lot_code,supplier_lot,from_location_id,"
    "to_location_id,cases,lbs,reference_type,reference_id,reason_code,occurred_at,created_by,updated_at\n"
)


def txn_row(txn_id="2001", cases="5.00", ts="2026-11-02 09:14:11.402771", op="I", seq=None) -> str:
    seq = seq or f"2026110209141140277100000000000{int(txn_id) if txn_id.isdigit() else 0:04d}"
    return (
        f"{op},{ts},{seq},{txn_id},DISTRIBUTION,POSTED,CAN-VEG-0412,L26-1,\\N,OAK-DRY-A01-03,\\N,{cases},"
        f"135.00,SHIPMENT,SL-1,\\N,2026-11-02 09:13:58.000000,scanner-07,2026-11-02 09:14:11.402771\n"
    )


SHIP_HEADER = (
    "shipment_line_id,order_id,order_line_id,agency_id,agency_name,sku,lot_code,from_location_id,"
    "cases_shipped,lbs_shipped,shipped_at,route_id,is_void\r\n"
)
SHIP_ROW = "SL-{n},55120,901233,AG-0417,Pantry,CAN-VEG-0412,L26-1,OAK-DRY-A01-03,{cases},108.00,{ts},R-12,{void}\r\n"
ADJ_HEADER = "\ufeffadjustment_id,business_date,sku,lot_code,location_id,adjustment_type,cases,lbs,reason,entered_by,approved_by\n"
TEFAP_HEADER = (
    "bol_number|line_number|usda_material_code|description|sku|cases|net_lbs|received_date|"
    "warehouse_code|program|unit_value_usd\n"
)


def ship(n=1, cases="4", ts="11/02/2026 09:13:58", void="N"):
    return SHIP_ROW.format(n=n, cases=cases, ts=ts, void=void)


# (landing key, bytes, expected) — expected is "failed:<words in the error>" or a list of quarantined row numbers
CORPUS: list[tuple[str, bytes, object]] = [
    (f"{TXN}/2026/11/02/20261102-100000001.csv", b"", "failed:empty"),
    (f"{TXN}/2026/11/02/20261102-100000002.csv", b"\n\n", "failed:empty"),
    (
        f"{TXN}/2026/11/02/20261102-100000003.csv",
        (TXN_HEADER.replace("txn_id", "id") + txn_row()).encode(),
        "failed:header",
    ),
    (f"{TXN}/2026/11/02/20261102-100000004.csv", (TXN_HEADER + txn_row()).encode()[:-40], "failed:truncated"),
    (
        f"{TXN}/2026/11/02/20261102-100000005.csv",
        (TXN_HEADER + txn_row() + 'I,"unclosed\n').encode(),
        "failed:quoted field",
    ),
    (
        f"{TXN}/2026/11/02/20261102-100000006.csv",
        (TXN_HEADER + txn_row("2006") + "I,1,2\n" + txn_row("2007")).encode(),
        [2],
    ),
    (
        f"{TXN}/2026/11/02/20261102-100000007.csv",
        (TXN_HEADER + txn_row("2008") + txn_row("2009").rstrip("\n") + ",extra\n" + txn_row("2010")).encode(),
        [2],
    ),
    (f"{TXN}/2026/11/02/20261102-100000008.csv", (TXN_HEADER + txn_row("2011", cases="12x")).encode(), [1]),
    (
        f"{TXN}/2026/11/02/20261102-100000009.csv",
        (TXN_HEADER + txn_row("2012", ts="2026-13-45 99:00:00.0")).encode(),
        [1],
    ),
    (f"{TXN}/2026/11/02/20261102-100000010.csv", (TXN_HEADER + txn_row("2013", op="X")).encode(), [1]),
    (f"{TXN}/2026/11/02/20261102-100000011.csv", (TXN_HEADER + txn_row("\\N")).encode(), [1]),
    (f"{TXN}/2026/11/02/20261102-100000012.csv", (TXN_HEADER + txn_row("2014", seq="12ab")).encode(), [1]),
    (
        f"{TXN}/2026/11/02/20261102-100000013.csv",
        TXN_HEADER.encode()
        + txn_row("2015").encode().replace(b"scanner-07", b"scanner-\xff\xfe")
        + txn_row("2016").encode(),
        [1],
    ),
    (
        "dms/wms/wms/items/2026/11/02/20261102-100000014.csv",
        b"Op,dms_commit_ts,dms_change_seq,sku,description,fa_category,storage_type,case_weight_lbs,is_active,updated_at\n"
        b"I,2026-11-02 09:00:00.000000,20261102090000000000000000000000001,X-1,d,c,DRY,27.00,yes,2026-11-02 09:00:00.000000\n",
        [1],
    ),
    ("sftp/legacy_warehouse/shipments/shipments_20261102_1000.csv", b"", "failed:empty"),
    (
        "sftp/legacy_warehouse/shipments/shipments_20261102_1015.csv",
        (SHIP_HEADER + ship(1)).encode("cp1252") + b"SL-2,1,2,AG-1,Caf\x81,X,L,LOC,1,2,11/02/2026 09:00:00,,N\r\n",
        "failed:encoding",
    ),
    (
        "sftp/legacy_warehouse/shipments/shipments_20261102_1030.csv",
        (SHIP_HEADER + ship(3) + ship(4, ts="2026-11-02 09:13:58") + ship(5)).encode("cp1252"),
        [2],
    ),
    (
        "sftp/legacy_warehouse/shipments/shipments_20261102_1045.csv",
        (SHIP_HEADER + ship(6, void="M") + ship(7, cases="four")).encode("cp1252"),
        [1, 2],
    ),
    (
        "sftp/legacy_warehouse/shipments/shipments_20261102_1100.csv",
        ("order_id,shipment_line_id\r\n1,SL-9\r\n").encode("cp1252"),
        "failed:header",
    ),
    (
        "sftp/legacy_warehouse/onhand/onhand_20261102.csv",
        b"snapshot_date,sku,lot_code,location_id,on_hand_cases,on_hand_lbs\r\n"
        b"11/02/2026,X,L,LOC,1,2\r\n2026-11-02,X,L,LOC,1,2\r\n",
        [1],
    ),
    (
        "sftp/manual_adjustments/bad numbers.csv",
        (
            ADJ_HEADER + "ADJ-1,2026-11-02,X,L,LOC,DAMAGE,abc,-2.00,r,tkim,rpatel\n"
            'ADJ-2,2026-11-02,X,L,LOC,DAMAGE,-1,"-1,250.00",r,tkim,rpatel\n'
        ).encode("utf-8"),
        [1],
    ),
    ("sftp/manual_adjustments/not an adjustment sheet.csv", "\ufeffname,amount\nfoo,1\n".encode(), "failed:header"),
    (
        "sftp/usda_tefap/tefap_receipts_20261102.txt",
        (
            TEFAP_HEADER + "BOL1|one|100395|APPLES|X|12|480|2026-11-02|OAK|TEFAP|31.20\n"
            "BOL1|2|100395|APPLES|X|12\n"
            "BOL1|3|100395|APPLES|X|12|480|2026-11-02|OAK|TEFAP|31.20\n"
        ).encode(),
        [1, 2],
    ),
    (
        "sftp/usda_tefap/tefap_receipts_20261103.txt",
        TEFAP_HEADER.replace("|", ",").encode() + b"BOL1,1\n",
        "failed:header",
    ),
]
