"""The warehouse's stock: positions, the movements that change them, the book and the nightly count.

A position is (SKU, lot, location). Everything that takes stock out of a position on a day —
shipments, replenishment moves, spoilage, negative adjustments, manual write-offs — competes for
what the position held at the start of the day, and requests beyond 90 % of it are dropped, so
the book never goes negative by accident. Negative balances are injected on purpose (a write-off
larger than what is there) and then found by computing the book, exactly as the platform must.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .clock import US, local_to_utc, pacific_date
from .frames import POSTING_COLUMNS, Defects, change_frame, choose, decimal, lbs_for, postings, stamps

KEY = ["sku", "lot_code", "location_id"]
SPOILAGE_REASONS = np.array(
    [
        "temp excursion, cooler 2",
        "damaged packaging",
        "expired",
        "pest activity",
        'crushed pallet, "see photo"',
        "leaking cans\nsee QA note",
    ]
)
COUNT_REASONS = np.array(["CYCLE COUNT", "FOUND", "DAMAGED", "MISPICK"])
ADJUSTMENT_TYPES = np.array(["CYCLE_COUNT", "SPOILAGE", "DAMAGE", "RECALL", "CORRECTION"])
ADJUSTMENT_REASONS = np.array(
    ["count short", "count over", "freezer door left open, see incident", "miskeyed", "recall notice", "water damage"]
)
STAFF = np.array(["tkim", "rpatel", "lwong", "jsantos"])


def storage(positions: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    """Positions with stock in storage (not at a dock) at the start of the day, with warehouse and zone."""
    where = locations.set_index("location_id")
    p = positions.loc[positions["cases_c"] >= 100].copy()
    p["warehouse_code"] = where.loc[p["location_id"], "warehouse_code"].to_numpy()
    p["zone"] = where.loc[p["location_id"], "zone"].to_numpy()
    return p.loc[p["zone"] != "DOCK"]


def outflow_requests(rng, day: date, p: pd.DataFrame, counts: dict, locations: pd.DataFrame) -> pd.DataFrame:
    """Replenishment moves, spoilage and count adjustments out of positions, before stock limits them."""
    kinds = np.repeat(
        ["TRANSFER", "SPOILAGE", "ADJUSTMENT"], [counts["transfers"], counts["spoilage"], counts["adjustments_out"]]
    )
    n = len(kinds)
    pos = p.index.to_numpy()[rng.integers(0, len(p), n)]
    cases = np.where(kinds == "TRANSFER", rng.integers(1, 6, n), rng.integers(1, 4, n)) * 100
    half = (kinds == "SPOILAGE") & (rng.random(n) < 0.1)
    cases = np.where(half, 50, cases)  # half a case spoiled
    at = local_to_utc(day, rng.uniform(5 * 3600, 22 * 3600, n))
    return pd.DataFrame({"kind": kinds, "position": pos, "cases_c": cases, "occurred_us": at})


def within_stock(requests: pd.DataFrame, p: pd.DataFrame) -> np.ndarray:
    """Which requests fit, in time order, inside 90 % of each position's opening cases."""
    order = np.argsort(requests["occurred_us"].to_numpy(), kind="stable")
    r = requests.iloc[order]
    used = r.groupby("position", sort=False)["cases_c"].cumsum().to_numpy()
    cap = (p.loc[r["position"], "cases_c"].to_numpy() * 9) // 10
    keep = np.zeros(len(requests), bool)
    keep[order] = used <= cap
    return keep


def receipt_postings(rng, receipts: pd.DataFrame, day: date) -> pd.DataFrame:
    """A RECEIPT at the dock and, later that day, a TRANSFER from the dock to the SKU's home location."""
    n = len(receipts)
    common = dict(
        sku=receipts["sku"],
        lot_code=receipts["lot_code"],
        cases_c=receipts["cases_c"],
        lbs_c=receipts["lbs_c"],
        created_by=receipts["created_by"],
    )
    at = receipts["occurred_us"].to_numpy()
    rec = postings(
        n,
        txn_type="RECEIPT",
        to_location_id=receipts["dock"],
        supplier_lot=receipts["supplier_lot"],
        reference_type=receipts["reference_type"],
        reference_id=receipts["reference_id"],
        occurred_us=at,
        commit_us=at + rng.integers(5, 60, n) * US,
        **common,
    )
    latest = local_to_utc(day, np.array([23 * 3600.0]))[0]
    moved = np.minimum(at + rng.integers(600, 5400, n) * US, latest)
    put = postings(
        n,
        txn_type="TRANSFER",
        from_location_id=receipts["dock"],
        to_location_id=receipts["home"],
        reference_type="NONE",
        occurred_us=moved,
        commit_us=moved + rng.integers(5, 60, n) * US,
        **common,
    )
    return pd.concat([rec, put], ignore_index=True)


