"""The six source systems as configuration (docs/source_contracts.md).

Everything the platform knows about a source table or feed lives here: its files, format, typed columns, key
and completeness rule. The simulator, the CDC capture, the loader, the Dagster assets and the dbt sources all
read this one list, so a new source table is an entry here, not new code. Types are the contract's: a value
that does not parse as its type is quarantined at load rather than smuggled downstream as text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FormatName = Literal["dms", "legacy_csv", "adjustments_csv", "tefap_pipe"]
Readiness = Literal["always", "done_marker", "quiet_minute"]

# Contract type -> DuckDB type. Snowflake types are derived in the warehouse module.
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "bigint": "BIGINT",
    "numeric": "DECIMAL(14,2)",
    "timestamptz": "TIMESTAMP",  # always UTC, stored naive
    "timestamp_local": "TIMESTAMP",  # Pacific wall time, converted to UTC in staging
    "date": "DATE",
    "boolean": "BOOLEAN",
    "yn": "BOOLEAN",  # 'Y'/'N'
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"


def cols(spec: str) -> tuple[Column, ...]:
    """`"sku, cases:numeric"` -> Columns; the shorthand keeps the catalog readable."""
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        name, _, typ = part.partition(":")
        out.append(Column(name.strip(), (typ or "text").strip()))
    return tuple(out)


@dataclass(frozen=True)
class SourceTable:
    """One table (DMS) or feed (SFTP) = one raw table."""

    system: str
    name: str
    format: FormatName
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    # DMS: the PostgreSQL schema; SFTP: the feed folder below /outbound
    location: str
    # SFTP only: a glob for file names within the feed folder
    pattern: str = "*"
    readiness: Readiness = "always"
    description: str = ""
    group: str = field(default="")

    @property
    def raw_table(self) -> str:
        return f"{self.system}__{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def is_dms(self) -> bool:
        return self.format == "dms"

    @property
    def landing_prefix(self) -> str:
        """Folder of this table's files inside the landing zone (contract layout)."""
        if self.is_dms:
            return f"dms/{self.system}/{self.location}/{self.name}"
        return f"sftp/{self.location}"

    @property
    def sftp_folder(self) -> str:
        """Folder below the SFTP root (`/outbound`) that holds this feed."""
        return self.location


# Columns DMS puts in front of every table's own columns.
DMS_META = cols("Op, dms_commit_ts:timestamptz, dms_change_seq")


def _dms(system: str, name: str, key: str, spec: str, description: str) -> SourceTable:
    return SourceTable(
        system=system,
        name=name,
        format="dms",
        columns=cols(spec),
        key=tuple(k.strip() for k in key.split(",")),
        location=system,  # schema name == system name in all three databases
        description=description,
    )


