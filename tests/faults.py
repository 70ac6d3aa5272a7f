"""Replaying a simulated delivery into landing, cleanly or with the faults of the contract.

A simulation writes every file at once; production receives them over time. `drops()` turns a
simulation into timed deliveries (a file and its `.done` marker travel together), `deliver()` plays
them in cycles — copy into landing / the SFTP folder, pull, load — the way the 10-minute path would,
and the fault functions rewrite the list of deliveries: duplicated and shuffled, late, replayed by a
DMS restart, a table reloaded, a column added. `build()` runs dbt and `snapshot()` fingerprints what
finance relies on, so every fault can be compared with the clean in-order run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from dbt_support import run_dbt
from fingerprint import fingerprint

from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.ingest.pull import pull_feed
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import catalog
from foodbank_platform.sources.sftp import LocalSource

CYCLE_SECONDS = 6 * 3600
LINEAGE = {"source_file", "source_row_number", "_source_loaded_at"}
COMPARED = (
    "canonical.inventory_events",
    "canonical.donations",
    "canonical.agency_orders",
    "canonical.fulfillment_line_items",
    "reconciliation.inventory_daily_balance",
)
BUSINESS_KEYS = {
    "canonical.inventory_events": "event_id",
    "canonical.donations": "donation_line_id",
    "canonical.agency_orders": "order_line_id",
    "canonical.fulfillment_line_items": "shipment_line_id",
}


@dataclass(frozen=True)
class Drop:
    """One delivery: `files` maps a target path (relative to landing for DMS, to the SFTP root for
    feeds) to bytes; `at` is when it arrives."""

    kind: str  # dms | sftp
    files: tuple[tuple[str, bytes], ...]
    at: float

    @property
    def path(self) -> str:
        return self.files[0][0]


def drops(landing: Path, sftp: Path) -> list[Drop]:
    out = []
    for p in sorted((landing / "dms").rglob("*.csv")):
        out.append(Drop("dms", ((p.relative_to(landing).as_posix(), p.read_bytes()),), p.stat().st_mtime))
    for p in sorted(sftp.rglob("*")):
        if not p.is_file() or p.name.endswith(".done"):
            continue
        files = [(p.relative_to(sftp).as_posix(), p.read_bytes())]
        marker = p.with_name(p.name + ".done")
        if marker.exists():
            files.append((marker.relative_to(sftp).as_posix(), b""))
        out.append(Drop("sftp", tuple(files), p.stat().st_mtime))
    return sorted(out, key=lambda d: (d.at, d.path))


def cycles(deliveries: list[Drop]) -> list[list[Drop]]:
    """Group deliveries into 6-hour cycles by arrival time, keeping their order inside a cycle."""
    by_cycle: dict[int, list[Drop]] = {}
    for d in deliveries:
        by_cycle.setdefault(int(d.at // CYCLE_SECONDS), []).append(d)
    return [by_cycle[k] for k in sorted(by_cycle)]


# --- the faults ----------------------------------------------------------------------------------


def _renamed_cdc(path: str, offset_ms: int) -> str:
    """The same CDC file under a later name, as DMS writes replays after a restart."""
    folder, _, name = path.rpartition("/")
    stamp = datetime.strptime(name[:-4], "%Y%m%d-%H%M%S%f").replace(tzinfo=timezone.utc).timestamp()
    later = datetime.fromtimestamp(stamp + offset_ms / 1000, timezone.utc)
    return f"{folder}/{later:%Y%m%d-%H%M%S}{later.microsecond // 1000:03d}.csv"


def twice_shuffled(deliveries: list[Drop], rng: random.Random) -> list[list[Drop]]:
    """Every file delivered twice (DMS replays under new names, SFTP names re-sent), in random order."""
    doubled = []
    for d in deliveries:
        doubled.append(d)
        if d.kind == "dms" and "/LOAD" not in d.path:
            doubled.append(replace(d, files=((_renamed_cdc(d.path, rng.randint(1, 999)), d.files[0][1]),)))
        else:
            doubled.append(d)
    rng.shuffle(doubled)
    size = max(1, len(doubled) // 12)
    return [doubled[i : i + size] for i in range(0, len(doubled), size)]


def late(deliveries: list[Drop], rng: random.Random, share: float = 0.05) -> list[Drop]:
    """A share of the files arrives 1-3 days after it was due."""
    return sorted(
        (replace(d, at=d.at + 86400 * rng.randint(1, 3)) if rng.random() < share else d for d in deliveries),
        key=lambda d: d.at,
    )


def dms_restart(deliveries: list[Drop], rng: random.Random, restarts: int = 2) -> list[Drop]:
    """After each restart DMS writes the last hour's changes again, in new files."""
    cdc = [d for d in deliveries if d.kind == "dms" and "/LOAD" not in d.path]
    out = list(deliveries)
    for when in rng.sample([d.at for d in cdc], restarts):
        replayed = [d for d in cdc if when - 3600 <= d.at <= when]
        out += [
            replace(d, files=((_renamed_cdc(d.path, 60_000 + rng.randint(0, 999)), d.files[0][1]),), at=when + 60)
            for d in replayed
        ]
    return sorted(out, key=lambda d: d.at)


