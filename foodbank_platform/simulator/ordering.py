"""Partner agency ordering (system 3) and the legacy pick/ship feed (feed 4) of docs/source_contracts.md.

Agencies order in the morning; approved lines ship from positions holding the SKU, in a shipments file every
15 minutes of business hours, each line also posted in the WMS as a DISTRIBUTION. On clock-change days a night
shift ships through the change, so the repeated (autumn) or skipped (spring) hour appears as the contract says.
Defects: orphan and re-sent shipment lines, distributions whose line never arrives or has a wrong quantity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .clock import US, dst_change, is_dst_change, local_to_utc, pacific_wall
from .frames import Defects, change_frame, choose, decimal, lbs_for, postings, stamps
from .intake import typo_skus

SCANNERS = np.array([f"scanner-{i:02d}" for i in range(1, 13)])


@dataclass
class OrderPlan:
    orders: pd.DataFrame  # one row per order
    lines: pd.DataFrame  # one row per order line
    requests: pd.DataFrame  # shipment requests: line row, position row, cases_c, shipped_us, night


def shipment_file_times(day: date) -> tuple[np.ndarray, list[str]]:
    """Instants and names of the day's shipments files: every 15 minutes 07:15-18:00, plus the DST night file."""
    minutes = list(range(7 * 60 + 15, 18 * 60 + 1, 15))
    if is_dst_change(day):
        minutes = [4 * 60 + 45] + minutes
    us = local_to_utc(day, np.array(minutes) * 60.0)
    names = [f"shipments_{day:%Y%m%d}_{m // 60:02d}{m % 60:02d}.csv" for m in minutes]
    return us, names


