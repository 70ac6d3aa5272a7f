"""`simulate(config)`: reference data -> each day's activity -> sinks (files) -> manifest.

The activity is generated independently of where it goes. `generate(config, defects)` gives the
full-load frames and a lazy sequence of `DayActivity` (per DMS table: the day's changes with op,
commit time and change sequence; per SFTP feed: the rows), so another sink — e.g. replaying the
same changes as SQL into PostgreSQL — consumes exactly what the file sinks write.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Iterator

import numpy as np
import pandas as pd

from . import manifest as mf
from . import stock
from .clock import pacific_date
from .config import SimulationConfig
from .day import DayActivity, State, day_rng, full_load, opening_stock, simulate_day
from .frames import Defects
from .reference import Reference, build_reference
from .sinks import DmsFiles, DmsSink, FileLog, deliver, sftp_drops


@dataclass
class Activity:
    """A run's source activity, before any sink.

    reference: the reference data (items, locations, donors, agencies; updated as days run).
    full_load: raw table -> the rows the DMS full load copies at midnight of the first day (op I).
    opening_book: the opening stock's book totals (the day before start_date), as in `Manifest.days`.
    days: lazily generated `DayActivity` per business day, in order; each carries, per DMS table,
      the day's changes sorted by `dms_change_seq` (op, dms_commit_ts, dms_change_seq, columns) —
      replaying them in that order as INSERT/UPDATE/DELETE reproduces the source databases.
    """

    reference: Reference
    full_load: dict
    opening_book: dict
    days: Iterator[DayActivity]


def generate(config: SimulationConfig, defects: Defects) -> Activity:
    """The run's activity without writing anything; injected defects are recorded in `defects`."""
    st = State(build_reference(config.seed))
    opening = opening_stock(st, config.start_date, config.seed)
    loads = full_load(st, config.start_date, opening)

    def days() -> Iterator[DayActivity]:
        for i in range(config.days):
            day = config.start_date + timedelta(days=i)
            yield simulate_day(st, day, i, config.scale, config.seed, config.defects, defects)

    return Activity(st.ref, loads, mf.book(stock.deltas(opening)), days())


def simulate(config: SimulationConfig, dms: DmsSink | None = None) -> mf.Manifest:
    """Generate the run, write the DMS changes (files under `landing_root`, or into `dms`) and the SFTP
    files under `sftp_root`, write and return the manifest."""
    defects = Defects()
    activity = generate(config, defects)
    log = FileLog()
    dms = dms or DmsFiles(config.landing_root, config.file_seconds, config.seed, config.defects.dms_restarts_per_day)
    dms.full_load(activity.full_load, log)
    history = {raw: [f[[*_key(raw), "op"]]] for raw, f in activity.full_load.items()}
    stats = {d: {"book": b} for d, b in activity.opening_book.items()}
    sheets: list = []
    unknown_parts: dict = {"wms": [], "lines": [], "ships": [], "tefap": []}
    ship_rows = 0
    for i, act in enumerate(activity.days):
        dms.day(i, act.changes, log, defects)
        deliver(
            config.sftp_root,
            sftp_drops(act, i, sheets),
            day_rng(config.seed, i, 2),
            config.defects.late_file,
            log,
            defects,
        )
        for raw, f in act.changes.items():
            history.setdefault(raw, []).append(f[[*_key(raw), "op"]])
        stats.update(day_stats(act, sheets[-1]))
        latest = act.shipments.drop_duplicates("shipment_line_id", keep="last")
        ship_rows += len(act.shipments)
        unknown_parts["wms"].append(act.postings[["txn_id", "sku"]])
        unknown_parts["lines"].append(act.changes["intake__donation_lines"][["line_id", "sku"]])
        unknown_parts["ships"].append(latest[["shipment_line_id", "sku", "is_void"]])
        unknown_parts["tefap"].append(act.tefap[["bol_number", "line_number", "sku"]])

    known = set(activity.reference.items["sku"])  # the catalogue never gains the hand-keyed SKUs
    cat = {k: pd.concat(v, ignore_index=True) for k, v in unknown_parts.items()}
    records = dict(defects.records)
    all_sheets = pd.concat(sheets, ignore_index=True)
    records["unknown_sku"] = mf.unknown_skus(known, cat["wms"], cat["lines"], cat["ships"], cat["tefap"], all_sheets)
    tables = mf.dms_table_counts(history)
    tables.update(
        {
            "legacy_warehouse__shipments": {
                "final_rows": int(len(cat["ships"])),
                "void": int(cat["ships"]["is_void"].sum()),
                "rows_written": ship_rows,
            },
            "legacy_warehouse__onhand": {"rows_written": int(sum(s.get("onhand_rows", 0) for s in stats.values()))},
            "manual_adjustments__adjustments": {
                "final_rows": int(all_sheets["adjustment_id"].nunique()),
                "approved": int(all_sheets["approved_by"].notna().sum()),
                "rows_written": int(sum(f["rows"] for f in log.files if f["path"].startswith("manual_adjustments/"))),
            },
            "usda_tefap__receipts": {"final_rows": int(len(cat["tefap"]))},
        }
    )
    manifest = mf.Manifest(
        config={
            "start_date": config.start_date.isoformat(),
            "days": config.days,
            "scale": config.scale,
            "seed": config.seed,
            "cdc_file_seconds": config.file_seconds,
            "defect_rates": asdict(config.defects),
        },
        tables=tables,
        days=dict(sorted(stats.items())),
        defects={name: {"count": _count(keys), "keys": keys} for name, keys in sorted(records.items())},
        files=log.files,
    )
    manifest.write(config.manifest_file)
    return manifest


