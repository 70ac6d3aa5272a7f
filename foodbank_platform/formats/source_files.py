"""Writing each file format of the contract, byte for byte (the other half of `dms.py`/`delimited.py`).

The simulator and the CDC capture both write their source files here, and tests pin these writers to the
contract samples (docs/source_contracts.md), so a reader bug cannot hide behind a writer that agrees with it.
Input is a pandas DataFrame with the table's column names (`column_text` says what each type accepts); every
step is a column operation, so a production day of ~270K inventory rows serialises in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..business_day import PACIFIC
from ..sources.catalog import SourceTable

NULL = "\\N"
BOM = b"\xef\xbb\xbf"

# Numeric columns the SFTP systems print without trailing zeros ("4", "2.5"); the other numeric
# columns of those feeds are printed with two places ("108.00"), as in the contract samples.
_MINIMAL_NUMERICS = {"cases_shipped", "on_hand_cases", "cases", "net_lbs"}


@dataclass(frozen=True)
class Lines:
    """Finished CSV lines (each with its line ending) in one buffer, sliceable into files."""

    offsets: np.ndarray  # int64, len = rows + 1, byte positions in `data`
    data: bytes

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def slice(self, start: int, stop: int) -> bytes:
        return self.data[self.offsets[start] : self.offsets[stop]]

    def take(self, rows: np.ndarray) -> bytes:
        """Bytes of the given rows in the given order (for files that regroup rows)."""
        return b"".join(self.data[self.offsets[i] : self.offsets[i + 1]] for i in rows)


# ---- values -> text (nulls kept as nulls) ----------------------------------------------------


def _cents(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Values as integer hundredths (half away from zero, like PostgreSQL) and a null mask."""
    num = pd.to_numeric(values, errors="raise").astype("float64").to_numpy(na_value=np.nan)
    null = np.isnan(num)
    scaled = np.where(null, 0.0, num) * 100.0
    # round-half-away-from-zero; the tiny nudge absorbs binary noise like 1.005*100 = 100.49999
    cents = (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5 + 1e-9)).astype(np.int64)
    return cents, null


def _with_nulls(text: pa.Array, null: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(null), pa.scalar(None, pa.string()), text) if null.any() else text


def _digits(n: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(n, pa.int64()), pa.string())


