"""Source activity written into real PostgreSQL, the way the operational apps write it.

For the full-fidelity path (PostgreSQL → `foodbank cdc` → DMS files) the simulator's changes must
happen as real transactions: a receipt is an INSERT, a void is an UPDATE of `status`, a clerk's
mistake is a DELETE — each in its own small transaction, so the change stream has the shape of
production (many commits, interleaved tables), not one bulk load.

Input frames have the shape the DMS writer takes (`formats.write`): an `op` column ('I', 'U', 'D')
and the table's columns; rows are applied in frame order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd
import psycopg2

from ..sources.catalog import SourceTable

DDL = Path(__file__).resolve().parents[1] / "sources" / "postgres_ddl.sql"


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
        return f'INSERT INTO {target} ({", ".join(cols)}) VALUES ({", ".join(["%s"] * len(cols))})'
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
    return [{k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in r.items()}
            for r in plain.to_dict("records")]


def apply_changes(dsn: str, changes: Iterable[tuple[SourceTable, pd.DataFrame]],
                  rows_per_transaction: int = 3) -> int:
    """Apply (table, frame) change sets in order, `rows_per_transaction` rows per commit; return commits."""
    con = psycopg2.connect(dsn)
    commits = 0
    try:
        for table, frame in changes:
            rows = _python_rows(frame)
            for start in range(0, len(rows), rows_per_transaction):
                with con, con.cursor() as cur:  # one transaction per chunk
                    for row in rows[start:start + rows_per_transaction]:
                        cur.execute(statement(table, row["op"]), parameters(table, row["op"], row))
                commits += 1
    finally:
        con.close()
    return commits
