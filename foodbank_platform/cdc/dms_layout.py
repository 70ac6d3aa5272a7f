"""What AWS DMS would write for a change: file names, folders, the change sequence, value forms.

Pure functions, shared by the full load and the change stream, so both produce exactly the
contract's layout (docs/source_contracts.md, §A): `LOAD0000000A.csv` with a hex counter; CDC files named by the UTC time they
were written, under the UTC commit date; `dms_change_seq` a 35-digit string that sorts in commit
order (the commit's LSN, then the change's own LSN inside the transaction).
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pandas as pd

from ..formats.source_files import write_dms_csv
from ..sources.catalog import SourceTable

COMMIT_DIGITS, CHANGE_DIGITS = 20, 15  # 20 digits hold any 64-bit LSN; 15 hold 888 TiB of WAL


def change_seq(commit_lsn: int, change_lsn: int) -> str:
    if change_lsn >= 10**CHANGE_DIGITS:
        raise OverflowError(f"change LSN {change_lsn} does not fit the 15-digit half of dms_change_seq")
    return f"{commit_lsn:0{COMMIT_DIGITS}d}{change_lsn:0{CHANGE_DIGITS}d}"


def load_key(table: SourceTable, number: int) -> str:
    return f"{table.landing_prefix}/LOAD{number:08X}.csv"


def cdc_key(table: SourceTable, commit_date: datetime, written_at: datetime) -> str:
    written = written_at.astimezone(timezone.utc)
    name = written.strftime("%Y%m%d-%H%M%S") + f"{written.microsecond // 1000:03d}.csv"
    return f"{table.landing_prefix}/{commit_date.astimezone(timezone.utc):%Y/%m/%d}/{name}"


def pg_value(contract_type: str, pg_text: str | None):
    """A value as pgoutput sends it (type output text; session in UTC, DateStyle ISO) -> Python,
    the same types psycopg2 returns for the full load, so both go through one writer."""
    if pg_text is None:
        return None
    return {
        "timestamptz": datetime.fromisoformat,
        "boolean": lambda v: v == "t",
        "bigint": int,
        "numeric": Decimal,
        "date": date.fromisoformat,
    }.get(contract_type, str)(pg_text)


def dms_file(table: SourceTable, rows: list[tuple], full_load: bool = False) -> bytes:
    """Rows `(op, commit_ts, change_seq, *values)` -> the DMS CSV bytes (formats.source_files owns the format)."""
    frame = pd.DataFrame(rows, columns=["op", "dms_commit_ts", "dms_change_seq", *table.column_names])
    return write_dms_csv(frame, table, full_load=full_load)
