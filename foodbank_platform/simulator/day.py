"""One business day of source activity, as change frames and feed rows — independent of any sink.

`State` carries what persists between days (stock positions, id counters, change sequence
counters); `simulate_day` produces a `DayActivity`: for every DMS table the day's changes
(op, commit time, change sequence, columns — ready for a file writer or for SQL replay), the
SFTP feed rows, and the book the platform must reproduce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..sources.catalog import dms_tables
from . import intake, ordering, stock
from .clock import US, change_seq, local_to_utc, midnight, to_datetime
from .frames import Defects, change_frame, postings, stamps
from .reference import SALVAGE_SKU, Reference

# volumes at scale 1.0 (the brief's: ~270K inventory transactions, ~40K donation lines,
# ~13K shipment lines and ~5K order lines a day)
DAILY = {
    "donation_lines": 40_000,
    "order_lines": 5_000,
    "transfers": 155_000,
    "spoilage": 8_000,
    "adjustments_out": 7_000,
    "adjustments_in": 7_000,
    "manual_adjustments": 100,
    "tefap_lines": 12,
}
COUNTER_START = {
    "txn": 1_000_001,
    "donation_pk": 88_000,
    "donation_OAK": 12_000,
    "donation_HAY": 5_000,
    "donation_line": 500_000,
    "order": 55_000,
    "order_line": 900_000,
    "shipment_line": 88_000,
    "adjustment": 4_400,
    "bol": 778_800,
    "count": 1,
    "orphan": 1,
    "po": 70_000,
}


@dataclass
class State:
    ref: Reference
    positions: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=stock.KEY + ["cases_c", "lbs_c", "wt_c"])
    )
    counters: dict = field(default_factory=lambda: dict(COUNTER_START))
    seq: dict = field(default_factory=dict)
    lot_weight: pd.Series = field(default_factory=lambda: pd.Series(dtype=np.int64))
    _lots: dict = field(default_factory=dict)

    def take(self, name: str, n: int) -> np.ndarray:
        start = self.counters[name]
        self.counters[name] = start + n
        return np.arange(start, start + n, dtype=np.int64)

    def lot_codes(self, day: date, wh, sku) -> np.ndarray:
        """One internal lot per warehouse, SKU and receiving day: `L26-110100017`."""
        key = (
            pd.Series(np.asarray(wh, dtype=object)).astype(str)
            + "|"
            + pd.Series(np.asarray(sku, dtype=object)).astype(str)
        )
        known = self._lots.setdefault(day, {})
        new = [k for k in pd.unique(key) if k not in known]
        base = len(known)
        known.update({k: f"L{day:%y}-{day:%m%d}{base + i + 1:05d}" for i, k in enumerate(new)})
        return key.map(known).to_numpy(dtype=object)

    def next_seq(self, system: str, n: int) -> np.ndarray:
        start = self.seq.get(system, 1)
        self.seq[system] = start + n
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class DayActivity:
    """Everything one business day produced.

    changes: raw table name (`wms__inventory_transactions`, …) -> change frame with `op`,
      `dms_commit_ts`, `dms_change_seq`, then the table's columns, sorted by change sequence.
    shipments: feed rows with `slot` (index into `shipment_files`) and `wall` (the written time).
    shipment_files: (instants µs, names) of the day's shipments files.
    adjustments: the inventory-control rows of the day (signed cases_c/lbs_c hundredths).
    tefap: feed-6 rows of the day's bills of lading (delivered in the next morning's file).
    onhand: the nightly snapshot rows. book: per event type totals. closing: positions at day end.
    """

    day: date
    changes: dict
    shipments: pd.DataFrame
    shipment_files: tuple
    adjustments: pd.DataFrame
    tefap: pd.DataFrame
    onhand: pd.DataFrame
    moves: pd.DataFrame
    postings: pd.DataFrame
    closing: pd.DataFrame
    voids: list


def day_rng(seed: int, day_index: int, stream: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, day_index + 1, stream])


def volumes(scale: float) -> dict:
    return {k: max(1, int(round(v * scale))) for k, v in DAILY.items()} | {
        "manual_adjustments": max(3, int(round(DAILY["manual_adjustments"] * scale))),
        "tefap_lines": max(3, int(round(DAILY["tefap_lines"] * scale))),
    }


def finish_changes(st: State, frames: dict, day: date) -> dict:
    """Give each system's changes of the day its change sequence, in commit order across its tables."""
    last = midnight(day + timedelta(days=1)) - US
    out = {}
    for system in dict.fromkeys(t.system for t in dms_tables()):
        tables = [t for t in dms_tables() if t.system == system and t.raw_table in frames]
        if not tables:
            continue
        parts = [frames[t.raw_table].assign(_t=i, _r=np.arange(len(frames[t.raw_table]))) for i, t in enumerate(tables)]
        allrows = pd.concat([p[["commit_us", "_t", "_r"]] for p in parts], ignore_index=True)
        allrows["commit_us"] = np.minimum(allrows["commit_us"].to_numpy(), last)
        allrows = allrows.sort_values(["commit_us", "_t", "_r"], kind="stable")
        allrows["counter"] = st.next_seq(system, len(allrows))
        for i, (t, part) in enumerate(zip(tables, parts)):
            mine = allrows.loc[allrows["_t"] == i].sort_values("_r")
            f = part.drop(columns=["_t", "_r", "commit_us"])
            f.insert(1, "dms_commit_ts", to_datetime(mine["commit_us"].to_numpy()))
            f.insert(
                2,
                "dms_change_seq",
                change_seq(mine["commit_us"].to_numpy(), mine["counter"].to_numpy()).to_numpy(zero_copy_only=False),
            )
            out[t.raw_table] = f.iloc[np.argsort(mine["counter"].to_numpy(), kind="stable")].reset_index(drop=True)
    return out


