"""Source activity written into real PostgreSQL, the way the operational apps write it.

The full-fidelity path (PostgreSQL → `foodbank cdc` → DMS files, docs/real_sources.md) needs real small
transactions (a receipt an INSERT, a void an UPDATE, a mistake a DELETE), so the change stream has
production's shape, not one bulk load. `simulate_to_postgres` runs the file simulator's generator and manifest
with a PostgreSQL sink, so the platform's figures are checked against it exactly; commit times are
PostgreSQL's own, business times the simulated ones. The SFTP feeds are not PostgreSQL, so they stay files.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2

from ..sources.catalog import SourceTable, dms_tables, table
from .config import DefectRates, SimulationConfig
from .frames import Defects
from .manifest import Manifest
from .run import simulate
from .sinks import FileLog

DDL = Path(__file__).resolve().parents[1] / "sources" / "postgres_ddl.sql"
# The simulator's times are UTC without an offset; a server set to Pacific would shift them otherwise.
UTC_SESSION = "-c TimeZone=UTC"
# The full load is the state before the first simulated day, not app activity: bigger transactions.
FULL_LOAD_ROWS_PER_TRANSACTION = 1_000


def ensure_schemas(dsn: str) -> None:
    """Create the `wms`, `intake` and `ordering` schemas and tables if they are missing."""
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        cur.execute(DDL.read_text())
    con.close()


def statement(table: SourceTable, op: str) -> str:
    """The parameterised SQL an app would run for one row change (parameters: see `parameters`)."""
    target = f'"{table.location}"."{table.name}"'
    cols = table.column_names
    key_match = " AND ".join(f'"{k}" = %s' for k in table.key)
    if op == "I":
        return f"INSERT INTO {target} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    if op == "U":
        sets = ", ".join(f'"{c}" = %s' for c in cols if c not in table.key)
        return f"UPDATE {target} SET {sets} WHERE {key_match}"
    if op == "D":
        return f"DELETE FROM {target} WHERE {key_match}"
    raise ValueError(f"unknown op {op!r}")


def parameters(table: SourceTable, op: str, row: dict) -> list:
    keys = [row[k] for k in table.key]
    if op == "I":
        return [row[c] for c in table.column_names]
    if op == "U":
        return [row[c] for c in table.column_names if c not in table.key] + keys
    return keys


def _python_rows(frame: pd.DataFrame) -> list[dict]:
    # psycopg2 adapts Python values, not numpy ones; NaN/NaT become NULL.
    plain = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in r.items()}
        for r in plain.to_dict("records")
    ]


Transaction = list[tuple[SourceTable, dict]]


def apply_changes(dsn: str, changes: Iterable[tuple[SourceTable, pd.DataFrame]], rows_per_transaction: int = 3) -> int:
    """Apply (table, frame) change sets in order, `rows_per_transaction` rows per commit; return commits."""
    return commit(
        dsn,
        (
            chunk
            for t, frame in changes
            for chunk in _chunks([(t, r) for r in _python_rows(frame)], rows_per_transaction)
        ),
    )


def commit(dsn: str, transactions: Iterable[Transaction]) -> int:
    """Run each transaction's row changes and commit it; return the number of commits."""
    con = psycopg2.connect(dsn, options=UTC_SESSION)
    commits = 0
    try:
        for tx in transactions:
            with con, con.cursor() as cur:  # one transaction, sent in one round trip
                cur.execute(b";".join(cur.mogrify(statement(t, r["op"]), parameters(t, r["op"], r)) for t, r in tx))
            commits += 1
    finally:
        con.close()
    return commits


def _chunks(rows: list, size: int) -> Iterator[list]:
    return (rows[start : start + size] for start in range(0, len(rows), size))


def app_transactions(changes: dict[str, pd.DataFrame]) -> Iterator[Transaction]:
    """A day's change frames (raw table -> frame) as the apps committed them: in change-sequence
    order, the consecutive rows of one system with one commit time form one transaction."""
    order = pd.concat(
        [
            pd.DataFrame(
                {
                    "seq": f["dms_change_seq"].to_numpy(),
                    "system": table(raw).system,
                    "ts": f["dms_commit_ts"].to_numpy(),
                    "raw": raw,
                    "row": np.arange(len(f)),
                }
            )
            for raw, f in changes.items()
            if len(f)
        ],
        ignore_index=True,
    )
    order = order.sort_values("seq", kind="stable")
    rows = {raw: _python_rows(f) for raw, f in changes.items()}
    steps = zip(order["system"], order["ts"], order["raw"], order["row"])
    for _, tx in itertools.groupby(steps, key=lambda step: step[:2]):
        yield [(table(raw), rows[raw][i]) for _, _, raw, i in tx]


@dataclass
class PostgresDms:
    """The simulator's DMS sink that writes real PostgreSQL tables instead of DMS files."""

    dsn: str
    commits: int = 0

    def full_load(self, frames: dict, log: FileLog) -> None:
        self.commits += apply_changes(
            self.dsn, [(table(raw), f) for raw, f in frames.items()], FULL_LOAD_ROWS_PER_TRANSACTION
        )

    def day(self, index: int, changes: dict, log: FileLog, defects: Defects) -> None:
        self.commits += commit(self.dsn, app_transactions(changes))


def source_row_counts(dsn: str) -> dict[str, int]:
    """Rows per source table (raw table name -> count)."""
    with psycopg2.connect(dsn) as con, con.cursor() as cur:
        counts = {}
        for t in dms_tables():
            cur.execute(f'SELECT count(*) FROM "{t.location}"."{t.name}"')
            counts[t.raw_table] = cur.fetchone()[0]
    con.close()
    return counts


def simulate_to_postgres(
    dsn: str,
    start_date: date = date(2026, 10, 29),
    days: int = 7,
    scale: float = 0.02,
    seed: int = 42,
    defects: DefectRates | None = None,
    sftp_root: Path | None = None,
    manifest_path: Path | None = None,
) -> Manifest:
    """Replay a simulation into the `wms`, `intake` and `ordering` schemas at `dsn` (created if
    missing; their tables must be empty), the SFTP feeds as files under `sftp_root` (None: generated
    for the manifest, then discarded), and return the manifest (also written to `manifest_path`).

    Start `foodbank cdc` (or `cdc.capture.run_capture`) first to see every change as CDC; started
    afterwards, its full load copies the end state instead.
    """
    ensure_schemas(dsn)
    busy = {raw: n for raw, n in source_row_counts(dsn).items() if n}
    if busy:
        raise ValueError(f"source tables are not empty ({busy}); simulate into a fresh database")
    sink = PostgresDms(dsn)
    with tempfile.TemporaryDirectory(prefix="foodbank-simulate-") as scratch:
        config = SimulationConfig(
            landing_root=Path(scratch) / "landing",  # stays empty: the DMS tables go to PostgreSQL
            sftp_root=Path(sftp_root or Path(scratch) / "sftp"),
            manifest_path=Path(manifest_path or Path(scratch) / "manifest.json"),
            start_date=start_date,
            days=days,
            scale=scale,
            seed=seed,
            defects=defects or DefectRates(),
        )
        manifest = simulate(config, sink)
        # the capture decides the CDC file interval, not the simulator
        manifest.config.update(dms_sink="postgres", postgres_commits=sink.commits, cdc_file_seconds=None)
        manifest.write(config.manifest_file)
    return manifest
