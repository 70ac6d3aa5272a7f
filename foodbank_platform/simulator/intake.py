"""Donation intake (system 2) and USDA commodity receipts (feed 6), and what the dock receives.

A donation is a header and its lines in the intake system; the warehouse posts each line as a WMS
RECEIPT (reference DONATION, the donation_id) at a dock door. TEFAP/CSFP bills of lading arrive in
the state's pipe file the next morning and are posted in the WMS as RECEIPT with reference
`<bol>-<line>`. Defects injected here: unknown SKUs keyed at intake, re-keyed donation IDs,
donations the warehouse received that intake never recorded, and draft headers deleted again.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .clock import local_to_utc
from .frames import Defects, change_frame, choose, decimal, stamps
from .reference import SALVAGE_SKU, SHELF_DAYS

CLERKS = np.array(["jlee", "mgarcia", "tnguyen", "ahmed.k", "dock-tablet-2"])


def typo_skus(rng: np.random.Generator, skus: np.ndarray) -> np.ndarray:
    """Hand-keyed SKUs that do not exist: the same prefix with a number no item ever gets (9000+)."""
    if not len(skus):
        return np.asarray(skus, dtype=object)
    prefixes = np.char.rpartition(skus.astype(str), "-")[:, 0]
    return np.char.add(np.char.add(prefixes, "-"), rng.integers(9000, 10000, size=len(skus)).astype(str))


def _receipts(rng, st, day, wh, sku, cases_c, lbs_c, ref_type, ref_id, occurred_us, home_sku) -> pd.DataFrame:
    docks = st.ref.locations.loc[st.ref.locations.zone == "DOCK"].groupby("warehouse_code")["location_id"].apply(list)
    dock = np.array([docks[w][i % len(docks[w])] for w, i in zip(wh, rng.integers(0, 60, size=len(wh)))], dtype=object)
    home = st.ref.home.set_index(["sku", "warehouse_code"])["location_id"]
    lot_supplier = np.where(
        rng.random(len(wh)) < 0.25,
        np.char.add("MFG-", rng.integers(10000, 99999, size=len(wh)).astype(str)).astype(object),
        None,
    )
    odd = rng.random(len(wh)) < 0.01  # supplier lots keyed with commas and quotes, as in the sample
    lot_supplier[odd] = 'GRW 55,"A" LOT'
    return pd.DataFrame(
        {
            "warehouse_code": wh,
            "sku": sku,
            "lot_code": st.lot_codes(day, wh, sku),
            "cases_c": cases_c,
            "lbs_c": lbs_c,
            "reference_type": ref_type,
            "reference_id": ref_id,
            "occurred_us": occurred_us,
            "dock": dock,
            "supplier_lot": lot_supplier,
            "home": home.reindex(pd.MultiIndex.from_arrays([home_sku, wh])).to_numpy(),
            "created_by": CLERKS[rng.integers(len(CLERKS), size=len(wh))],
        }
    )


def donations(rng, st, day: date, n_lines: int, rates, defects: Defects):
    """The day's donations: intake change frames and the WMS receipts they cause."""
    ref = st.ref
    n_don = max(1, n_lines // 8)
    donor = ref.donors.sample(n=n_don, replace=True, random_state=int(rng.integers(1 << 31))).reset_index(drop=True)
    wh = np.where(rng.random(n_don) < 0.65, "OAK", "HAY").astype(object)
    received = np.sort(local_to_utc(day, rng.uniform(6 * 3600, 18 * 3600, n_don)))
    ids = st.take("donation_pk", n_don)
    seq = np.empty(n_don, np.int64)
    for w in ("OAK", "HAY"):
        m = wh == w
        seq[m] = st.take(f"donation_{w}", int(m.sum()))
    donation_id = np.char.add(
        np.char.add(np.char.add("DN-", wh.astype(str)), f"-{day.year}-"), np.char.zfill(seq.astype(str), 7)
    ).astype(object)
    # lines: each donation gets >= 1, the rest spread at random
    owner = np.sort(np.concatenate([np.arange(n_don), rng.integers(0, n_don, max(0, n_lines - n_don))]))
    n_l = len(owner)
    food = ref.items.loc[(ref.items.sku != SALVAGE_SKU) & ref.items.is_active]
    pick = food.iloc[rng.integers(0, len(food), n_l)]
    salvage = rng.random(n_l) < 0.01
    wms_sku = np.where(salvage, SALVAGE_SKU, pick["sku"].to_numpy()).astype(object)
    intake_sku = np.where(salvage, None, wms_sku).astype(object)
    weight = np.where(salvage, 2500, np.round(pick["case_weight_lbs"].to_numpy() * 100)).astype(np.int64)
    cases = rng.integers(1, 61, n_l).astype(np.int64) * 100
    lbs = cases * weight // 100
    shelf = pick["storage_type"].map(SHELF_DAYS).to_numpy()
    best_by = np.where(shelf > 0, np.datetime64(day) + shelf.astype("timedelta64[D]"), np.datetime64("NaT"))
    line_ids = st.take("donation_line", n_l)

    open_commit = received + rng.integers(60, 600, n_don) * 1_000_000
    line_commit = open_commit[owner] + rng.integers(1, 120, n_l) * 1_000_000
    last_line = pd.Series(line_commit).groupby(owner).max().reindex(range(n_don)).to_numpy()
    post_commit = last_line + rng.integers(60, 1800, n_don) * 1_000_000

    # defects: unknown SKUs keyed at intake (the WMS receives what intake recorded)
    unknown = choose(rng, np.flatnonzero(~salvage), rates.unknown_sku)
    wms_sku[unknown] = typo_skus(rng, wms_sku[unknown])
    intake_sku[unknown] = wms_sku[unknown]
    # re-keyed donation IDs: a later donation of the same warehouse gets an earlier one's receipt number
    rekey = choose(rng, np.arange(1, n_don), rates.rekeyed_donation)
    touched = set()
    for i in rekey:
        earlier = [j for j in np.flatnonzero(wh[:i] == wh[i]) if j not in touched]
        if earlier and i not in touched:
            j = earlier[rng.integers(len(earlier))]
            donation_id[i] = donation_id[j]
            touched |= {i, j}
            defects.add("rekeyed_donation_ids", [{"donation_id": donation_id[i], "ids": [int(ids[j]), int(ids[i])]}])
    # received by the warehouse but never entered in intake
    missing = choose(rng, np.setdiff1d(np.arange(n_don), sorted(touched)), rates.receipt_without_intake)
    in_intake = ~np.isin(np.arange(n_don), missing)
    defects.add("receipts_without_intake", [{"donation_id": donation_id[i]} for i in missing])

    program = donor["program"].to_numpy()
    headers = dict(
        id=ids,
        donation_id=donation_id,
        donor_id=donor["donor_id"].to_numpy(),
        warehouse_code=wh,
        source_program=program,
        received_at=stamps(received),
    )
    hdr = {k: np.asarray(v)[in_intake] for k, v in headers.items()}
    opened = change_frame(
        "I", open_commit[in_intake], {**hdr, "status": "OPEN", "updated_at": stamps(open_commit[in_intake])}
    )
    posted = change_frame(
        "U", post_commit[in_intake], {**hdr, "status": "POSTED", "updated_at": stamps(post_commit[in_intake])}
    )
    drafts = _drafts(rng, st, day, rates, defects, wh, donor)
    occurred = received[owner] + rng.integers(300, 3600, n_l) * 1_000_000
    receipts = _receipts(
        rng,
        st,
        day,
        wh[owner],
        wms_sku,
        cases,
        lbs,
        "DONATION",
        donation_id[owner],
        occurred,
        np.where(np.isin(np.arange(n_l), unknown), pick["sku"].to_numpy(), wms_sku),
    )
    receipts["intake_row"] = np.arange(n_l)
    keep = in_intake[owner]
    lines = change_frame(
        "I",
        line_commit[keep],
        {
            "line_id": line_ids[keep],
            "donation_pk": ids[owner][keep],
            "sku": intake_sku[keep],
            "fa_category": pick["fa_category"].to_numpy()[keep],
            "lot_code": receipts["lot_code"].to_numpy()[keep],
            "cases": decimal(cases[keep]),
            "gross_lbs": decimal(lbs[keep]),
            "best_by": best_by[keep],
            "updated_at": stamps(line_commit[keep]),
        },
    )
    defects.add("unknown_sku_donation_lines", [int(line_ids[i]) for i in unknown if keep[i]])
    defects.add("salvage_donation_lines", [int(x) for x in line_ids[salvage & keep]])

    frames = {"donations": pd.concat([opened, posted, *drafts], ignore_index=True), "donation_lines": lines}
    return frames, receipts


def _drafts(rng, st, day, rates, defects, wh, donor):
    """Headers opened by mistake and deleted a few minutes later (D rows carry only the key)."""
    k = choose(rng, np.arange(len(wh)), rates.draft_donation)
    if not len(k):
        return []
    ids = st.take("donation_pk", len(k))
    at = local_to_utc(day, rng.uniform(7 * 3600, 17 * 3600, len(k)))
    gone = at + rng.integers(60, 900, len(k)) * 1_000_000
    cols = dict(
        id=ids,
        donation_id=[f"DN-{w}-DRAFT-{i}" for w, i in zip(wh[k], ids)],
        donor_id=donor["donor_id"].to_numpy()[k],
        warehouse_code=wh[k],
        source_program="DONATED",
        received_at=stamps(at),
        status="OPEN",
        updated_at=stamps(at),
    )
    empty = {c: None for c in cols if c != "id"}
    defects.add("deleted_rows", [{"table": "intake__donations", "key": int(i)} for i in ids])
    return [change_frame("I", at, cols), change_frame("D", gone, {"id": ids, **empty})]


def tefap(rng, st, day: date, n_lines: int, rates, defects: Defects):
    """The day's USDA bill-of-lading lines (feed 6 rows) and their WMS receipts."""
    com = st.ref.commodities
    n_bol = max(1, n_lines // 4)
    bol_of = np.sort(np.concatenate([np.arange(n_bol), rng.integers(0, n_bol, max(0, n_lines - n_bol))]))
    bol_no = st.take("bol", n_bol)
    line_no = pd.Series(bol_of).groupby(bol_of).cumcount().to_numpy() + 1
    c = com.iloc[rng.integers(0, len(com), len(bol_of))].reset_index(drop=True)
    items = st.ref.items.set_index("sku")
    weight = items.loc[c["wms_sku"], "case_weight_lbs"].to_numpy()
    cases = rng.integers(12, 80, len(bol_of))
    net_lbs = np.round(cases * weight).astype(np.int64)
    wh_of_bol = np.where(rng.random(n_bol) < 0.7, "OAK", "HAY").astype(object)
    program = np.where(rng.random(n_bol) < 0.8, "TEFAP", "CSFP").astype(object)
    bol = np.char.add("BOL", bol_no.astype(str)).astype(object)
    feed_sku = c["feed_sku"].to_numpy().copy()
    mapped = np.flatnonzero(pd.notna(feed_sku))
    bad = choose(rng, mapped, rates.unknown_sku_tefap)
    feed_sku[bad] = typo_skus(rng, feed_sku[bad].astype(str))
    feed = pd.DataFrame(
        {
            "bol_number": bol[bol_of],
            "line_number": line_no,
            "usda_material_code": c["usda_material_code"],
            "description": c["description"],
            "sku": feed_sku,
            "cases": cases,
            "net_lbs": net_lbs,
            "received_date": np.datetime64(day),
            "warehouse_code": wh_of_bol[bol_of],
            "program": program[bol_of],
            "unit_value_usd": np.round(rng.uniform(10, 45, len(bol_of)), 2),
        }
    )
    defects.add("unknown_sku_tefap_lines", [[feed.bol_number[i], int(feed.line_number[i])] for i in bad])
    defects.add(
        "unmapped_tefap_lines",
        [[feed.bol_number[i], int(feed.line_number[i])] for i in np.flatnonzero(pd.isna(c["feed_sku"]))],
    )
    at = np.sort(local_to_utc(day, rng.uniform(9 * 3600, 15 * 3600, n_bol)))[bol_of] + line_no * 30_000_000
    ref_id = np.char.add(np.char.add(bol[bol_of].astype(str), "-"), line_no.astype(str)).astype(object)
    receipts = _receipts(
        rng,
        st,
        day,
        wh_of_bol[bol_of],
        c["wms_sku"].to_numpy(),
        cases * 100,
        net_lbs * 100,
        "TEFAP_BOL",
        ref_id,
        at,
        c["wms_sku"].to_numpy(),
    )
    return feed, receipts