def replenish_to(rng, pos: pd.DataFrame, ref, locations: pd.DataFrame) -> np.ndarray:
    """Replenishment moves stock between the SKU's home and its pick face; SKUs without slots
    (hand-keyed unknown ones) go to another location of the same zone."""
    slot = pd.MultiIndex.from_arrays([pos["sku"], pos["warehouse_code"]])
    home = ref.home.set_index(["sku", "warehouse_code"])["location_id"].reindex(slot).to_numpy()
    pick = ref.pick.set_index(["sku", "warehouse_code"])["location_id"].reindex(slot).to_numpy()
    frm = pos["location_id"].to_numpy()
    to = np.where(frm == pick, home, pick)
    same = locations.loc[locations.zone != "DOCK"].groupby(["warehouse_code", "zone"])["location_id"].apply(np.array)
    for i in np.flatnonzero(pd.isna(to) | (to == frm)):
        choices = same[(pos["warehouse_code"].iat[i], pos["zone"].iat[i])]
        to[i] = choices[(np.searchsorted(choices, frm[i]) + 1 + int(rng.integers(5))) % len(choices)]
    return to


def movement_postings(
    rng, day: date, req: pd.DataFrame, p: pd.DataFrame, locations: pd.DataFrame, counts: dict, st
) -> pd.DataFrame:
    """WMS postings for the kept replenishment/spoilage/adjustment requests, plus positive count adjustments."""
    pos = p.loc[req["position"]]
    n = len(req)
    kind = req["kind"].to_numpy()
    to = replenish_to(rng, pos, st.ref, locations)
    is_adj = kind == "ADJUSTMENT"
    reason = np.where(
        kind == "SPOILAGE",
        SPOILAGE_REASONS[rng.integers(len(SPOILAGE_REASONS), size=n)],
        np.where(is_adj, COUNT_REASONS[rng.integers(len(COUNT_REASONS), size=n)], None),
    )
    count_ids = np.char.add("CC-", st.take("count", n).astype(str))
    out = postings(
        n,
        txn_type=kind,
        sku=pos["sku"],
        lot_code=pos["lot_code"],
        from_location_id=pos["location_id"],
        to_location_id=np.where(kind == "TRANSFER", to, None),
        cases_c=req["cases_c"],
        lbs_c=lbs_for(req["cases_c"], pos["wt_c"].to_numpy()),
        reference_type=np.where(is_adj, "COUNT", "NONE"),
        reference_id=np.where(is_adj, count_ids, None),
        reason_code=reason,
        occurred_us=req["occurred_us"],
        created_by=np.where(kind == "TRANSFER", "forklift-03", "qa-2"),
        commit_us=req["occurred_us"].to_numpy() + rng.integers(5, 90, n) * US,
    )
    k = counts["adjustments_in"]
    found = p.iloc[rng.integers(0, len(p), k)]
    at = local_to_utc(day, rng.uniform(5 * 3600, 22 * 3600, k))
    cases = rng.integers(1, 4, k) * 100
    gained = postings(
        k,
        txn_type="ADJUSTMENT",
        sku=found["sku"],
        lot_code=found["lot_code"],
        to_location_id=found["location_id"],
        cases_c=cases,
        lbs_c=lbs_for(cases, found["wt_c"].to_numpy()),
        reference_type="COUNT",
        reference_id=np.char.add("CC-", st.take("count", k).astype(str)),
        reason_code="FOUND",
        occurred_us=at,
        created_by="qa-2",
        commit_us=at + 30 * US,
    )
    return pd.concat([out, gained], ignore_index=True)


