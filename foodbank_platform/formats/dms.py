r"""AWS DMS CSV, as the S3 target endpoint writes it (contract §A).

UTF-8, `\n` line endings, a header row `Op,dms_commit_ts,dms_change_seq,<columns>`, RFC 4180
quoting (text may span lines), NULL as the unquoted token `\N` and the empty string as `""`. Values
are already in canonical text forms (`yyyy-MM-dd HH:mm:ss.ffffff` UTC, plain decimals,
`true`/`false`), so typing is a strict cast: a value that does not cast is quarantined.
"""

from __future__ import annotations

import csv
import io

from ..sources.catalog import DMS_META
from .plan import FileRejected, ReadPlan

NULL = "\\N"


def prepare(data: bytes):
    first_line = data.split(b"\n", 1)[0]
    try:
        header = next(csv.reader(io.StringIO(first_line.decode("utf-8"))))
    except UnicodeDecodeError as e:
        raise FileRejected(f"wrong encoding: the header is not UTF-8 ({e.reason} at byte {e.start})") from None
    return ReadPlan(data=data, header=[h.strip().lower() for h in header], null_token=NULL)


# DMS's canonical text forms are exactly what DuckDB's reader parses natively for these types.
NATIVE = {"bigint": "BIGINT", "numeric": "DECIMAL(14,2)", "timestamptz": "TIMESTAMP", "date": "DATE"}


def read_types(table, header: list[str]) -> dict[str, str]:
    types = {c.name.lower(): c.type for c in DMS_META + table.columns}
    return {h: NATIVE[types[h]] for h in header if types.get(h) in NATIVE}


def value_sql(typ: str, src: str) -> str:
    return {
        "text": src,
        "bigint": f"TRY_CAST({src} AS BIGINT)",
        "numeric": f"TRY_CAST({src} AS DECIMAL(14,2))",
        # DMS writes ISO forms, which DuckDB's own cast parses (much faster than a strptime format).
        "timestamptz": f"TRY_CAST({src} AS TIMESTAMP)",
        "date": f"TRY_CAST({src} AS DATE)",
        "boolean": f"CASE {src} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END",
    }[typ]