def reload(deliveries: list[Drop], table: catalog.SourceTable, at: float, scratch: Path) -> list[Drop]:
    """An operator reloads `table` at `at`: a new LOAD file with the table's state as of then."""
    from foodbank_platform.formats.source_files import write_dms_csv

    store = LocalStore(scratch / "landing")
    for d in deliveries:
        if d.kind == "dms" and d.path.startswith(table.landing_prefix + "/"):
            store.write_bytes(d.path, d.files[0][1])
    con = warehouse.connect(scratch / "reload.duckdb")
    load_new_files(store, con, [table])
    copied = datetime.fromtimestamp(at, timezone.utc).replace(tzinfo=None)
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    frame = con.execute(
        f"""
        SELECT 'I' AS op, ?::TIMESTAMP AS dms_commit_ts, NULL::VARCHAR AS dms_change_seq, {cols}
        FROM raw.{table.raw_table}
        WHERE dms_commit_ts <= ?
        QUALIFY row_number() OVER (PARTITION BY {", ".join(table.key)}
                                   ORDER BY dms_change_seq IS NOT NULL DESC, dms_change_seq DESC) = 1
                AND op <> 'D'
        ORDER BY {", ".join(table.key)}""",
        [copied, copied],
    ).df()
    con.close()
    load_file = f"{table.landing_prefix}/LOAD00000001.csv"
    return sorted(
        [*deliveries, Drop("dms", ((load_file, write_dms_csv(frame, table, full_load=True)),), at)], key=lambda d: d.at
    )


def add_column(deliveries: list[Drop], table: catalog.SourceTable, after: float, name: str = "pallet_id") -> list[Drop]:
    """The source team adds a column at the end of `table`; files written after `after` carry it."""
    out = []
    for d in deliveries:
        if d.kind == "dms" and d.path.startswith(table.landing_prefix + "/") and d.at > after and "/LOAD" not in d.path:
            d = replace(d, files=((d.path, _with_column(d.files[0][1], name)),))
        out.append(d)
    return out


def _with_column(data: bytes, name: str) -> bytes:
    def field(v: str) -> str:
        if v == "\\N":
            return v
        return '"' + v.replace('"', '""') + '"' if (v == "" or any(c in v for c in ',"\n')) else v

    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    out = [",".join(rows[0] + [name])]
    out += [",".join([field(v) for v in r] + [f"P-{i % 97:04d}"]) for i, r in enumerate(rows[1:], 1)]
    return ("\n".join(out) + "\n").encode("utf-8")


# --- playing deliveries --------------------------------------------------------------------------


@dataclass
class Target:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def sftp(self) -> Path:
        return self.root / "sftp"

    @property
    def db(self) -> Path:
        return self.root / "warehouse.duckdb"


LOAD_IN_SUBPROCESS = (
    "import sys; from foodbank_platform import warehouse; from foodbank_platform.landing.store import LocalStore; "
    "from foodbank_platform.ingest.loader import load_new_files; con = warehouse.connect(sys.argv[2]); "
    "print('loading', flush=True); load_new_files(LocalStore(sys.argv[1]), con)"
)


def start_load(landing: Path, db: Path) -> subprocess.Popen:
    """A loader in its own process, returned once it has started loading (imports and connect done),
    so a kill timed from now lands inside the load rather than in Python's start-up."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOAD_IN_SUBPROCESS, str(landing), str(db)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "loading"
    return proc


def deliver(
    target: Target,
    batches: list[list[Drop]],
    kill: random.Random | None = None,
    after_cycle: Callable[[int], None] | None = None,
) -> int:
    """Write each batch, pull the SFTP feeds, load. With `kill`, each load runs in a process that is
    SIGKILLed at a random moment and then run again. Returns how many loads were killed."""
    kills = 0
    for i, batch in enumerate(batches):
        for d in batch:
            base = target.landing if d.kind == "dms" else target.sftp
            for rel, data in d.files:
                p = base / rel
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(data)
                os.utime(p, (d.at, d.at))
        source, store = LocalSource(target.sftp), LocalStore(target.landing)
        for table in catalog.sftp_tables():
            pull_feed(source, store, table, now=max(d.at for d in batch) + 3600 * 24 * 30)
        if kill:
            proc = start_load(target.landing, target.db)
            try:
                proc.wait(timeout=kill.uniform(0.0, 0.3))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                kills += 1
        con = warehouse.connect(target.db)
        try:
            load_new_files(store, con)
        finally:
            con.close()
        if after_cycle:
            after_cycle(i)
    return kills


def build(target: Target) -> None:
    """staging → canonical → the daily balance, as the 10-minute path and the nightly close build them.
    dbt's target and log folders are the target's own (`run_dbt`), never the project's."""
    done = run_dbt(
        [
            "build",
            "--target",
            "local",
            "--quiet",
            "--select",
            "+inventory_daily_balance +fulfillment_line_items +agency_orders +donations",
            "--exclude-resource-type",
            "test",
            "unit_test",
            "--vars",
            json.dumps({"as_of_date": "2026-11-28", "publish_through": "2026-11-27"}),
        ],
        target.root / "dbt",
        {"FOODBANK_DUCKDB_PATH": str(target.db)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def snapshot(target: Target) -> dict:
    con = warehouse.connect(target.db)
    try:
        result = {t: fingerprint(con, t, LINEAGE) for t in COMPARED}
        result["duplicate_business_keys"] = sum(
            con.execute(f"SELECT count(*) - count(DISTINCT {k}) FROM {t}").fetchone()[0]
            for t, k in BUSINESS_KEYS.items()
        )
        return result
    finally:
        con.close()
