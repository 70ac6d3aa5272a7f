"""What every format hands the loader: a plan DuckDB's CSV reader can run, or a rejected file.

Its own module because each format (`dms.py`, `delimited.py`) builds these and `reading.py`
dispatches to the formats: both sides import the types from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class FileRejected(Exception):
    """The whole file is unreadable; the message names the problem (the loader adds the file)."""


@dataclass
class ReadPlan:
    """How DuckDB reads one (possibly normalised) file."""

    data: bytes  # UTF-8 bytes DuckDB will read
    header: list[str]  # column names as the file has them (normalised), in order
    delimiter: str = ","
    quote: str = '"'
    null_token: str | None = None  # DMS: \N ; SFTP feeds: none (empty text means NULL)
    extra_columns: list[str] = field(default_factory=list)  # schema drift: new trailing columns
    # Types DuckDB's reader applies itself (faster than casting text afterwards); a value that does
    # not convert makes the reader reject its row. Columns not listed are read as text.
    read_types: dict[str, str] = field(default_factory=dict)
    blank_rows: int = 0  # trailing `,,,,` rows, dropped before reading

    def csv_options(self, columns_sql: str) -> str:
        quote = self.quote.replace("'", "''")
        opts = [
            "header=true",
            "auto_detect=false",
            f"delim='{self.delimiter}'",
            f"quote='{quote}'",
            f"escape='{quote}'",
            f"columns={columns_sql}",
            "store_rejects=true",
            "ignore_errors=true",
            "max_line_size=4000000",
        ]
        if self.null_token is not None:
            opts.append("nullstr='" + self.null_token.replace("'", "''") + "'")
            # DuckDB treats an unquoted empty field as NULL by default; DMS writes NULL as \N and an
            # empty string as "", so both must survive as themselves.
        return ", ".join(opts)
