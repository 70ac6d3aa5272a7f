"""Many small files of one shape as one CSV stream, each row tagged with the file it came from.

DMS writes a file per table per minute or so: a day is a thousand files of a few hundred rows.
DuckDB's CSV reader pays a fixed cost per file (open, buffers, a new parser state) that is larger
than parsing such a file, so reading a day as a list of files costs about three times reading the
same bytes as one file. The loader therefore joins a batch's files into one stream and reads that.

What must not be lost is which file, and which row of it, each value came from. So the files are
joined only when their rows can be counted exactly as DuckDB will count them (`streamable`: rows end
at newlines outside RFC 4180 quoted fields — a DMS note may span lines — with no carriage returns or
empty lines), and `join` says where each file's rows lie in the stream. A row DuckDB rejects names its
row number in the stream, which places it in its file; the good rows then follow in file order. The
loader checks that DuckDB's rows add up to the files' rows and otherwise reads the files one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A quoted field, with RFC 4180's doubled quotes inside it; the group makes re.split keep it.
_QUOTED = re.compile(rb'("(?:[^"]|"")*")')


def _pieces(data: bytes, quote: str) -> list[bytes]:
    """`data` split into pieces outside (even indexes) and inside (odd) quoted fields."""
    return _QUOTED.split(data) if quote and b'"' in data else [data]


def streamable(data: bytes, delimiter: str, quote: str) -> bool:
    """True if DuckDB will see exactly the rows `join` counts in `data` (UTF-8, ending in a newline):
    no carriage returns, no empty lines (DuckDB skips them without a word), and quotes only around
    whole fields as RFC 4180 has them, so rows end at the newlines outside quoted fields."""
    if b"\r" in data or data.startswith(b"\n"):
        return False
    if quote not in ('"', ""):
        return False
    pieces = _pieces(data, quote)
    if any(b"\n\n" in piece for piece in pieces[::2]):
        return False
    ends = (delimiter.encode(), b"\n")
    for i in range(1, len(pieces), 2):
        before, after = pieces[i - 1], pieces[i + 1]
        if (before and not before.endswith(ends)) or (after and not after.startswith(ends)):
            return False
    return True


def rows(data: bytes, quote: str) -> int:
    """Data rows of a streamable file: newlines outside quoted fields, less the header's."""
    return sum(piece.count(b"\n") for piece in _pieces(data, quote)[::2]) - 1


@dataclass(frozen=True)
class StreamPart:
    first_line: int  # row number in the stream of the file's first data row (the stream's header is 1)
    rows: int  # data rows in the file


def join(files: list[bytes], quote: str) -> tuple[bytes, list[StreamPart]]:
    """One stream: the first file's header, then every file's data rows; and where each file's rows are."""
    chunks, parts, line = [files[0][: files[0].index(b"\n") + 1]], [], 2
    for data in files:
        chunks.append(data[data.index(b"\n") + 1 :])
        parts.append(StreamPart(line, rows(data, quote)))
        line += parts[-1].rows
    return b"".join(chunks), parts