def plan_orders(rng, st, day: date, n_lines: int, positions: pd.DataFrame, rates, defects: Defects) -> OrderPlan:
    """Orders and lines of the day and the shipments they ask for (before stock limits them)."""
    ref = st.ref
    agencies = ref.agencies.loc[ref.agencies.status == "ACTIVE"]
    n_orders = max(2, n_lines // 15)
    ag = agencies.iloc[rng.integers(0, len(agencies), n_orders)].reset_index(drop=True)
    night = np.zeros(n_orders, bool)
    if is_dst_change(day):
        night[: max(2, n_orders // 50)] = True
    submitted_s = np.where(night, rng.uniform(300, 900, n_orders), rng.uniform(6 * 3600, 10 * 3600, n_orders))
    approved_s = np.where(night, 1200.0, submitted_s + rng.uniform(1800, 5400, n_orders))
    orders = pd.DataFrame(
        {
            "order_id": st.take("order", n_orders),
            "agency_id": ag["agency_id"],
            "agency_name": ag["agency_name"],
            "warehouse_code": ag["warehouse_code"],
            "order_type": np.where(rng.random(n_orders) < 0.7, "SHOPPING", "PREORDER"),
            "ship_method": np.where(rng.random(n_orders) < 0.4, "PICKUP", "DELIVERY"),
            "submitted_us": local_to_utc(day, submitted_s),
            "approved_us": local_to_utc(day, approved_s),
            "approved_s": approved_s,
            "night": night,
            "cancelled": False,
        }
    )
    orders.loc[choose(rng, np.flatnonzero(~night), 0.01), "cancelled"] = True

    owner = np.sort(np.concatenate([np.arange(n_orders), rng.integers(0, n_orders, max(0, n_lines - n_orders))]))
    wh = orders["warehouse_code"].to_numpy()[owner]
    # a line asks for a SKU the order's warehouse holds: pick a random position there, take its SKU
    catalogue = positions["sku"].isin(ref.items["sku"])  # agencies order from the catalogue only
    pos = positions.loc[catalogue].sort_values(["warehouse_code", "sku"], kind="stable").reset_index()
    group = pd.factorize(pos["warehouse_code"] + "|" + pos["sku"])[0]
    first = np.searchsorted(group, np.arange(group.max() + 1)) if len(group) else np.zeros(0, int)
    count = np.bincount(group) if len(group) else np.zeros(0, int)
    row = np.empty(len(owner), np.int64)
    for w in ("OAK", "HAY"):
        m, rows = wh == w, np.flatnonzero(pos["warehouse_code"].to_numpy() == w)
        row[m] = rows[rng.integers(0, len(rows), int(m.sum()))]
    lines = pd.DataFrame(
        {
            "order_line_id": st.take("order_line", len(owner)),
            "order_row": owner,
            "sku": pos["sku"].to_numpy()[row],
            "cases_requested_c": rng.integers(2, 25, len(owner)) * 100,
            "deleted": False,
        }
    )
    lines.loc[choose(rng, np.arange(len(owner)), rates.deleted_order_line), "deleted"] = True

    # each live line ships as 1-4 pick lines, each from a position holding the SKU
    live = np.flatnonzero(~lines["deleted"].to_numpy() & ~orders["cancelled"].to_numpy()[owner])
    k = rng.integers(1, 5, len(live))
    line_of = np.repeat(live, k)
    g = group[row[line_of]]
    pick = first[g] + (rng.random(len(line_of)) * count[g]).astype(np.int64)
    o = owner[line_of]
    is_night = orders["night"].to_numpy()[o]
    start_s = orders["approved_s"].to_numpy()[o] + 600
    ship_s = start_s + rng.random(len(o)) * np.maximum(17.75 * 3600 - start_s, 60)
    shipped = local_to_utc(day, ship_s)
    window = local_to_utc(day, np.array([1800.0, 4.5 * 3600]))
    shipped[is_night] = window[0] + (rng.random(int(is_night.sum())) * (window[1] - window[0])).astype(np.int64)
    cases = np.where(is_night, 100, rng.integers(1, 9, len(o)) * 100)
    requests = pd.DataFrame(
        {
            "line_row": line_of,
            "position": pos["index"].to_numpy()[pick],
            "cases_c": cases,
            "occurred_us": shipped,
            "night": is_night,
        }
    )
    return OrderPlan(orders, lines, requests)


def _force_dst_rows(day: date, lines: pd.DataFrame) -> None:
    """Make the changeover visible: on the autumn day one line at 01:40 PDT and one at 01:20 PST;
    on the spring day one line in the hour after the jump (written by a clock still on PST)."""
    idx = np.flatnonzero(lines["night"].to_numpy())
    if len(idx) < 2:
        return
    pdt_0140 = local_to_utc(day, np.array([100 * 60.0]))[0]
    if dst_change(day) == "fall_back":
        lines.loc[idx[0], "shipped_us"], lines.loc[idx[1], "shipped_us"] = pdt_0140, pdt_0140 + 40 * 60 * US
    else:
        lines.loc[idx[0], "shipped_us"] = local_to_utc(day, np.array([3 * 3600 + 1200.0]))[0]


def written_wall(day: date, shipped_us: np.ndarray) -> np.ndarray:
    """The legacy system's wall time; on the spring day its clock lags an hour until 04:00 PDT."""
    wall = pacific_wall(shipped_us)
    if dst_change(day) == "spring_forward":
        lo, hi = local_to_utc(day, np.array([3 * 3600.0, 4 * 3600.0]))
        wall = np.where((shipped_us >= lo) & (shipped_us < hi), wall - np.timedelta64(1, "h"), wall)
    return wall


def ship(rng, st, day: date, plan: OrderPlan, kept: np.ndarray, positions: pd.DataFrame, rates, defects: Defects):
    """Turn the requests that stock allowed into shipment lines, feed files, order changes and WMS postings.

    Returns (order change frames, shipments feed rows with their file slot, distribution postings,
    void requests as (posting key, commit µs)).
    """
    req = plan.requests.loc[kept].sort_values("occurred_us", kind="stable").reset_index(drop=True)
    req = req.rename(columns={"occurred_us": "shipped_us"})
    n = len(req)
    _force_dst_rows(day, req)
    req = req.sort_values("shipped_us", kind="stable").reset_index(drop=True)
    req["shipment_line_id"] = np.char.add("SL-", np.char.zfill(st.take("shipment_line", n).astype(str), 8))
    pos = positions.loc[req["position"]]
    req["sku"], req["lot_code"], req["location_id"] = (
        pos["sku"].to_numpy(),
        pos["lot_code"].to_numpy(),
        pos["location_id"].to_numpy(),
    )
    req["lbs_c"] = lbs_for(req["cases_c"], pos["wt_c"].to_numpy())
    order = plan.orders.iloc[plan.lines["order_row"].to_numpy()[req["line_row"]]]
    req["order_id"] = order["order_id"].to_numpy()
    req["order_line_id"] = plan.lines["order_line_id"].to_numpy()[req["line_row"]]
    req["agency_id"], req["agency_name"] = order["agency_id"].to_numpy(), order["agency_name"].to_numpy()
    route = np.char.add("R-", rng.integers(1, 31, len(plan.orders)).astype(str))  # one truck route per order
    req["route_id"] = np.where(
        order["ship_method"].to_numpy() == "DELIVERY", route[plan.lines["order_row"].to_numpy()[req["line_row"]]], None
    )
    file_us, file_names = shipment_file_times(day)
    req["slot"] = np.searchsorted(file_us, req["shipped_us"].to_numpy())
    req["commit_us"] = req["shipped_us"] + rng.integers(5, 60, n) * US

    # disjoint sets of lines for each defect; night lines stay clean so the DST file reads as designed
    pool = rng.permutation(np.flatnonzero(~req["night"].to_numpy() & (req["slot"] < len(file_us) - 3)))
    sizes = [
        choose(rng, pool, r).size
        for r in (
            rates.orphan_shipment,
            rates.resent_shipment,
            rates.distribution_without_shipment,
            rates.void_posting,
            rates.unknown_sku,
        )
    ]
    orphan, resent, unshipped, misposted, miskeyed = np.split(pool[: sum(sizes)], np.cumsum(sizes)[:-1])

    fake = st.take("orphan", len(orphan))
    req.loc[orphan, "order_id"] = 90_000_000 + fake
    req.loc[orphan, "order_line_id"] = 990_000_000 + fake
    defects.add(
        "orphan_shipment_lines",
        [
            {"shipment_line_id": r.shipment_line_id, "order_id": int(r.order_id), "order_line_id": int(r.order_line_id)}
            for r in req.loc[orphan].itertuples()
        ],
    )

    key = np.char.add("DIST:", req["shipment_line_id"].to_numpy().astype(str))
    dist = postings(
        n,
        txn_type="DISTRIBUTION",
        sku=req["sku"],
        lot_code=req["lot_code"],
        from_location_id=req["location_id"],
        cases_c=req["cases_c"],
        lbs_c=req["lbs_c"],
        reference_type="SHIPMENT",
        reference_id=req["shipment_line_id"],
        occurred_us=req["shipped_us"],
        created_by=SCANNERS[rng.integers(len(SCANNERS), size=n)],
        commit_us=req["commit_us"],
    )
    dist["key"] = key
    extra, voids = [], []
    # posted with one case too many, voided half a minute later and posted again right
    if len(misposted):
        wrong = dist.loc[misposted].copy()
        wt = positions.loc[req.loc[misposted, "position"], "wt_c"].to_numpy()
        dist.loc[misposted, "cases_c"] += 100
        dist.loc[misposted, "lbs_c"] = lbs_for(dist.loc[misposted, "cases_c"], wt)
        fix_at = wrong["commit_us"].to_numpy() + rng.integers(20, 120, len(misposted)) * US
        wrong["commit_us"], wrong["key"] = fix_at, np.char.add("FIX:", wrong["key"].to_numpy().astype(str))
        extra.append(wrong)
        voids += list(zip(key[misposted], fix_at, wrong["key"], ["wrong_quantity"] * len(misposted)))

    # re-sent in a later file: a new quantity, or void; the WMS voids (and re-posts) to match
    feed = req.copy()
    feed["is_void"] = False
    resend = req.loc[resent].copy()
    resend["slot"] = np.minimum(resend["slot"] + rng.integers(1, 4, len(resent)), len(file_us) - 1)
    void_it = (rng.random(len(resent)) < 0.5) | (resend["cases_c"].to_numpy() <= 100)
    new_cases = np.where(
        void_it,
        resend["cases_c"],
        (rng.random(len(resent)) * (resend["cases_c"] // 100 - 1)).astype(np.int64) * 100 + 100,
    )
    resend["is_void"], resend["cases_c"] = void_it, new_cases
    resend["lbs_c"] = lbs_for(new_cases, positions.loc[resend["position"], "wt_c"].to_numpy())
    at = file_us[resend["slot"].to_numpy()] - rng.integers(30, 300, len(resent)) * US
    again = dist.loc[resent[~void_it]].copy()
    again["cases_c"], again["lbs_c"] = resend["cases_c"].to_numpy()[~void_it], resend["lbs_c"].to_numpy()[~void_it]
    again["commit_us"], again["key"] = at[~void_it], np.char.add("RESEND:", again["key"].to_numpy().astype(str))
    extra.append(again)
    voids += [
        (k, t, f"RESEND:{k}" if not v else None, "shipment_voided" if v else "shipment_resent")
        for k, t, v in zip(key[resent], at, void_it)
    ]
    defects.add(
        "resent_shipment_lines",
        [
            {
                "shipment_line_id": s,
                "first_file": file_names[a],
                "resent_file": file_names[b],
                "is_void": bool(v),
                "cases_before": c0 / 100,
                "cases_after": c1 / 100,
            }
            for s, a, b, v, c0, c1 in zip(
                resend["shipment_line_id"],
                req.loc[resent, "slot"],
                resend["slot"],
                void_it,
                req.loc[resent, "cases_c"],
                new_cases,
            )
        ],
    )

    # the legacy clerk keyed a SKU that does not exist (the WMS scanned the right one)
    feed.loc[miskeyed, "sku"] = typo_skus(rng, feed.loc[miskeyed, "sku"].to_numpy())
    # the warehouse posted these, but the legacy feed never carries the line
    feed = feed.drop(index=unshipped)
    defects.add("distributions_without_shipment", [str(s) for s in req.loc[unshipped, "shipment_line_id"]])
    # ordering approved what the warehouse shipped, so those order lines are short in the feed
    defects.add(
        "unshipped_order_lines",
        [
            {"order_line_id": int(r.order_line_id), "shipment_line_id": r.shipment_line_id, "cases": r.cases_c / 100}
            for r in req.loc[unshipped].itertuples()
        ],
    )
    feed = pd.concat([feed, resend], ignore_index=True)
    feed["first"] = np.arange(len(feed)) >= len(feed) - len(resend)  # re-sent rows lead their file
    feed = feed.sort_values(["slot", "first", "shipped_us"], ascending=[True, False, True], kind="stable")
    feed["wall"] = written_wall(day, feed["shipped_us"].to_numpy())
    _dst_record(day, feed, file_names, defects)

    # what each order line finally shipped, as the ordering system approves it
    final = req[["line_row", "cases_c"]].copy()
    final.loc[resent, "cases_c"] = np.where(void_it, 0, new_cases)
    final = final.drop(index=orphan)
    approved = final.groupby("line_row")["cases_c"].sum()
    frames = _order_frames(rng, day, plan, approved, req)
    postings_all = pd.concat([dist, *extra], ignore_index=True)
    return frames, feed.reset_index(drop=True), file_us, file_names, postings_all, voids


def _dst_record(day: date, feed: pd.DataFrame, names: list[str], defects: Defects) -> None:
    kind = dst_change(day)
    if not kind:
        return
    night = feed.loc[feed["night"] & (feed["slot"] == 0)]
    hour = night["wall"].to_numpy().astype("datetime64[h]").astype(np.int64) % 24
    shown = night.loc[(hour == 1) if kind == "fall_back" else (hour == 2)]
    defects.add(
        "dst_days",
        [
            {
                "date": day.isoformat(),
                "kind": kind,
                "file": names[0],
                "lines": [
                    {
                        "shipment_line_id": r.shipment_line_id,
                        "wall_time": str(r.wall)[:19].replace("T", " "),
                        "shipped_at_utc": str(np.datetime64(int(r.shipped_us), "us")).replace("T", " "),
                    }
                    for r in shown.itertuples()
                ],
            }
        ],
    )


def _order_frames(rng, day: date, plan: OrderPlan, approved: pd.Series, req: pd.DataFrame) -> dict:
    o, ln = plan.orders, plan.lines
    n = len(o)
    last_ship = req.groupby(plan.lines["order_row"].to_numpy()[req["line_row"]])["shipped_us"].max()
    done = (
        np.maximum(last_ship.reindex(range(n)).fillna(0).to_numpy(np.int64), o["approved_us"].to_numpy())
        + rng.integers(600, 3600, n) * US
    )
    base = {
        "order_id": o["order_id"].to_numpy(),
        "agency_id": o["agency_id"].to_numpy(),
        "order_type": o["order_type"].to_numpy(),
        "ship_method": o["ship_method"].to_numpy(),
        "requested_date": np.full(n, np.datetime64(day, "D")),
        "submitted_at": stamps(o["submitted_us"]),
    }
    cancelled = o["cancelled"].to_numpy()

    def status(op, commit, value, rows=slice(None)):
        cols = {k: v[rows] for k, v in base.items()}
        return change_frame(op, commit[rows], {**cols, "status": value, "updated_at": stamps(commit[rows])})

    approved_at = o["approved_us"].to_numpy()
    orders = [
        status("I", o["submitted_us"].to_numpy(), "SUBMITTED"),
        status("U", approved_at, np.where(cancelled, "CANCELLED", "APPROVED")),
        status("U", done, "SHIPPED", ~cancelled),
    ]
    row = ln["order_row"].to_numpy()
    line_at = o["submitted_us"].to_numpy()[row] + np.arange(len(ln)) % 1000
    lbase = {
        "order_line_id": ln["order_line_id"].to_numpy(),
        "order_id": o["order_id"].to_numpy()[row],
        "sku": ln["sku"].to_numpy(),
        "cases_requested": decimal(ln["cases_requested_c"]),
    }
    deleted = ln["deleted"].to_numpy()
    live = ~deleted & ~cancelled[row]
    gone = line_at + rng.integers(60, 1200, len(ln)) * US
    cases_ok = approved.reindex(range(len(ln))).fillna(0).to_numpy()
    lines = [
        change_frame("I", line_at, {**lbase, "cases_approved": None, "updated_at": stamps(line_at)}),
        change_frame(
            "D",
            gone[deleted],
            {
                "order_line_id": lbase["order_line_id"][deleted],
                "order_id": None,
                "sku": None,
                "cases_requested": None,
                "cases_approved": None,
                "updated_at": None,
            },
        ),
        change_frame(
            "U",
            approved_at[row][live] + 1,
            {
                **{k: v[live] for k, v in lbase.items()},
                "cases_approved": decimal(cases_ok[live]),
                "updated_at": stamps(approved_at[row][live] + 1),
            },
        ),
    ]
    return {
        "orders": pd.concat(orders, ignore_index=True),
        "order_lines": pd.concat(lines, ignore_index=True),
        "deleted_order_lines": lbase["order_line_id"][deleted],
    }
