"""Sinks that turn a day's activity into files, as the sources deliver them.

DMS: per table, one CSV per `cdc_file_seconds` of commits, named by the UTC time it was written,
in UTC-date folders; a DMS task restart replays the last hour of one system in new files. SFTP: the
legacy warehouse's shipments every 15 minutes and nightly on-hand (each with a `.done` marker),
inventory-control spreadsheets and the state's TEFAP file. Every file's modification time is its
delivery time (late files: days after they were due), and each is logged for the manifest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from ..formats import source_files
from ..sources.catalog import table
from .clock import US, local_to_utc
from .day import day_rng
from .frames import Defects, choose, decimal

MS = 1000


def iso(us: int) -> str:
    return str(np.datetime64(int(us), "us")).replace("T", " ")


@dataclass
class FileLog:
    """Every file written: which root, relative path, delivery instant (µs) and data rows."""

    files: list = field(default_factory=list)

    def put(
        self, root: Path, rel: str, data: bytes, delivered_us: int, rows: int, kind: str, intended_us: int | None = None
    ) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(delivered_us * 1000, delivered_us * 1000))
        entry = {"root": kind, "path": rel, "delivered_at": iso(delivered_us), "rows": rows}
        if intended_us is not None and intended_us != delivered_us:
            entry["intended_at"] = iso(intended_us)
        self.files.append(entry)


def _dms_name(prefix: str, write_us: int, bucket_start_us: int) -> str:
    folder = np.datetime64(int(bucket_start_us), "us").astype("datetime64[D]").astype(object)
    stamp = np.datetime64(int(write_us), "us").astype(object)
    return f"{prefix}/{folder:%Y/%m/%d}/{stamp:%Y%m%d-%H%M%S}{stamp.microsecond // 1000:03d}.csv"


def write_full_load(landing: Path, frames: dict, log: FileLog) -> None:
    for raw, frame in frames.items():
        t = table(raw)
        at = int(frame["dms_commit_ts"].max().value // 1000) + 30 * US
        log.put(
            landing,
            f"{t.landing_prefix}/LOAD00000001.csv",
            source_files.write_dms_csv(frame, t, full_load=True),
            at,
            len(frame),
            "landing",
        )


class DmsSink(Protocol):
    """Where the PostgreSQL systems' changes go: DMS files (`DmsFiles`), or e.g. real tables
    (`simulator.postgres.PostgresDms`)."""

    def full_load(self, frames: dict, log: FileLog) -> None: ...

    def day(self, index: int, changes: dict, log: FileLog, defects: Defects) -> None: ...


@dataclass
class DmsFiles:
    """The DMS task's files under the landing root, with its restarts (each replays an hour in new files)."""

    landing: Path
    file_seconds: int
    seed: int
    restarts_per_day: float

    def full_load(self, frames: dict, log: FileLog) -> None:
        write_full_load(self.landing, frames, log)

    def day(self, index: int, changes: dict, log: FileLog, defects: Defects) -> None:
        # restarts spread evenly: a rate of 0.5 restarts on every second day, 2.0 twice a day
        rate = self.restarts_per_day
        restarts = int((index + 1) * rate + 1e-9) - int(index * rate + 1e-9)
        write_dms_day(self.landing, changes, self.file_seconds, day_rng(self.seed, index, 1), restarts, log, defects)


def write_dms_day(
    landing: Path, changes: dict, seconds: int, rng: np.random.Generator, restarts: int, log: FileLog, defects: Defects
) -> None:
    """CDC files for each table's changes of the day, then `restarts` task restarts' replayed files."""
    width = seconds * US
    written: dict = {}
    for raw, frame in changes.items():
        t = table(raw)
        lines = source_files.dms_lines(frame, t)
        commit = frame["dms_commit_ts"].to_numpy().astype("datetime64[us]").astype(np.int64)
        bucket = commit // width
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(bucket)) + 1, [len(frame)]])
        header = source_files.dms_header(t)
        names = set()
        for a, z in zip(cuts[:-1], cuts[1:]):
            start = int(bucket[a]) * width
            at = start + width + int(rng.integers(5, 3000)) * MS
            name = _dms_name(t.landing_prefix, at, start)
            names.add(name)
            log.put(landing, name, header + lines.slice(a, z), at, int(z - a), "landing")
        written[raw] = (lines, commit, names)
    for _ in range(restarts):
        _replay(landing, changes, written, seconds, rng, log, defects)