def opening_stock(st: State, start: date, seed: int) -> pd.DataFrame:
    """What the warehouse held before the first simulated day: one lot per SKU and warehouse, mostly."""
    rng = day_rng(seed, -1)
    day = start - timedelta(days=1)
    items = st.ref.items.loc[st.ref.items.is_active & (st.ref.items.sku != SALVAGE_SKU)]
    homes = st.ref.home.merge(items[["sku", "case_weight_lbs"]], on="sku")
    homes = homes.loc[rng.random(len(homes)) < 0.8].reset_index(drop=True)
    n = len(homes)
    cases = rng.integers(100, 600, n) * 100
    wt = np.round(homes["case_weight_lbs"].to_numpy() * 100).astype(np.int64)
    lot = st.lot_codes(day, homes["warehouse_code"], homes["sku"])
    at = local_to_utc(day, rng.uniform(10 * 3600, 16 * 3600, n))
    ins = postings(
        n,
        txn_type="RECEIPT",
        sku=homes["sku"],
        lot_code=lot,
        to_location_id=homes["location_id"],
        cases_c=cases,
        lbs_c=cases * wt // 100,
        reference_type="PURCHASE_ORDER",
        reference_id=np.char.add("PO-", st.take("po", n).astype(str)),
        occurred_us=at,
        created_by="jlee",
        commit_us=at,
    )
    ins["key"] = np.arange(n).astype(str)
    _, ins, _ = stock.wms_changes(ins, [], st)
    st.lot_weight = pd.concat([st.lot_weight, pd.Series(wt, index=lot)])
    st.positions = stock.roll_forward(st.positions, stock.deltas(ins), st.lot_weight)
    return ins


def full_load(st: State, start: date, opening: pd.DataFrame) -> dict:
    """The tables as the DMS full load copies them at midnight of the first day (op I, no change seq)."""
    copied = midnight(start)
    ref = st.ref

    def frame(df, cols, k):
        at = np.full(len(df), copied + k * 1_000_000 + 118_204)
        data = {c: df[c].to_numpy() for c in cols}
        data["updated_at"] = to_datetime(at - 86_400 * US)
        f = change_frame("I", at, data)
        f.insert(1, "dms_commit_ts", to_datetime(at))
        f.insert(2, "dms_change_seq", None)
        return f.drop(columns="commit_us")

    txn = stock._txn_frame("I", opening)
    txn.insert(1, "dms_commit_ts", to_datetime(np.full(len(txn), copied + 5_118_204)))
    txn.insert(2, "dms_change_seq", None)
    txn = txn.drop(columns="commit_us")
    return {
        "wms__items": frame(
            ref.items, ["sku", "description", "fa_category", "storage_type", "case_weight_lbs", "is_active"], 1
        ),
        "wms__locations": frame(ref.locations, ["location_id", "warehouse_code", "zone", "is_active"], 2),
        "intake__donors": frame(
            ref.donors, ["donor_id", "donor_name", "donor_type", "contact_email", "phone", "city"], 3
        ),
        "ordering__agencies": frame(ref.agencies, ["agency_id", "agency_name", "agency_type", "county", "status"], 4),
        "wms__inventory_transactions": txn,
    }


def reference_updates(rng, st: State, day: date, scale: float) -> dict:
    """Master data changes during the day: new pack sizes (case weight), agency status, donor phone."""
    ref = st.ref
    k = max(1, int(round(3 * scale)))
    rows = rng.choice(len(ref.items), size=k, replace=False)
    ref.items.loc[rows, "case_weight_lbs"] = np.round(ref.items.loc[rows, "case_weight_lbs"] * 1.25, 2)
    at = local_to_utc(day, rng.uniform(8 * 3600, 17 * 3600, 3))
    it = ref.items.iloc[rows]
    items = change_frame(
        "U",
        np.full(k, at[0]),
        {
            c: it[c].to_numpy()
            for c in ["sku", "description", "fa_category", "storage_type", "case_weight_lbs", "is_active"]
        }
        | {"updated_at": stamps(np.full(k, at[0]))},
    )
    a = int(rng.integers(len(ref.agencies)))
    ref.agencies.loc[a, "status"] = "SUSPENDED" if ref.agencies.loc[a, "status"] == "ACTIVE" else "ACTIVE"
    ag = ref.agencies.iloc[[a]]
    agencies = change_frame(
        "U",
        at[1:2],
        {c: ag[c].to_numpy() for c in ["agency_id", "agency_name", "agency_type", "county", "status"]}
        | {"updated_at": stamps(at[1:2])},
    )
    d = int(rng.integers(len(ref.donors)))
    ref.donors.loc[d, "phone"] = f"510-555-{int(rng.integers(10000)):04d}"
    dn = ref.donors.iloc[[d]]
    donors = change_frame(
        "U",
        at[2:3],
        {c: dn[c].to_numpy() for c in ["donor_id", "donor_name", "donor_type", "contact_email", "phone", "city"]}
        | {"updated_at": stamps(at[2:3])},
    )
    return {"wms__items": items, "ordering__agencies": agencies, "intake__donors": donors}


