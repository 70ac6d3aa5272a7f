"""What AWS DMS would write for a change: file names, folders, the change sequence, value forms.

Pure functions, shared by the full load and the change stream, so both produce exactly the
contract's layout (§A): `LOAD0000000A.csv` with a hex counter; CDC files named by the UTC time they
were written, under the UTC commit date; `dms_change_seq` a 35-digit string that sorts in commit
order (the commit's LSN, then the change's own LSN inside the transaction).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..sources.catalog import SourceTable

COMMIT_DIGITS, CHANGE_DIGITS = 20, 15  # 20 digits hold any 64-bit LSN; 15 hold 888 TiB of WAL


def change_seq(commit_lsn: int, change_lsn: int) -> str:
    if change_lsn >= 10 ** CHANGE_DIGITS:
        raise OverflowError(f"change LSN {change_lsn} does not fit the 15-digit half of dms_change_seq")
    return f"{commit_lsn:0{COMMIT_DIGITS}d}{change_lsn:0{CHANGE_DIGITS}d}"


def load_key(table: SourceTable, number: int) -> str:
    return f"{table.landing_prefix}/LOAD{number:08X}.csv"


def cdc_key(table: SourceTable, commit_date: datetime, written_at: datetime) -> str:
    written = written_at.astimezone(timezone.utc)
    name = written.strftime("%Y%m%d-%H%M%S") + f"{written.microsecond // 1000:03d}.csv"
    return f"{table.landing_prefix}/{commit_date.astimezone(timezone.utc):%Y/%m/%d}/{name}"


def dms_timestamp(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def dms_value(contract_type: str, pg_text: str | None) -> str | None:
    """PostgreSQL's text output (session in UTC, DateStyle ISO) -> the DMS CSV text form."""
    if pg_text is None:
        return None
    if contract_type == "timestamptz":
        return dms_timestamp(datetime.fromisoformat(pg_text))
    if contract_type == "boolean":
        # The type's output function (pgoutput) says t/f, a ::text cast (full load) true/false.
        return {"t": "true", "f": "false", "true": "true", "false": "false"}[pg_text]
    return pg_text  # text, bigint, numeric and date print the same in both


def _field(value: str | None) -> str:
    # \N unquoted is NULL; everything else that could be mistaken for it, or needs RFC 4180, is quoted.
    if value is None:
        return "\\N"
    if value == "" or value == "\\N" or any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def render_dms_csv(table: SourceTable, rows: list[tuple[str | None, ...]]) -> bytes:
    """Rows (Op, dms_commit_ts, dms_change_seq, own columns...) as DMS CSV bytes with a header."""
    header = ["Op", "dms_commit_ts", "dms_change_seq", *table.column_names]
    lines = [",".join(header)] + [",".join(_field(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")