def _replay(landing, changes, written, seconds, rng, log, defects) -> None:
    """A DMS task restart: the last hour of one system's changes again, in new files with new names."""
    systems = sorted({table(r).system for r in changes})
    system = systems[int(rng.integers(len(systems)))]
    commits = np.concatenate([written[r][1] for r in changes if table(r).system == system])
    restart = int(commits.min() + rng.random() * (commits.max() - commits.min()))
    record = {"system": system, "restart_at": iso(restart), "window_start": iso(restart - 3600 * US), "files": []}
    for raw in [r for r in changes if table(r).system == system]:
        lines, commit, names = written[raw]
        rows = np.flatnonzero((commit >= restart - 3600 * US) & (commit < restart))
        if not len(rows):
            continue
        t = table(raw)
        # regrouped on shifted boundaries, so the replayed files differ from the originals in bytes too
        chunk = (commit[rows] + seconds * US // 2) // (seconds * US)
        cuts = np.concatenate([[0], np.flatnonzero(np.diff(chunk)) + 1, [len(rows)]])
        for j, (a, z) in enumerate(zip(cuts[:-1], cuts[1:])):
            # names carry milliseconds, so the write time (and mtime) is a whole millisecond
            at = restart - restart % MS + 90 * US + j * 1500 * MS + int(rng.integers(0, 999)) * MS
            name = _dms_name(t.landing_prefix, at, int(commit[rows[a]]))
            while name in names:
                at += MS
                name = _dms_name(t.landing_prefix, at, int(commit[rows[a]]))
            names.add(name)
            log.put(
                landing,
                name,
                source_files.dms_header(t) + lines.slice(rows[a], rows[z - 1] + 1),
                at,
                int(z - a),
                "landing",
            )
            seqs = changes[raw]["dms_change_seq"].iloc[[rows[a], rows[z - 1]]].tolist()
            record["files"].append(
                {"path": name, "rows": int(z - a), "first_change_seq": seqs[0], "last_change_seq": seqs[1]}
            )
    defects.add("replayed_dms_files", [record])


@dataclass
class Drop:
    """One SFTP file to deliver: where, bytes, when it was due, rows, and whether it gets a `.done`."""

    rel: str
    data: bytes
    due_us: int
    rows: int
    marker: bool


def sftp_drops(activity, day_index: int, history: list) -> list[Drop]:
    """The day's SFTP files (before any is delayed)."""
    day = activity.day
    drops = []
    ships = table("legacy_warehouse__shipments")
    file_us, names = activity.shipment_files
    feed = activity.shipments.assign(
        cases_shipped=lambda f: decimal(f["cases_c"]),
        lbs_shipped=lambda f: decimal(f["lbs_c"]),
        from_location_id=lambda f: f["location_id"],
        shipped_at=lambda f: f["wall"],
    )
    for slot, (at, name) in enumerate(zip(file_us, names)):
        rows = feed.loc[feed["slot"] == slot]
        drops.append(
            Drop(
                f"{ships.sftp_folder}/{name}",
                source_files.write_legacy_csv(rows, ships),
                int(at) + 20 * US,
                len(rows),
                True,
            )
        )
    onhand = table("legacy_warehouse__onhand")
    night = int(local_to_utc(day + timedelta(days=1), np.array([2 * 3600.0 + 300]))[0])
    drops.append(
        Drop(
            f"{onhand.sftp_folder}/onhand_{day:%Y%m%d}.csv",
            source_files.write_legacy_csv(activity.onhand, onhand),
            night,
            len(activity.onhand),
            True,
        )
    )
    adj = table("manual_adjustments__adjustments")
    sheet = adjustment_rows(activity.adjustments)
    history.append(sheet)
    morning = int(local_to_utc(day + timedelta(days=1), np.array([8 * 3600.0 + 600]))[0])
    style = source_files.ADJUSTMENT_HEADER_STYLES[day_index % 3]
    drops.append(
        Drop(
            f"{adj.sftp_folder}/inventory adjustments {day:%Y-%m-%d}.csv",
            source_files.write_adjustments_csv(sheet, adj, header_style=style, blank_rows=day_index % 3),
            morning,
            len(sheet),
            False,
        )
    )
    if day_index % 3 == 2:  # the weekly tab exported again: the same rows re-appear in a second file
        again = pd.concat(history[-3:], ignore_index=True)
        drops.append(
            Drop(
                f"{adj.sftp_folder}/{day:%b} re-export {day:%d} (last 3 days).csv",
                source_files.write_adjustments_csv(again, adj, header_style="sample"),
                morning + 900 * US,
                len(again),
                False,
            )
        )
    tef = table("usda_tefap__receipts")
    due = int(local_to_utc(day + timedelta(days=1), np.array([7 * 3600.0 + 1200]))[0])
    drops.append(
        Drop(
            f"{tef.sftp_folder}/tefap_receipts_{day + timedelta(days=1):%Y%m%d}.txt",
            source_files.write_tefap(activity.tefap, tef),
            due,
            len(activity.tefap),
            False,
        )
    )
    return drops


def adjustment_rows(sheet: pd.DataFrame) -> pd.DataFrame:
    return sheet.assign(cases=decimal(sheet["cases_c"]), lbs=decimal(sheet["lbs_c"]))


def deliver(
    sftp: Path, drops: list[Drop], rng: np.random.Generator, late_rate: float, log: FileLog, defects: Defects
) -> None:
    """Write the drops with their delivery times; a few arrive days late (same name, later mtime)."""
    late = set(choose(rng, np.arange(len(drops)), late_rate).tolist())
    for i, d in enumerate(drops):
        delay = int(rng.integers(1, 4)) if i in late else 0
        at = d.due_us + delay * 86_400 * US
        log.put(sftp, d.rel, d.data, at, d.rows, "sftp", intended_us=d.due_us)
        if d.marker:
            log.put(sftp, d.rel + ".done", b"", at + 5 * US, 0, "sftp", intended_us=d.due_us + 5 * US)
        if delay:
            defects.add(
                "late_files",
                [{"path": d.rel, "intended_delivery": iso(d.due_us), "actual_delivery": iso(at), "days_late": delay}],
            )