TABLES: tuple[SourceTable, ...] = (
    # 1. wms
    _dms(
        "wms",
        "items",
        "sku",
        "sku, description, fa_category, storage_type, case_weight_lbs:numeric, is_active:boolean, "
        "updated_at:timestamptz",
        "SKU master of the warehouse.",
    ),
    _dms(
        "wms",
        "locations",
        "location_id",
        "location_id, warehouse_code, zone, is_active:boolean, updated_at:timestamptz",
        "Bin/zone locations in the two warehouses.",
    ),
    _dms(
        "wms",
        "inventory_transactions",
        "txn_id",
        "txn_id:bigint, txn_type, status, sku, lot_code, supplier_lot, from_location_id, to_location_id, "
        "cases:numeric, lbs:numeric, reference_type, reference_id, reason_code, occurred_at:timestamptz, "
        "created_by, updated_at:timestamptz",
        "The perpetual inventory ledger.",
    ),
    # 2. intake
    _dms(
        "intake",
        "donors",
        "donor_id",
        "donor_id, donor_name, donor_type, contact_email, phone, city, updated_at:timestamptz",
        "Donors (contact_email and phone are personal data).",
    ),
    _dms(
        "intake",
        "donations",
        "id",
        "id:bigint, donation_id, donor_id, warehouse_code, source_program, received_at:timestamptz, status, "
        "updated_at:timestamptz",
        "Donation headers; donation_id can be re-keyed onto two rows.",
    ),
    _dms(
        "intake",
        "donation_lines",
        "line_id",
        "line_id:bigint, donation_pk:bigint, sku, fa_category, lot_code, cases:numeric, gross_lbs:numeric, "
        "best_by:date, updated_at:timestamptz",
        "Donation lines.",
    ),
    # 3. ordering
    _dms(
        "ordering",
        "agencies",
        "agency_id",
        "agency_id, agency_name, agency_type, county, status, updated_at:timestamptz",
        "Partner agencies.",
    ),
    _dms(
        "ordering",
        "orders",
        "order_id",
        "order_id:bigint, agency_id, order_type, ship_method, status, requested_date:date, "
        "submitted_at:timestamptz, updated_at:timestamptz",
        "Agency orders.",
    ),
    _dms(
        "ordering",
        "order_lines",
        "order_line_id",
        "order_line_id:bigint, order_id:bigint, sku, cases_requested:numeric, cases_approved:numeric, "
        "updated_at:timestamptz",
        "Agency order lines.",
    ),
    # 4. legacy_warehouse
    SourceTable(
        system="legacy_warehouse",
        name="shipments",
        format="legacy_csv",
        columns=cols(
            "shipment_line_id, order_id:bigint, order_line_id:bigint, agency_id, agency_name, sku, lot_code, "
            "from_location_id, cases_shipped:numeric, lbs_shipped:numeric, shipped_at:timestamp_local, "
            "route_id, is_void:yn"
        ),
        key=("shipment_line_id",),
        location="legacy_warehouse/shipments",
        pattern="shipments_*.csv",
        readiness="done_marker",
        description="Legacy pick/ship lines every 15 minutes; a later file's line supersedes an earlier one.",
    ),
    SourceTable(
        system="legacy_warehouse",
        name="onhand",
        format="legacy_csv",
        columns=cols("snapshot_date:date, sku, lot_code, location_id, on_hand_cases:numeric, on_hand_lbs:numeric"),
        key=("snapshot_date", "sku", "lot_code", "location_id"),
        location="legacy_warehouse/onhand",
        pattern="onhand_*.csv",
        readiness="done_marker",
        description="Nightly on-hand snapshot: what the warehouse believes at the end of snapshot_date.",
    ),
    # 5. manual_adjustments
    SourceTable(
        system="manual_adjustments",
        name="adjustments",
        format="adjustments_csv",
        columns=cols(
            "adjustment_id, business_date:date, sku, lot_code, location_id, adjustment_type, cases:numeric, "
            "lbs:numeric, reason, entered_by, approved_by"
        ),
        key=("adjustment_id",),
        location="manual_adjustments",
        pattern="*.csv",
        readiness="quiet_minute",
        description="Inventory-control spreadsheets; approved rows are book inventory events.",
    ),
    # 6. usda_tefap
    SourceTable(
        system="usda_tefap",
        name="receipts",
        format="tefap_pipe",
        columns=cols(
            "bol_number, line_number:bigint, usda_material_code, description, sku, cases:numeric, "
            "net_lbs:numeric, received_date:date, warehouse_code, program, unit_value_usd:numeric"
        ),
        key=("bol_number", "line_number"),
        location="usda_tefap",
        pattern="tefap_receipts_*.txt",
        readiness="quiet_minute",
        description="State agency bill-of-lading receipts for USDA commodities (TEFAP, CSFP).",
    ),
)

BY_RAW_TABLE = {t.raw_table: t for t in TABLES}

# Lineage columns every raw row carries, after the source's own columns.
LINEAGE = cols(
    "_file:text, _file_version:bigint, _file_checksum:text, _row_number:bigint, _loaded_at:timestamptz, _load_id:text"
)


def table(raw_table: str) -> SourceTable:
    return BY_RAW_TABLE[raw_table]


def dms_tables() -> list[SourceTable]:
    return [t for t in TABLES if t.is_dms]


def sftp_tables() -> list[SourceTable]:
    return [t for t in TABLES if not t.is_dms]