def simulate_day(st: State, day: date, day_index: int, scale: float, seed: int, rates, defects: Defects) -> DayActivity:
    rng = day_rng(seed, day_index)
    vol = volumes(scale)
    ref = st.ref
    frames = reference_updates(rng, st, day, scale)
    p = stock.storage(st.positions, ref.locations)

    intake_frames, don_receipts = intake.donations(rng, st, day, vol["donation_lines"], rates, defects)
    frames.update({f"intake__{k}": v for k, v in intake_frames.items()})
    tefap_rows, tefap_receipts = intake.tefap(rng, st, day, vol["tefap_lines"], rates, defects)
    receipts = pd.concat([don_receipts, tefap_receipts], ignore_index=True)
    new_w = pd.Series(receipts["lbs_c"].to_numpy() * 100 // receipts["cases_c"].to_numpy(), index=receipts["lot_code"])
    st.lot_weight = pd.concat([st.lot_weight, new_w[~new_w.index.duplicated()]])
    st.lot_weight = st.lot_weight[~st.lot_weight.index.duplicated()]

    plan = ordering.plan_orders(rng, st, day, vol["order_lines"], p, rates, defects)
    other = stock.outflow_requests(rng, day, p, vol, ref.locations)
    sheet, manual_out = stock.manual_adjustments(rng, day, p, vol["manual_adjustments"], st, rates, defects)
    ship_req = plan.requests.assign(kind="SHIPMENT")[["kind", "position", "cases_c", "occurred_us"]]
    every = pd.concat([ship_req, other, manual_out], ignore_index=True)
    keep = stock.within_stock(every, p)
    n_ship, n_other = len(ship_req), len(other)

    order_frames, feed, file_us, file_names, dist, voids = ordering.ship(
        rng, st, day, plan, keep[:n_ship], p, rates, defects
    )
    for key in order_frames.pop("deleted_order_lines"):
        defects.add("deleted_rows", [{"table": "ordering__order_lines", "key": int(key)}])
    frames.update({f"ordering__{k}": v for k, v in order_frames.items()})

    kept_other = other.loc[keep[n_ship : n_ship + n_other]]
    moved = stock.movement_postings(rng, day, kept_other, p, ref.locations, vol, st)
    inserts = pd.concat([stock.receipt_postings(rng, receipts, day), moved], ignore_index=True)
    inserts["key"] = np.char.add("M:", np.arange(len(inserts)).astype(str))
    # what each position gives up today, to size the write-offs that drive some below zero
    used = every.loc[keep].groupby("position")["cases_c"].sum()
    inflow = set((inserts["sku"] + "|" + inserts["lot_code"] + "|" + inserts["to_location_id"]).dropna())
    negative = stock.drive_negative(rng, day, p, used, inflow, rates.negative_stock, defects)
    negative["key"] = np.char.add("NEG:", np.arange(len(negative)).astype(str))
    inserts = pd.concat([inserts, dist, negative], ignore_index=True)
    txn_frame, ins, void_records = stock.wms_changes(inserts, voids, st)
    defects.add("void_postings", void_records)
    frames["wms__inventory_transactions"] = txn_frame

    approved = sheet.loc[sheet["approved_by"].notna()]
    manual_moves = approved[stock.KEY + ["cases_c", "lbs_c"]]
    moves = stock.deltas(ins)
    closing = stock.roll_forward(st.positions, pd.concat([moves, manual_moves], ignore_index=True), st.lot_weight)
    st.positions = closing
    negative_now = closing.loc[closing["cases_c"] < 0]
    defects.add(
        "negative_balances",
        [
            {
                "business_date": day.isoformat(),
                "sku": r.sku,
                "lot_code": r.lot_code,
                "location_id": r.location_id,
                "closing_cases": r.cases_c / 100,
                "closing_lbs": r.lbs_c / 100,
            }
            for r in negative_now.itertuples()
        ],
    )
    onhand = stock.onhand_snapshot(rng, day, closing, rates.onhand_variance, defects)
    return DayActivity(
        day=day,
        changes=finish_changes(st, frames, day),
        shipments=feed,
        shipment_files=(file_us, file_names),
        adjustments=sheet,
        tefap=tefap_rows,
        onhand=onhand,
        moves=moves,
        postings=ins,
        closing=closing,
        voids=void_records,
    )