def drive_negative(
    rng, day: date, p: pd.DataFrame, used: pd.Series, inflow_keys: set, rate: float, defects: Defects
) -> pd.DataFrame:
    """Write-offs larger than what a position holds: its closing balance goes below zero."""
    left = p["cases_c"] - used.reindex(p.index).fillna(0).astype(np.int64)
    keys = p["sku"] + "|" + p["lot_code"] + "|" + p["location_id"]
    candidates = p.index.to_numpy()[(~keys.isin(inflow_keys)).to_numpy() & (left.to_numpy() >= 100)]
    chosen = choose(rng, candidates, rate)
    pos = p.loc[chosen]
    cases = left.loc[chosen].to_numpy() + rng.integers(1, 4, len(chosen)) * 100
    at = local_to_utc(day, rng.uniform(19 * 3600, 21 * 3600, len(chosen)))
    return postings(
        len(chosen),
        txn_type="ADJUSTMENT",
        sku=pos["sku"],
        lot_code=pos["lot_code"],
        from_location_id=pos["location_id"],
        cases_c=cases,
        lbs_c=lbs_for(cases, pos["wt_c"].to_numpy()),
        reference_type="COUNT",
        reference_id=np.char.add("CC-NEG-", chosen.astype(str)),
        reason_code="DAMAGED",
        occurred_us=at,
        created_by="nightshift",
        commit_us=at + 45 * US,
    )


def manual_adjustments(rng, day: date, p: pd.DataFrame, n: int, st, rates, defects: Defects):
    """Inventory-control spreadsheet rows (signed) and the write-offs among them, as outflow requests."""
    rows = p.iloc[rng.integers(0, len(p), n)]
    negative = rng.random(n) < 0.6
    cases = np.where(negative, -rng.integers(1, 61, n), rng.integers(1, 21, n)) * 100
    ids = np.char.add("ADJ-", np.char.zfill(st.take("adjustment", n).astype(str), 7))
    approved = STAFF[rng.integers(0, 2, n)].astype(object)
    approved[choose(rng, np.arange(n), rates.unapproved_adjustment)] = None
    sheet = pd.DataFrame(
        {
            "adjustment_id": ids,
            "business_date": np.datetime64(day, "D"),
            "sku": rows["sku"].to_numpy(),
            "lot_code": rows["lot_code"].to_numpy(),
            "location_id": rows["location_id"].to_numpy(),
            "adjustment_type": ADJUSTMENT_TYPES[rng.integers(len(ADJUSTMENT_TYPES), size=n)],
            "cases_c": cases,
            "lbs_c": np.sign(cases) * lbs_for(np.abs(cases), rows["wt_c"].to_numpy()),
            "reason": ADJUSTMENT_REASONS[rng.integers(len(ADJUSTMENT_REASONS), size=n)],
            "entered_by": STAFF[rng.integers(2, 4, n)],
            "approved_by": approved,
            "position": rows.index.to_numpy(),
        }
    )
    defects.add("unapproved_adjustments", [str(i) for i in ids[pd.isna(approved)]])
    out = sheet.loc[sheet["cases_c"] < 0]
    requests = pd.DataFrame(
        {
            "kind": "MANUAL",
            "position": out["position"],
            "cases_c": -out["cases_c"],
            "occurred_us": local_to_utc(day, np.full(len(out), 12 * 3600.0)),
        }
    )
    return sheet, requests