def _pad(n: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(_digits(n), width, "0")


def _grouped(whole: np.ndarray) -> pa.Array:
    """Non-negative integers with thousands separators ("1,250"), up to 999,999,999,999."""
    plain = _digits(whole)
    parts = [_digits(whole // 10**9)] + [_pad((whole // 10**k) % 1000, 3) for k in (6, 3, 0)]
    out = plain
    for groups in (2, 3, 4):  # values with 2, 3 or 4 groups of digits
        lo, hi = 10 ** (3 * (groups - 1)), 10 ** (3 * groups)
        first = _digits(whole // lo)
        rest = parts[5 - groups :]
        text = pc.binary_join_element_wise(first, *rest, ",")
        out = pc.if_else(pa.array((whole >= lo) & (whole < hi)), text, out)
    return out


def numeric_text(values: pd.Series, minimal: bool = False, thousands: bool = False) -> pa.Array:
    """Plain decimals: `1080.00` (two places) or, minimal, `1080` / `2.5`; optionally `1,250.00`."""
    cents, null = _cents(values)
    mag = np.abs(cents)
    whole = _grouped(mag // 100) if thousands else _digits(mag // 100)
    sign = pa.array(np.where(cents < 0, "-", ""))
    text = pc.binary_join_element_wise(sign, whole, ".", _pad(mag % 100, 2), "")
    if minimal:
        text = pc.replace_substring_regex(text, r"\.00$", "")
        text = pc.replace_substring_regex(text, r"(\.\d)0$", r"\1")
    return _with_nulls(text, null)


def _datetimes(values: pd.Series, to_zone: str | None) -> np.ndarray:
    s = pd.to_datetime(values)
    if s.dt.tz is not None:
        s = s.dt.tz_convert(to_zone or "UTC").dt.tz_localize(None)
    return s.to_numpy(dtype="datetime64[us]")


def _iso(stamps: np.ndarray, unit: str) -> pa.Array:
    text = np.datetime_as_string(stamps, unit=unit)
    null = np.isnat(stamps)
    arr = pa.array(text)
    return _with_nulls(pc.replace_substring(arr, "T", " ", max_replacements=1) if unit != "D" else arr, null)


def timestamp_text(values: pd.Series) -> pa.Array:
    """UTC `yyyy-MM-dd HH:mm:ss.ffffff`."""
    return _iso(_datetimes(values, None), "us")


def wall_time_text(values: pd.Series) -> pa.Array:
    """Pacific wall time `MM/DD/YYYY HH:MM:SS` (tz-aware values converted, naive taken as wall time)."""
    iso = _iso(_datetimes(values, PACIFIC).astype("datetime64[s]"), "s")
    return pc.replace_substring_regex(iso, r"^(\d{4})-(\d{2})-(\d{2}) (.*)$", r"\2/\3/\1 \4")


def date_text(values: pd.Series) -> pa.Array:
    return _iso(pd.to_datetime(values).to_numpy(dtype="datetime64[D]"), "D")


def _flag(values: pd.Series, yes: str, no: str) -> pa.Array:
    arr = pa.array(values.astype("boolean"), pa.bool_())
    return pc.if_else(arr, pa.scalar(yes), pa.scalar(no))


def _bigint(values: pd.Series) -> pa.Array:
    return pc.cast(pa.array(pd.array(values, dtype="Int64"), pa.int64()), pa.string())


def _text(values: pd.Series) -> pa.Array:
    return pa.array(values, from_pandas=True).cast(pa.string())


def column_text(values: pd.Series, typ: str, name: str = "", sftp: bool = False) -> pa.Array:
    """One column's values as text in the contract's form for its type (nulls stay null).

    Accepted values per type: text → str/None; bigint → int (nullable Int64, or float NaN for NULL);
    numeric → float, int or Decimal (written rounded to cents); timestamptz → datetime64 (naive = UTC,
    tz-aware converted); timestamp_local → tz-aware converted to Pacific wall time, naive taken as wall
    time already; date → datetime64/date; boolean/yn → bool/None. DMS frames also carry `op`,
    `dms_commit_ts` and `dms_change_seq`."""
    if typ == "numeric":
        return numeric_text(values, minimal=sftp and name in _MINIMAL_NUMERICS)
    return {
        "text": _text,
        "bigint": _bigint,
        "timestamptz": timestamp_text,
        "timestamp_local": wall_time_text,
        "date": date_text,
        "boolean": lambda v: _flag(v, "true", "false"),
        "yn": lambda v: _flag(v, "Y", "N"),
    }[typ](values)


# ---- quoting and lines -----------------------------------------------------------------------


def _quoted(text: pa.Array, also_empty: bool) -> pa.Array:
    """RFC 4180: fields with a comma, quote or line break are quoted, inner quotes doubled."""
    pattern = r'[,"\r\n]' + (r"|^$" if also_empty else "")
    needs = pc.fill_null(pc.match_substring_regex(text, pattern), False)
    if not pc.any(needs).as_py():
        return text
    wrapped = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, wrapped, text)


def _lines(fields: list[pa.Array], delimiter: str, ending: str) -> Lines:
    if not fields or len(fields[0]) == 0:
        return Lines(np.zeros(1, np.int64), b"")
    joined = pc.binary_join_element_wise(*fields, delimiter)
    joined = pc.binary_join_element_wise(joined, ending, "").cast(pa.large_string())
    if isinstance(joined, pa.ChunkedArray):  # pandas columns backed by several Arrow chunks
        joined = joined.combine_chunks()
    offsets = np.frombuffer(joined.buffers()[1], dtype=np.int64)[joined.offset : joined.offset + len(joined) + 1]
    data = joined.buffers()[2].to_pybytes()
    return Lines(offsets - offsets[0], data[offsets[0] : offsets[-1]])


def _header(names: list[str], delimiter: str, ending: str) -> str:
    return delimiter.join(names) + ending


# ---- DMS -------------------------------------------------------------------------------------


def dms_columns(table: SourceTable) -> list[str]:
    return ["Op", "dms_commit_ts", "dms_change_seq", *table.column_names]


def dms_lines(frame: pd.DataFrame, table: SourceTable, full_load: bool = False) -> Lines:
    """The data lines of a DMS CSV file (no header), one per frame row, in frame order."""
    n = len(frame)
    op = pa.array(["I"] * n, pa.string()) if full_load else _text(frame["op"])
    seq = pa.nulls(n, pa.string()) if full_load else _text(frame["dms_change_seq"])
    fields = [op, timestamp_text(frame["dms_commit_ts"]), seq]
    for c in table.columns:
        text = column_text(frame[c.name], c.type)
        # only free text can hold a delimiter, a quote, a line break or be empty
        fields.append(_quoted(text, also_empty=True) if c.type == "text" else text)
    fields = [pc.fill_null(f, NULL) for f in fields]
    return _lines(fields, ",", "\n")


def dms_header(table: SourceTable) -> bytes:
    return _header(dms_columns(table), ",", "\n").encode()


def write_dms_csv(frame: pd.DataFrame, table: SourceTable, full_load: bool = False) -> bytes:
    """A DMS S3-target CSV file: full-load rows are `I` with `dms_change_seq` `\\N`."""
    return dms_header(table) + dms_lines(frame, table, full_load).data


# ---- SFTP feeds ------------------------------------------------------------------------------


def _feed_lines(
    frame: pd.DataFrame, table: SourceTable, delimiter: str, ending: str, quote: bool, thousands: bool = False
) -> Lines:
    fields = []
    for c in table.columns:
        if thousands and c.type == "numeric":
            text = numeric_text(frame[c.name], minimal=c.name in _MINIMAL_NUMERICS, thousands=True)
        else:
            text = column_text(frame[c.name], c.type, c.name, sftp=True)
        if quote:
            text = _quoted(text, also_empty=False)
        elif pc.any(pc.fill_null(pc.match_substring(text, delimiter), False)).as_py():
            raise ValueError(f"{table.raw_table}.{c.name}: a value contains the delimiter {delimiter!r}")
        fields.append(pc.fill_null(text, ""))
    return _lines(fields, delimiter, ending)


def write_legacy_csv(frame: pd.DataFrame, table: SourceTable) -> bytes:
    """Legacy warehouse CSV (shipments, onhand): CRLF, Windows-1252, quotes only where needed."""
    text = _header(table.column_names, ",", "\r\n") + _feed_lines(frame, table, ",", "\r\n", True).data.decode()
    return text.encode("cp1252")


ADJUSTMENT_HEADER_STYLES = ("sample", "upper", "lower_padded")


def adjustment_header(names: list[str], style: str = "sample") -> list[str]:
    """Header names as the spreadsheet tools write them: case and padding vary by who exported."""
    title = ["_".join(p.capitalize() if p != "sku" else "SKU" for p in n.split("_")) for n in names]
    if style == "sample":  # as in the contract sample: ` Adjustment_ID ,Business_Date,SKU,...`
        title = [t.replace("_Id", "_ID") for t in title]
        return [f" {title[0]} ", *title[1:]]
    if style == "upper":
        return [n.upper() for n in names]
    if style == "lower_padded":
        return [f"{n} " for n in names]
    raise ValueError(f"unknown header style {style!r}; one of {ADJUSTMENT_HEADER_STYLES}")


def write_adjustments_csv(
    frame: pd.DataFrame, table: SourceTable, header_style: str = "sample", blank_rows: int = 2
) -> bytes:
    """Inventory-control spreadsheet export: UTF-8 with BOM, LF, loose header, `"1,250.00"`, `,,,,` rows."""
    header = _header(adjustment_header(table.column_names, header_style), ",", "\n")
    body = _feed_lines(frame, table, ",", "\n", True, thousands=True).data
    blanks = ("," * (len(table.columns) - 1) + "\n") * blank_rows
    return BOM + header.encode() + body + blanks.encode()


def write_tefap(frame: pd.DataFrame, table: SourceTable) -> bytes:
    """USDA TEFAP/CSFP receipts: pipe-delimited, header, UTF-8, LF, no quoting."""
    return _header(table.column_names, "|", "\n").encode() + _feed_lines(frame, table, "|", "\n", quote=False).data
