"""Shared setup for the dbt tests: a raw layer with known business facts, and a way to run dbt.

The raw layer is built the way production builds it: the contract samples go through the real
loader (`foodbank_platform.ingest.loader`), then a handful of hand-made raw rows add what the samples
lack (item and location masters, intake lines, orders, a re-keyed donation, a shipped order with no
shipment). Each fact is chosen so that exactly one reconciliation status follows from it, which the
tests assert. The same raw rows are copied into the Snowflake emulator, so both targets see one story.

Helpers only (no tests): test_dbt_models, test_dbt_snowflake, test_manifest_agreement and
test_postgres_simulation import it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.uri import open_store

REPO = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO / "dbt_project"
# The samples are dated 2026-10-31 .. 2026-11-02; "today" for the marts and the last published day.
AS_OF = "2026-11-02"
PUBLISH_THROUGH = "2026-11-01"
DBT_VARS = f'{{as_of_date: "{AS_OF}", publish_through: "{PUBLISH_THROUGH}"}}'


def utcnow() -> datetime:
    # Load times are real (the loader's clock): publications and restatements compare them with build times.
    return datetime.now(timezone.utc).replace(tzinfo=None)


# Hand-made raw rows, per raw table (the loader's lineage columns are filled in by add_raw_rows).
# Kept as a table (one row per line), not one value per line:
# fmt: off
EXTRA_ROWS: dict[str, list[dict]] = {
    "wms__items": [
        dict(op="I", sku="CAN-VEG-0412", description="Green beans 24/15oz", fa_category="Vegetables (Canned & Frozen)",
             storage_type="DRY", case_weight_lbs=27, is_active=True),
        dict(op="I", sku="PRD-APL-0007", description="Apples fresh 40 lb", fa_category="Fruits (Fresh)",
             storage_type="REF", case_weight_lbs=40, is_active=True),
        dict(op="I", sku="FRZ-CHK-0101", description="Chicken thighs frozen", fa_category="Meat/Fish/Poultry",
             storage_type="FRZ", case_weight_lbs=25, is_active=True),
    ],
    "wms__locations": [
        dict(op="I", location_id=loc, warehouse_code="OAK", zone=zone, is_active=True)
        for loc, zone in [("OAK-DOCK-01", "DOCK"), ("OAK-DRY-A01-03", "DRY"), ("OAK-COOLER-02", "COOLER"),
                          ("OAK-FREEZER-01", "FREEZER")]
    ],
    # A donation received into the WMS as 10 cases, whose donation_id a clerk keyed on two intake headers.
    "wms__inventory_transactions": [
        dict(op="I", dms_change_seq="20261102100000000000000000000000500", dms_commit_ts=datetime(2026, 11, 2, 17),
             txn_id=2001, txn_type="RECEIPT", status="POSTED", sku="CAN-VEG-0412", lot_code="L26-110200001",
             to_location_id="OAK-DOCK-01", cases=10, lbs=270, reference_type="DONATION",
             reference_id="DN-OAK-2026-0012399", occurred_at=datetime(2026, 11, 2, 16, 50),
             updated_at=datetime(2026, 11, 2, 17)),
    ],
    "intake__donors": [dict(op="I", donor_id="DNR-0142", donor_name="Oakland Grocers", donor_type="Retailer")],
    "intake__donations": [
        dict(op="I", id=88100, donation_id="DN-OAK-2026-0012345", donor_id="DNR-0142", warehouse_code="OAK",
             source_program="DONATED", received_at=datetime(2026, 10, 31, 16), status="POSTED"),
        dict(op="I", id=88121, donation_id="DN-OAK-2026-0012399", donor_id="DNR-0142", warehouse_code="OAK",
             source_program="DONATED", received_at=datetime(2026, 11, 2, 16, 45), status="POSTED"),
    ],
    "intake__donation_lines": [
        dict(op="I", line_id=1, donation_pk=88100, sku="CAN-VEG-0412", fa_category="Vegetables (Canned & Frozen)",
             lot_code="L26-110100017", cases=40, gross_lbs=1080, best_by="2026-11-20"),
        dict(op="I", line_id=2, donation_pk=88120, sku="CAN-VEG-0412", fa_category="Vegetables (Canned & Frozen)",
             lot_code="L26-110200001", cases=10, gross_lbs=270, best_by="2027-06-01"),
        dict(op="I", line_id=3, donation_pk=88121, sku="CAN-VEG-0412", fa_category="Vegetables (Canned & Frozen)",
             lot_code="L26-110200001", cases=10, gross_lbs=270, best_by="2027-06-01"),
    ],
    "ordering__agencies": [
        dict(op="I", agency_id="AG-0417", agency_name="Iglesia Santa María Pantry", agency_type="Pantry",
             county="Alameda", status="ACTIVE"),
        dict(op="I", agency_id="AG-0009", agency_name="Alameda Seniors, Inc.", agency_type="Senior",
             county="Alameda", status="ACTIVE"),
    ],
    # Order 55120 is shipped as approved; 55121 (shipped as SL-00088122) does not exist: an orphan;
    # 55122 says SHIPPED but nothing was shipped.
    "ordering__orders": [
        dict(op="I", order_id=55120, agency_id="AG-0417", order_type="SHOPPING", ship_method="DELIVERY",
             status="SHIPPED", requested_date="2026-11-02", submitted_at=datetime(2026, 10, 30, 18)),
        dict(op="I", order_id=55122, agency_id="AG-0009", order_type="PREORDER", ship_method="PICKUP",
             status="SHIPPED", requested_date="2026-11-02", submitted_at=datetime(2026, 10, 30, 19)),
    ],
    "ordering__order_lines": [
        dict(op="I", order_line_id=901233, order_id=55120, sku="CAN-VEG-0412", cases_requested=5, cases_approved=4),
        dict(op="I", order_line_id=901250, order_id=55122, sku="PRD-APL-0007", cases_requested=3, cases_approved=3),
    ],
}
# fmt: on

# A correction that arrives after 2026-11-01 was published: a receipt posted late for that day.
# fmt: off
LATE_CORRECTION = {
    "wms__inventory_transactions": [
        dict(op="I", dms_change_seq="20261102200000000000000000000000900", dms_commit_ts=datetime(2026, 11, 2, 20),
             txn_id=2002, txn_type="RECEIPT", status="POSTED", sku="PRD-APL-0007", lot_code="L26-110100018",
             to_location_id="OAK-COOLER-02", cases=2, lbs=80, reference_type="TEFAP_BOL",
             reference_id="BOL778812-1", occurred_at=datetime(2026, 11, 1, 18), updated_at=datetime(2026, 11, 2, 20)),
    ],
    # ... and an order the agency switched from pre-order to shopping: a changed canonical row (history).
    "ordering__orders": [
        dict(op="U", dms_change_seq="20261102200000000000000000000000901", dms_commit_ts=datetime(2026, 11, 2, 20),
             order_id=55122, agency_id="AG-0009", order_type="SHOPPING", ship_method="PICKUP", status="SHIPPED",
             requested_date="2026-11-02", submitted_at=datetime(2026, 10, 30, 19)),
    ],
}
# fmt: on


# What the reconciliations must say about the facts above (after LATE_CORRECTION), on any warehouse.
EXPECTED_STATUSES = {
    ("receipts_vs_intake", "donation_id"): {
        "DN-OAK-2026-0012345": "matched",  # 40 cases in both
        "DN-OAK-2026-0012399": "variance",  # re-keyed: two intake headers (20 cases) vs 10 received
    },
    ("receipts_vs_tefap", "bol_line_id"): {
        "BOL778812-1": "variance",  # the late correction added 2 cases in the WMS
        "BOL778812-2": "missing_in_wms",  # the pinto beans were never posted
    },
    ("distributions_vs_shipments", "shipment_line_id"): {"SL-00088121": "matched", "SL-00088122": "missing_in_wms"},
    ("shipments_vs_orders", "order_line_id"): {
        "901233": "matched",
        "901240": "missing_in_order",
        "901250": "missing_in_shipment",
    },
}


def with_lineage(rows_by_table: dict[str, list[dict]], file_prefix: str, loaded_at: datetime):
    """(raw table, row with lineage as the loader writes it), one made-up file per table."""
    for raw_table, rows in rows_by_table.items():
        for i, row in enumerate(rows, start=1):
            values = dict(
                row,
                _file=f"{file_prefix}/{raw_table}.csv",
                _file_version=1,
                _file_checksum="0" * 64,
                _row_number=i,
                _loaded_at=loaded_at,
                _load_id=file_prefix,
            )
            if raw_table.split("__")[0] in ("wms", "intake", "ordering"):
                values.setdefault("dms_commit_ts", datetime(2026, 11, 1, 7))
            yield raw_table, values


def insert_sql(raw_table: str, values: dict, mark: str = "?") -> str:
    names = ", ".join(f'"{k}"' if mark == "?" else k for k in values)
    return f"INSERT INTO raw.{raw_table} ({names}) VALUES ({', '.join(mark for _ in values)})"


def add_raw_rows(
    con: duckdb.DuckDBPyConnection, rows_by_table: dict[str, list[dict]], file_prefix: str, loaded_at: datetime
) -> None:
    """Append rows to DuckDB raw tables."""
    for raw_table, values in with_lineage(rows_by_table, file_prefix, loaded_at):
        con.execute(insert_sql(raw_table, values), list(values.values()))


def build_raw_warehouse(home: Path, samples_dir: Path) -> Path:
    """A DuckDB warehouse whose raw layer holds the samples (through the real loader) + EXTRA_ROWS.
    `samples_dir` is the contract samples folder (the `samples_dir` fixture)."""
    landing = home / "landing"
    shutil.copytree(samples_dir / "dms", landing / "dms")
    shutil.copytree(samples_dir / "sftp" / "outbound", landing / "sftp", ignore=shutil.ignore_patterns("*.done"))
    path = home / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        warehouse.ensure_raw_tables(con)
        report = load_new_files(open_store(landing.as_uri()), con)
        assert report.rows_quarantined == 0, "the contract samples must load cleanly"
        add_raw_rows(con, EXTRA_ROWS, "handmade", utcnow())
    finally:
        con.close()
    return path


def run_dbt(args: list[str], work: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """One dbt invocation in a subprocess, with its own target/log folders (the project's manifest,
    which Dagster reads, is left alone)."""
    dbt = Path(sys.executable).with_name("dbt")
    cmd = [
        str(dbt),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    result = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    return result


def query(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()