def _key(raw: str) -> list[str]:
    from ..sources.catalog import table

    return list(table(raw).key)


def _count(keys) -> int:
    if isinstance(keys, dict):
        return int(sum(len(v) for v in keys.values()))
    return len(keys)


def day_stats(act: DayActivity, sheet: pd.DataFrame) -> dict:
    """The day's totals the canonical layer must reproduce (see `Manifest.days`)."""
    day = act.day.isoformat()
    approved = sheet.loc[sheet["approved_by"].notna()]
    unapproved = sheet.loc[sheet["approved_by"].isna()]
    wms = act.moves
    don = act.changes["intake__donations"]
    gone = set(don.loc[don["op"] == "D", "id"])
    lines = act.changes["intake__donation_lines"]
    lines_c = lines.assign(cases_c=np.rint(lines["cases"] * 100), lbs_c=np.rint(lines["gross_lbs"] * 100))
    orders = act.changes["ordering__orders"]
    ol = act.changes["ordering__order_lines"]
    alive = ol.loc[(ol["op"] == "I") & ~ol["order_line_id"].isin(ol.loc[ol["op"] == "D", "order_line_id"])]
    latest = act.shipments.drop_duplicates("shipment_line_id", keep="last")
    latest = latest.assign(business_date=pacific_date(latest["shipped_us"].to_numpy()))
    ships = {}
    for d, g in latest.groupby("business_date"):
        ok = g.loc[~g["is_void"]]
        ships[str(pd.Timestamp(d).date())] = {
            "lines": int(len(g)),
            "void": int(g["is_void"].sum()),
            "cases": mf._money(ok["cases_c"].sum()),
            "lbs": mf._money(ok["lbs_c"].sum()),
        }
    net = pd.concat([wms[["cases_c", "lbs_c"]], approved[["cases_c", "lbs_c"]]])
    closing = act.closing
    out = {
        day: {
            "book": mf.book(wms).get(day, {}),
            "manual_adjustments": {
                "approved": mf.sums(approved, "rows"),
                "unapproved": mf.sums(unapproved, "rows"),
                "approved_by_type": {t: mf.sums(g, "rows") for t, g in approved.groupby("adjustment_type")},
            },
            "book_net": {"cases": mf._money(net["cases_c"].sum()), "lbs": mf._money(net["lbs_c"].sum())},
            "closing": {**mf.sums(closing, "positions"), "negative_positions": int((closing["cases_c"] < 0).sum())},
            "donations": {
                "donations": int(((don["op"] == "I") & ~don["id"].isin(gone)).sum()),
                **mf.sums(lines_c, "donation_lines"),
            },
            "orders": {
                "orders": int((orders["op"] == "I").sum()),
                "order_lines": int(len(alive)),
                "cases_requested": round(float(alive["cases_requested"].sum()), 2),
                "cases_approved": round(float(ol.loc[ol["op"] == "U", "cases_approved"].sum()), 2),
            },
            "shipments": ships.get(day, {"lines": 0, "void": 0, "cases": 0.0, "lbs": 0.0}),
            "tefap": {
                "lines": int(len(act.tefap)),
                "cases": float(act.tefap["cases"].sum()),
                "net_lbs": float(act.tefap["net_lbs"].sum()),
            },
            "onhand_rows": int(len(act.onhand)),
        }
    }
    return out
