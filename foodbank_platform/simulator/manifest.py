"""The simulator's manifest: what the platform must reproduce, and every defect it must find.

Tests of the loader, the canonical models, the reconciliations and the data-quality checks compare
the warehouse with these numbers; nothing in here is estimated — each figure is computed from the
same rows that were written to the files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..sources.catalog import table


@dataclass
class Manifest:
    """What a simulation wrote.

    config: the run's parameters (start_date, days, scale, seed, cdc_file_seconds, defect rates).
    tables: per raw table (`wms__items`, …, `legacy_warehouse__shipments`, …):
      DMS tables: `final_rows` (keys alive after applying every I/U/D in change-sequence order),
      `change_rows` (rows written, full load and CDC, replays not counted), `deleted` (keys whose last
      change is D). Shipments: `final_rows` (distinct shipment_line_id, latest version), `void`
      (latest version is_void=Y), `rows_written`. Onhand: `rows_written`. Adjustments: `final_rows`
      (distinct adjustment_id), `approved`, `rows_written` (re-exports repeat rows). TEFAP: `final_rows`.
    days: per business date (Pacific, `YYYY-MM-DD`; the day before start_date is the full load's
      opening stock):
      `book`: per canonical event type (RECEIPT, TRANSFER_IN, TRANSFER_OUT, ADJUSTMENT, SPOILAGE,
        DISTRIBUTION) of WMS postings that are not VOID: `events` (one per location side, so a
        TRANSFER is one TRANSFER_OUT and one TRANSFER_IN), signed `cases` and `lbs` (out is negative).
        A voided posting and its reversal cancel, so they are not in these sums.
      `manual_adjustments`: `approved` and `unapproved` rows with signed `cases`/`lbs`, and
        `approved_by_type` per adjustment_type. Approved rows are book events in addition to the WMS.
      `book_net`: signed cases/lbs of the whole book (WMS non-void + approved manual adjustments).
      `closing`: positions (SKU, lot, location) with a non-zero balance at the end of the day, their
        summed `cases`/`lbs`, and `negative_positions`.
      `donations`: `donations` (intake header rows alive), `donation_lines`, `cases`, `lbs`.
      `orders`: `orders`, `order_lines` (alive, i.e. not deleted), `cases_requested`, `cases_approved`.
      `shipments`: latest-version `lines` by Pacific date of shipped_at, `void`, and `cases`/`lbs` of
        lines that are not void.
      `tefap`: `lines`, `cases`, `net_lbs` by received_date. `onhand_rows`: rows in the snapshot.
    defects: name -> {`count`, `keys`} (see `DEFECTS`).
    files: every file written: `root` (`landing` or `sftp`), `path` relative to that root,
      `delivered_at` (UTC; the file's mtime), `intended_at` when it was delivered late, `rows`.
    """

    config: dict
    tables: dict = field(default_factory=dict)
    days: dict = field(default_factory=dict)
    defects: dict = field(default_factory=dict)
    files: list = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=False, default=str)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json())

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        return cls(**json.loads(Path(path).read_text()))


# What each defect looks like and, for the reconciliations of docs/source_contracts.md §C, where it must show:
# receipts (WMS vs intake by donation_id): exactly `receipts_without_intake`; receipts vs TEFAP BOL
# lines: none (quantities always agree; SKUs may differ); distributions (WMS vs shipment lines vs
# order lines, by shipment_line_id / order_line_id): exactly `distributions_without_shipment`
# (missing in the feed) and `orphan_shipment_lines` (missing in ordering) — re-sent and mis-posted
# lines are corrected on every side; shipments vs order lines (by order_line_id): exactly the orphans'
# order lines (missing in ordering) and `unshipped_order_lines` (short by the unshipped cases);
# book vs on-hand: exactly `onhand_variances`.
DEFECTS = {
    "unknown_sku": "{table: keys} rows whose non-NULL SKU is not in wms.items: txn_id (WMS, every posting of such "
    "a lot), line_id (donation lines), shipment_line_id (latest shipment lines), [bol, line] (TEFAP), "
    "adjustment_id (manual adjustment rows, approved or not)",
    "rekeyed_donation_ids": "{donation_id, ids}: one donation_id on two intake.donations rows",
    "orphan_shipment_lines": "{shipment_line_id, order_id, order_line_id}: order and order line do not exist",
    "void_postings": "{voided_txn_id, correction_txn_id|null, reference_id, reason}: wrong_quantity, "
    "shipment_resent (re-posted with the new quantity), shipment_voided (no re-post)",
    "resent_shipment_lines": "{shipment_line_id, first_file, resent_file, is_void, cases_before, cases_after}",
    "negative_balances": "{business_date, sku, lot_code, location_id, closing_cases, closing_lbs} for every day a "
    "position closes below zero",
    "onhand_variances": "{snapshot_date, sku, lot_code, location_id, book_*, onhand_*}: snapshot rows that differ "
    "from the book (every other snapshot row equals the book's closing)",
    "receipts_without_intake": "{donation_id}: WMS RECEIPT/DONATION postings with no intake donation",
    "distributions_without_shipment": "shipment_line_id of WMS DISTRIBUTION postings never in the shipments feed",
    "unshipped_order_lines": "{order_line_id, shipment_line_id, cases}: the order line each distribution without "
    "shipment fulfils; ordering approved those cases, the feed never shipped them",
    "late_files": "{path, intended_delivery, actual_delivery, days_late} SFTP files delivered late",
    "replayed_dms_files": "{system, restart_at, window_start, files: [{path, rows, first/last_change_seq}]}: "
    "rows identical to ones already delivered",
    "dst_days": "{date, kind, file, lines: [{shipment_line_id, wall_time, shipped_at_utc}]}: shipments in the "
    "repeated hour (fall_back) or written by a clock still on PST (spring_forward)",
    "unapproved_adjustments": "adjustment_id of rows with empty approved_by (not book events)",
    "deleted_rows": "{table, key}: D rows (draft donations, order lines removed before approval)",
    "salvage_donation_lines": "line_id of donation lines with a NULL sku (unsorted salvage; the WMS uses SAL-MIX-0001)",
    "unmapped_tefap_lines": "[bol, line] TEFAP lines with an empty sku (no mapping for the USDA material code)",
}


def _money(x) -> float:
    return round(float(x) / 100, 2)


def sums(frame: pd.DataFrame, count_name: str) -> dict:
    return {count_name: int(len(frame)), "cases": _money(frame["cases_c"].sum()), "lbs": _money(frame["lbs_c"].sum())}


def book(moves: pd.DataFrame) -> dict:
    """Per business date and event type: events and signed cases/lbs."""
    out: dict = {}
    for (d, etype), g in moves.groupby(["business_date", "event_type"]):
        out.setdefault(str(pd.Timestamp(d).date()), {})[etype] = sums(g, "events")
    return out


def final_state(changes: list[pd.DataFrame], key: str) -> tuple[int, int]:
    """Keys alive and keys deleted after applying changes in order (full load first, then by seq)."""
    last = pd.concat(changes, ignore_index=True).drop_duplicates(key, keep="last")
    return int((last["op"] != "D").sum()), int((last["op"] == "D").sum())


def dms_table_counts(history: dict) -> dict:
    out = {}
    for raw, parts in history.items():
        key = table(raw).key[0]
        alive, deleted = final_state(parts, key)
        out[raw] = {"final_rows": alive, "deleted": deleted, "change_rows": int(sum(len(p) for p in parts))}
    return out


def unknown_skus(
    known: set, wms: pd.DataFrame, lines: pd.DataFrame, ships: pd.DataFrame, tefap: pd.DataFrame, sheets: pd.DataFrame
) -> dict:
    def bad(s: pd.Series) -> np.ndarray:
        return (s.notna() & ~s.isin(known)).to_numpy()

    return {
        "wms__inventory_transactions": sorted(int(x) for x in wms.loc[bad(wms["sku"]), "txn_id"].unique()),
        "intake__donation_lines": sorted(int(x) for x in lines.loc[bad(lines["sku"]), "line_id"].unique()),
        "legacy_warehouse__shipments": sorted(ships.loc[bad(ships["sku"]), "shipment_line_id"].unique().tolist()),
        "usda_tefap__receipts": [
            [b, int(n)] for b, n in tefap.loc[bad(tefap["sku"]), ["bol_number", "line_number"]].itertuples(index=False)
        ],
        # not injected: a spreadsheet row for a position that holds a hand-keyed SKU carries it too
        "manual_adjustments__adjustments": sorted(sheets.loc[bad(sheets["sku"]), "adjustment_id"].unique().tolist()),
    }
