"""The three SFTP formats (contract §B): legacy CSV, inventory-control spreadsheets, TEFAP pipes.

They differ only in bytes on the outside — encoding (Windows-1252, UTF-8 with a BOM, UTF-8), line
endings, delimiter, quoting — and in how sloppy the header is. So one reader normalises any of them
to UTF-8 with a clean header and hands the rest to DuckDB's CSV reader; values are typed leniently
where the people who make these files are lenient (`"1,250.00"`, ` Adjustment_ID `, empty = NULL).
"""

from __future__ import annotations

import csv
import io
import re

from .plan import FileRejected, ReadPlan

# format -> (encoding, delimiter, quote)
DIALECTS = {
    "legacy_csv": ("cp1252", ",", '"'),
    "adjustments_csv": ("utf-8-sig", ",", '"'),
    "tefap_pipe": ("utf-8", "|", ""),
}

_BLANK_ROW = re.compile(r"^[\s,|]*$")


def prepare(table, data: bytes):
    encoding, delimiter, quote = DIALECTS[table.format]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        raise FileRejected(
            f"wrong encoding: byte 0x{data[e.start]:02x} at offset {e.start} is not valid {encoding}"
        ) from None
    # A BOM where none is expected is still not data; CRLF becomes LF so DuckDB sees one line ending.
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    lines = text.splitlines(keepends=True)
    header_line, body = lines[0], lines[1:]
    # Spreadsheet exports end with empty rows (`,,,,`); they are not rows anyone entered.
    blank = 0
    while body and _BLANK_ROW.match(body[-1]):
        body.pop()
        blank += 1
    if quote:
        header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter))
    else:
        header = header_line.rstrip("\r\n").split(delimiter)
    header = [h.strip().lower() for h in header]
    clean = delimiter.join(header) + "\n" + "".join(body)
    return ReadPlan(data=clean.encode("utf-8"), header=header, delimiter=delimiter, quote=quote, blank_rows=blank)


def value_sql(typ: str, src: str) -> str:
    t = f"NULLIF(TRIM({src}), '')"
    return {
        "text": t,
        "bigint": f"TRY_CAST({t} AS BIGINT)",
        "numeric": f"TRY_CAST(REPLACE({t}, ',', '') AS DECIMAL(14,2))",
        "timestamp_local": f"TRY_STRPTIME({t}, '%m/%d/%Y %H:%M:%S')",
        "date": f"TRY_STRPTIME({t}, '%Y-%m-%d')::DATE",
        "yn": f"CASE UPPER({t}) WHEN 'Y' THEN TRUE WHEN 'N' THEN FALSE END",
        "boolean": f"CASE LOWER({t}) WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END",
    }[typ]
