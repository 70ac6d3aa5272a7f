"""The simulator: deterministic, in the contract's formats, and its manifest tells the truth.

Every figure the manifest claims is recounted here from the files alone (DuckDB and Python's csv
module), never from the simulator's own frames: the book per day and event type, final row counts,
and each injected defect with its keys. A small three-day run across the autumn clock change
keeps it quick.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from foodbank_platform.formats import source_files
from foodbank_platform.simulator import DefectRates, SimulationConfig, simulate
from foodbank_platform.sources.catalog import dms_tables, table

PACIFIC = "America/Los_Angeles"


def run(root: Path, seed: int = 7, start: date = date(2026, 10, 31), days: int = 3, scale: float = 0.01):
    config = SimulationConfig.in_folder(root, start_date=start, days=days, scale=scale, seed=seed)
    return simulate(config)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    return root, run(root)


def tree(root: Path) -> dict:
    """Every file under root: bytes digest and mtime (the manifest's own mtime is the run's wall clock)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "manifest.json":
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def test_same_seed_same_bytes_and_times(tmp_path):
    a, b, c = (run(tmp_path / n, seed=s, days=2, scale=0.005) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()
    assert tree(tmp_path / "a") != tree(tmp_path / "c")


# ---- reading the files back, independently of the simulator ----------------------------------


def dms(root: Path, raw: str) -> pd.DataFrame:
    """All of a table's DMS files (full load + CDC + replays) with the file each row came from."""
    t = table(raw)
    folder = root / "landing" / t.landing_prefix
    con = duckdb.connect()
    return con.execute(
        f"SELECT * FROM read_csv('{folder}/**/*.csv', header=true, all_varchar=true, nullstr='\\N', "
        f"filename=true, quote='\"', escape='\"')"
    ).df()


def current(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """State after applying changes by change sequence (full-load rows first)."""
    order = rows.assign(_s=rows["dms_change_seq"].fillna("0"))
    return order.sort_values("_s", kind="stable").drop_duplicates(key, keep="last")


def feed_files(root: Path, folder: str, pattern: str) -> list[Path]:
    return sorted((root / "sftp" / folder).glob(pattern))


def read_csv_rows(path: Path, encoding: str, delimiter: str = ",") -> list[dict]:
    text = path.read_bytes().decode(encoding)
    if delimiter == "|":
        lines = text.split("\n")
        header = lines[0].split("|")
        return [dict(zip(header, ln.split("|"))) for ln in lines[1:] if ln]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    return [dict(zip(header, r)) for r in reader if any(v.strip() for v in r)]


def shipments(root: Path) -> pd.DataFrame:
    rows = []
    for f in feed_files(root, "legacy_warehouse/shipments", "shipments_*.csv"):
        rows += [r | {"file": f.name} for r in read_csv_rows(f, "cp1252")]
    return pd.DataFrame(rows)


def items(root: Path) -> set:
    return set(current(dms(root, "wms__items"), "sku")["sku"])


# ---- formats ---------------------------------------------------------------------------------


def test_every_file_is_in_its_contract_format(sim):
    root, manifest = sim
    for t in dms_tables():
        for f in (root / "landing" / t.landing_prefix).rglob("*.csv"):
            data = f.read_bytes()
            rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
            assert rows[0] == source_files.dms_columns(t), f
            assert all(len(r) == len(rows[0]) for r in rows[1:]), f
            assert f.name == "LOAD00000001.csv" or len(f.stem) == len("20261102-091503123")
    for f in feed_files(root, "legacy_warehouse/shipments", "*.csv"):
        data = f.read_bytes()
        assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
        assert (f.parent / (f.name + ".done")).exists()
        rows = read_csv_rows(f, "cp1252")
        assert all(datetime.strptime(r["shipped_at"], "%m/%d/%Y %H:%M:%S") for r in rows)
    for f in feed_files(root, "manual_adjustments", "*.csv"):
        assert f.read_bytes().startswith(source_files.BOM)
    for f in feed_files(root, "usda_tefap", "*.txt"):
        assert f.read_bytes().decode("utf-8").split("\n")[0] == "|".join(table("usda_tefap__receipts").column_names)
    # the files load into DuckDB with the contract's types
    txn = dms(root, "wms__inventory_transactions")
    assert pd.to_datetime(txn["occurred_at"], format="%Y-%m-%d %H:%M:%S.%f").notna().all()
    assert pd.to_numeric(txn["cases"]).gt(0).all() and txn["lot_code"].notna().all()
    assert len(manifest.files) == sum(1 for p in root.rglob("*") if p.is_file() and p.name != "manifest.json")


def test_dms_files_are_named_by_write_time_after_their_commits(sim):
    root, _ = sim
    for f in (root / "landing" / "dms" / "wms" / "wms" / "inventory_transactions").rglob("2026*.csv"):
        written = datetime.strptime(f.stem, "%Y%m%d-%H%M%S%f")
        commits = [r[1] for r in csv.reader(io.StringIO(f.read_text(), newline=""))][1:]
        assert max(commits) < written.strftime("%Y-%m-%d %H:%M:%S.%f")
        assert f.parent.relative_to(f.parents[3]).as_posix() == min(commits)[:10].replace("-", "/")
        assert f.stat().st_mtime_ns // 1000 == int((written - datetime(1970, 1, 1)).total_seconds() * 1e6)


# ---- the manifest against the files ----------------------------------------------------------


def book_from_files(root: Path) -> pd.DataFrame:
    """Signed movements of WMS postings that are not VOID plus approved manual adjustments."""
    txn = dms(root, "wms__inventory_transactions")
    final = current(txn, "txn_id")
    live = final.loc[final["status"] == "POSTED"]
    parts = []
    for col, sign in (("from_location_id", -1), ("to_location_id", 1)):
        x = live.loc[live[col].notna()]
        etype = x["txn_type"].where(x["txn_type"] != "TRANSFER", "TRANSFER_OUT" if sign < 0 else "TRANSFER_IN")
        occurred = pd.to_datetime(x["occurred_at"]).dt.tz_localize("UTC").dt.tz_convert(PACIFIC)
        parts.append(
            pd.DataFrame(
                {
                    "business_date": occurred.dt.strftime("%Y-%m-%d"),
                    "event_type": etype,
                    "sku": x["sku"],
                    "lot_code": x["lot_code"],
                    "location_id": x[col],
                    "cases": sign * pd.to_numeric(x["cases"]),
                    "lbs": sign * pd.to_numeric(x["lbs"]),
                }
            )
        )
    adj = adjustments(root)
    ok = adj.loc[adj["approved_by"].str.strip() != ""]
    parts.append(
        pd.DataFrame(
            {
                "business_date": ok["business_date"],
                "event_type": "MANUAL",
                "sku": ok["sku"],
                "lot_code": ok["lot_code"],
                "location_id": ok["location_id"],
                "cases": ok["cases"].str.replace(",", "").astype(float),
                "lbs": ok["lbs"].str.replace(",", "").astype(float),
            }
        )
    )
    return pd.concat(parts, ignore_index=True)


def adjustments(root: Path) -> pd.DataFrame:
    rows = []
    for f in feed_files(root, "manual_adjustments", "*.csv"):
        rows += read_csv_rows(f, "utf-8-sig")
    return pd.DataFrame(rows).drop_duplicates("adjustment_id")


def test_book_per_day_and_event_type_matches_the_files(sim):
    root, manifest = sim
    moves = book_from_files(root)
    wms = moves.loc[moves["event_type"] != "MANUAL"]
    got = wms.groupby(["business_date", "event_type"]).agg(
        events=("cases", "size"), cases=("cases", "sum"), lbs=("lbs", "sum")
    )
    claimed = {(d, e): v for d, s in manifest.days.items() for e, v in s["book"].items()}
    assert set(claimed) == set(got.index)
    for k, v in claimed.items():
        assert v["events"] == got.loc[k, "events"]
        assert v["cases"] == pytest.approx(got.loc[k, "cases"], abs=0.005)
        assert v["lbs"] == pytest.approx(got.loc[k, "lbs"], abs=0.005)
    for d, s in manifest.days.items():
        if "book_net" in s:
            day = moves.loc[moves["business_date"] == d]
            assert s["book_net"]["cases"] == pytest.approx(day["cases"].sum(), abs=0.005)


def closing_by_day(root: Path, manifest) -> dict:
    moves = book_from_files(root)
    out = {}
    running = pd.Series(dtype=float)
    for d in sorted(manifest.days):
        day = moves.loc[moves["business_date"] == d].groupby(["sku", "lot_code", "location_id"])[["cases", "lbs"]].sum()
        running = day if running.empty else running.add(day, fill_value=0)
        out[d] = running.round(2)
    return out


def test_negative_balances_and_onhand_variances_are_exactly_the_injected_ones(sim):
    root, manifest = sim
    closing = closing_by_day(root, manifest)
    negatives = {(d, *k) for d, c in closing.items() for k in c.index[c["cases"] < 0]}
    claimed = {
        (r["business_date"], r["sku"], r["lot_code"], r["location_id"])
        for r in manifest.defects["negative_balances"]["keys"]
    }
    assert negatives == claimed and len(claimed) >= 1
    variances = set()
    for f in feed_files(root, "legacy_warehouse/onhand", "onhand_*.csv"):
        snap = pd.DataFrame(read_csv_rows(f, "cp1252")).set_index(["sku", "lot_code", "location_id"])
        d = snap["snapshot_date"].iloc[0]
        book = closing[d].loc[closing[d]["cases"].abs() + closing[d]["lbs"].abs() > 0]
        both = book.join(snap, how="outer")
        diff = (both["cases"].fillna(0) - pd.to_numeric(both["on_hand_cases"]).fillna(0)).abs() > 0.001
        variances |= {(d, *k) for k in both.index[diff]}
    claimed = {
        (r["snapshot_date"], r["sku"], r["lot_code"], r["location_id"])
        for r in manifest.defects["onhand_variances"]["keys"]
    }
    assert variances == claimed and len(claimed) >= 3


def test_final_row_counts_match_the_files(sim):
    root, manifest = sim
    for t in dms_tables():
        state = current(dms(root, t.raw_table), t.key[0])
        assert manifest.tables[t.raw_table]["final_rows"] == int((state["Op"] != "D").sum()), t.raw_table
    ships = shipments(root)
    latest = ships.sort_values("file", kind="stable").drop_duplicates("shipment_line_id", keep="last")
    assert manifest.tables["legacy_warehouse__shipments"]["final_rows"] == len(latest)
    assert manifest.tables["legacy_warehouse__shipments"]["void"] == int((latest["is_void"] == "Y").sum())
    assert manifest.tables["manual_adjustments__adjustments"]["final_rows"] == len(adjustments(root))
    shipped = latest.assign(
        day=pd.to_datetime(latest["shipped_at"], format="%m/%d/%Y %H:%M:%S").dt.strftime("%Y-%m-%d")
    )
    for d, s in manifest.days.items():
        if "shipments" in s:  # business dates by wall time agree except across the DST night, which stays in-day
            assert s["shipments"]["lines"] == int((shipped["day"] == d).sum())
    lines = current(dms(root, "intake__donation_lines"), "line_id")
    assert sum(s.get("donations", {}).get("donation_lines", 0) for s in manifest.days.values()) == len(lines)


def test_defect_keys_match_the_files(sim):
    root, manifest = sim
    known = items(root)
    d = manifest.defects
    # re-keyed donation ids: one donation_id on two live donations
    don = current(dms(root, "intake__donations"), "id")
    don = don.loc[don["Op"] != "D"]
    dup = don.groupby("donation_id")["id"].nunique()
    assert set(dup[dup > 1].index) == {r["donation_id"] for r in d["rekeyed_donation_ids"]["keys"]}
    # orphans: shipment lines whose order does not exist
    ships = shipments(root)
    orders = set(current(dms(root, "ordering__orders"), "order_id")["order_id"])
    orphans = set(ships.loc[~ships["order_id"].isin(orders), "shipment_line_id"])
    assert orphans == {r["shipment_line_id"] for r in d["orphan_shipment_lines"]["keys"]} and orphans
    # unknown SKUs in each source
    txn = dms(root, "wms__inventory_transactions")
    unknown = d["unknown_sku"]["keys"]
    assert set(txn.loc[~txn["sku"].isin(known), "txn_id"].astype(int)) == set(unknown["wms__inventory_transactions"])
    lines = dms(root, "intake__donation_lines")
    bad = lines["sku"].notna() & ~lines["sku"].isin(known)
    assert set(lines.loc[bad, "line_id"].astype(int)) == set(unknown["intake__donation_lines"])
    latest = ships.sort_values("file", kind="stable").drop_duplicates("shipment_line_id", keep="last")
    assert set(latest.loc[~latest["sku"].isin(known), "shipment_line_id"]) == set(
        unknown["legacy_warehouse__shipments"]
    )
    tefap = pd.DataFrame([r for f in feed_files(root, "usda_tefap", "*.txt") for r in read_csv_rows(f, "utf-8", "|")])
    bad = (tefap["sku"] != "") & ~tefap["sku"].isin(known)
    assert {(b, int(n)) for b, n in tefap.loc[bad, ["bol_number", "line_number"]].itertuples(index=False)} == {
        tuple(k) for k in unknown["usda_tefap__receipts"]
    }
    # voided postings: U rows to VOID
    voids = txn.loc[(txn["Op"] == "U") & (txn["status"] == "VOID"), "txn_id"].astype(int)
    assert set(voids) == {r["voided_txn_id"] for r in d["void_postings"]["keys"]}
    # re-sent shipment lines: the same id in two files
    per_file = ships.groupby("shipment_line_id")["file"].nunique()
    assert set(per_file[per_file > 1].index) == {r["shipment_line_id"] for r in d["resent_shipment_lines"]["keys"]}
    # receipts without intake / distributions without shipment lines
    received = set(txn.loc[txn["reference_type"] == "DONATION", "reference_id"])
    assert received - set(dms(root, "intake__donations")["donation_id"]) == {
        r["donation_id"] for r in d["receipts_without_intake"]["keys"]
    }
    distributed = set(txn.loc[txn["reference_type"] == "SHIPMENT", "reference_id"])
    assert distributed - set(ships["shipment_line_id"]) == set(d["distributions_without_shipment"]["keys"])
    # TEFAP BOL lines are also WMS receipts
    bol_refs = set(txn.loc[txn["reference_type"] == "TEFAP_BOL", "reference_id"])
    assert bol_refs == set(tefap["bol_number"] + "-" + tefap["line_number"])


def test_replayed_and_late_files_are_what_the_manifest_says(sim):
    root, manifest = sim
    txn_like = pd.concat([dms(root, t.raw_table)[["dms_change_seq", "filename"]] for t in dms_tables()])
    cdc = txn_like.loc[txn_like["dms_change_seq"].notna()]
    seen_twice = cdc.groupby("dms_change_seq")["filename"].nunique()
    claimed_rows = sum(f["rows"] for r in manifest.defects["replayed_dms_files"]["keys"] for f in r["files"])
    assert int((seen_twice > 1).sum()) == claimed_rows > 0
    late = manifest.defects["late_files"]["keys"]
    assert late
    for r in late:
        f = root / "sftp" / r["path"]
        mtime = datetime.utcfromtimestamp(f.stat().st_mtime)
        assert mtime.strftime("%Y-%m-%d %H:%M:%S") == r["actual_delivery"][:19]
        assert (
            (datetime.fromisoformat(r["actual_delivery"]) - datetime.fromisoformat(r["intended_delivery"])).days
            == r["days_late"]
            >= 1
        )


def test_autumn_repeated_hour_reads_back_by_the_contract_rule(sim):
    root, manifest = sim
    (dst,) = manifest.defects["dst_days"]["keys"]
    assert dst["kind"] == "fall_back"
    rows = read_csv_rows(root / "sftp" / "legacy_warehouse" / "shipments" / dst["file"], "cp1252")
    # the contract's rule: daylight time until a wall time in 01:xx goes backwards, standard time after
    instants, peak, standard = {}, None, False
    for r in rows:
        wall = pd.Timestamp(datetime.strptime(r["shipped_at"], "%m/%d/%Y %H:%M:%S"))
        if wall.hour == 1:
            standard = standard or (peak is not None and wall < peak)
            peak = wall if peak is None or wall > peak else peak
        instants[r["shipment_line_id"]] = wall.tz_localize(PACIFIC, ambiguous=not standard).tz_convert("UTC")
    assert standard, "the file must go through the repeated hour twice"
    for line in dst["lines"]:
        assert instants[line["shipment_line_id"]] == pd.Timestamp(line["shipped_at_utc"], tz="UTC").floor("s")


def test_spring_change_writes_the_skipped_hour_as_the_contract_reads_it(tmp_path):
    manifest = run(tmp_path, start=date(2026, 3, 8), days=1, scale=0.005, seed=3)
    (dst,) = manifest.defects["dst_days"]["keys"]
    assert dst["kind"] == "spring_forward" and dst["lines"]
    for line in dst["lines"]:
        wall = pd.Timestamp(line["wall_time"])
        assert wall.hour == 2  # a wall time that does not exist ...
        read = (wall + pd.Timedelta(hours=1)).tz_localize(PACIFIC).tz_convert("UTC")  # ... is read an hour later
        assert read == pd.Timestamp(line["shipped_at_utc"], tz="UTC").floor("s")


def test_no_defects_when_switched_off(tmp_path):
    config = SimulationConfig(
        landing_root=tmp_path / "l",
        sftp_root=tmp_path / "s",
        start_date=date(2026, 11, 3),
        days=1,
        scale=0.005,
        seed=5,
        defects=DefectRates.none(),
    )
    manifest = simulate(config)
    injected = {
        k: v["count"]
        for k, v in manifest.defects.items()
        if k not in ("salvage_donation_lines", "unmapped_tefap_lines", "replayed_dms_files")
    }
    assert all(c == 0 for c in injected.values()), injected
    assert os.path.exists(config.manifest_file)