def wms_changes(inserts: pd.DataFrame, voids: list, st) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Number the day's postings in commit order (txn_id) and add the VOID updates.

    Returns (change frame for wms.inventory_transactions, the postings with txn_id and final status,
    the void records for the manifest).
    """
    ins = inserts.sort_values("commit_us", kind="stable").reset_index(drop=True)
    ins["txn_id"] = st.take("txn", len(ins))
    ins["status"] = "POSTED"
    by_key = pd.Series(ins.index, index=ins["key"])
    void_rows = by_key.loc[[v[0] for v in voids]].to_numpy() if voids else np.zeros(0, np.int64)
    ins.loc[void_rows, "status"] = "VOID"
    upd = ins.loc[void_rows].copy()
    upd["commit_us"] = np.array([v[1] for v in voids], dtype=np.int64)
    record = [
        {
            "voided_txn_id": int(ins.at[r, "txn_id"]),
            "reference_id": ins.at[r, "reference_id"],
            "correction_txn_id": int(ins.at[by_key[c], "txn_id"]) if c else None,
            "reason": why,
        }
        for r, (_, _, c, why) in zip(void_rows, voids)
    ]
    first = ins.assign(status="POSTED")
    frame = pd.concat([_txn_frame("I", first), _txn_frame("U", upd)], ignore_index=True)
    return frame, ins, record


def _txn_frame(op: str, x: pd.DataFrame) -> pd.DataFrame:
    cols = {c: x[c].to_numpy() for c in POSTING_COLUMNS if c not in ("cases_c", "lbs_c", "occurred_us", "commit_us")}
    cols.update(
        txn_id=x["txn_id"].to_numpy(),
        status=x["status"].to_numpy(),
        cases=decimal(x["cases_c"]),
        lbs=decimal(x["lbs_c"]),
        occurred_at=stamps(x["occurred_us"]),
        updated_at=stamps(x["commit_us"]),
    )
    return change_frame(op, x["commit_us"].to_numpy(), cols)


def deltas(ins: pd.DataFrame) -> pd.DataFrame:
    """Signed per-position movements of non-void postings, with the canonical event type and business date."""
    live = ins.loc[ins["status"] == "POSTED"]
    parts = []
    for side, loc_col, sign in (("out", "from_location_id", -1), ("in", "to_location_id", 1)):
        x = live.loc[live[loc_col].notna()]
        etype = x["txn_type"].where(x["txn_type"] != "TRANSFER", "TRANSFER_OUT" if side == "out" else "TRANSFER_IN")
        parts.append(
            pd.DataFrame(
                {
                    "sku": x["sku"],
                    "lot_code": x["lot_code"],
                    "location_id": x[loc_col],
                    "event_type": etype,
                    "cases_c": sign * x["cases_c"],
                    "lbs_c": sign * x["lbs_c"],
                    "business_date": pacific_date(x["occurred_us"].to_numpy()),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def roll_forward(positions: pd.DataFrame, moves: pd.DataFrame, weights: pd.Series) -> pd.DataFrame:
    """Closing positions = opening + the day's signed movements (rows that end at zero drop out)."""
    both = pd.concat([positions[KEY + ["cases_c", "lbs_c"]], moves[KEY + ["cases_c", "lbs_c"]]], ignore_index=True)
    out = both.groupby(KEY, sort=True, as_index=False)[["cases_c", "lbs_c"]].sum()
    out = out.loc[(out["cases_c"] != 0) | (out["lbs_c"] != 0)].reset_index(drop=True)
    out["wt_c"] = weights.reindex(out["lot_code"]).fillna(2500).astype(np.int64).to_numpy()
    return out


def onhand_snapshot(rng, day: date, closing: pd.DataFrame, rate: float, defects: Defects) -> pd.DataFrame:
    """What the warehouse believes at the end of the day: the book, except for miscounted rows."""
    snap = closing.sort_values(["location_id", "sku", "lot_code"]).reset_index(drop=True)
    bad = choose(rng, np.arange(len(snap)), rate)
    book_c, book_l = snap.loc[bad, "cases_c"].to_numpy(), snap.loc[bad, "lbs_c"].to_numpy()
    delta = rng.choice([-200, -100, 100, 200], size=len(bad))
    delta = np.where(book_c + delta < 0, -delta, delta)
    snap.loc[bad, "cases_c"] = book_c + delta
    snap.loc[bad, "lbs_c"] = book_l + lbs_for(delta, snap.loc[bad, "wt_c"].to_numpy())
    defects.add(
        "onhand_variances",
        [
            {
                "snapshot_date": day.isoformat(),
                "sku": r.sku,
                "lot_code": r.lot_code,
                "location_id": r.location_id,
                "book_cases": bc / 100,
                "book_lbs": bl / 100,
                "onhand_cases": r.cases_c / 100,
                "onhand_lbs": r.lbs_c / 100,
            }
            for r, bc, bl in zip(snap.loc[bad].itertuples(), book_c, book_l)
        ],
    )
    return pd.DataFrame(
        {
            "snapshot_date": np.datetime64(day, "D"),
            "sku": snap["sku"],
            "lot_code": snap["lot_code"],
            "location_id": snap["location_id"],
            "on_hand_cases": decimal(snap["cases_c"]),
            "on_hand_lbs": decimal(snap["lbs_c"]),
        }
    )
