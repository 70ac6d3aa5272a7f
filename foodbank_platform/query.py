"""`foodbank sql`: one read-only query on the configured warehouse, printed as a table, CSV or JSON.

For engineers and scripts. It imports neither Dagster nor dbt, so it answers in well under two
seconds. On DuckDB the connection is read-only (`warehouse.connect_read_only`: DuckDB refuses any
write, and it never takes the file's write lock). Snowflake has no read-only session, so only a
statement that reads (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) is sent; the role the settings name
(an analyst's, in production) bounds the rest.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime, time
from decimal import Decimal

from . import warehouse
from .settings import Settings

FORMATS = ("table", "csv", "json")
_READS = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*\(*\s*(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN)\b", re.I | re.S)


class NotReadOnly(ValueError):
    """The statement would change the warehouse."""


def connect(s: Settings):
    """A DB-API connection for reading the warehouse `s` names (the caller closes it): the DuckDB file
    read-only (FileNotFoundError before the first load), or a Snowflake connector connection. What the
    commands that report use (`foodbank sql`, `close`, the demo's summary)."""
    if s.warehouse == "snowflake":
        from . import snowflake_warehouse

        return snowflake_warehouse.connect(s.snowflake)
    return warehouse.connect_read_only(s.duckdb_path)


def run(s: Settings, sql: str) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of `sql` on the warehouse `s` names."""
    if s.warehouse == "snowflake" and not _READS.match(sql):
        raise NotReadOnly("foodbank sql runs read-only queries: SELECT, WITH, SHOW, DESCRIBE or EXPLAIN")
    con = connect(s)
    try:
        cur = con.cursor()
        cur.execute(sql)
        columns = [d[0] for d in cur.description or []]
        return columns, [tuple(r) for r in cur.fetchall()] if columns else []
    finally:
        con.close()


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _json_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)  # exact: finance's numbers are not rounded through a float
    return _text(value)


def render(columns: list[str], rows: list[tuple], fmt: str = "table") -> str:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_text(v) for v in row] for row in rows)
        return out.getvalue().rstrip("\n")
    if fmt == "json":
        return json.dumps([dict(zip(columns, map(_json_value, row))) for row in rows], indent=1)
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = [
        bool(rows) and all(isinstance(r[i], (int, float, Decimal)) or r[i] is None for r in rows)
        for i in range(len(columns))
    ]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(columns)), rule, *map(line, cells), f"({len(rows)} row{'s' * (len(rows) != 1)})"])
