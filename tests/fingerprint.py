"""Order-independent content hashes of warehouse tables, for "identical to a clean run" checks."""

from __future__ import annotations

VOLATILE = {
    "_loaded_at",
    "_load_id",
    "first_seen_at",
    "last_seen_at",
    "loaded_at",
    "load_id",
    "run_id",
    "quarantined_at",
    "source_mtime",
    "dbt_updated_at",
    "_dbt_loaded_at",
}


def columns(con, qualified: str, exclude: set[str] = frozenset()) -> list[str]:
    schema, name = qualified.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in VOLATILE and r[0] not in exclude]


def fingerprint(con, qualified: str, exclude: set[str] = frozenset()) -> tuple[int, int]:
    """(row count, sum of row hashes): equal for equal multisets of rows, whatever their order."""
    cols = ", ".join(f'"{c}"' for c in columns(con, qualified, exclude))
    return tuple(con.execute(f"SELECT count(*), coalesce(sum(hash({cols})::HUGEINT), 0) FROM {qualified}").fetchone())


def fingerprints(con, schemas=("raw",), exclude: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    tables = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN "
        f"({', '.join(repr(s) for s in schemas)}) AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetchall()
    return {t[0]: fingerprint(con, t[0], exclude) for t in tables}


# --- the same fingerprint on any warehouse (DuckDB or Snowflake: any DB-API connection) -----------------


def _plain(value):
    """One value as both warehouses' drivers agree on it: numbers to 6 decimals (Snowflake's driver, the
    emulator's above all, gives floats where DuckDB gives decimals), times as naive UTC ISO text."""
    from datetime import date, datetime, timezone
    from decimal import Decimal

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = round(Decimal(str(value)), 6)
        return "0" if number == 0 else format(number.normalize(), "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def content(con, qualified: str, exclude: set[str] = frozenset()) -> tuple[tuple[str, ...], list[tuple]]:
    """(column names in lower case and sorted, the rows sorted) of a table, volatile columns left out."""
    cur = con.cursor()
    cur.execute(f"SELECT * FROM {qualified}")
    names = [d[0].lower() for d in cur.description]
    keep = sorted((n, i) for i, n in enumerate(names) if n not in VOLATILE and n not in exclude)
    rows = sorted((tuple(_plain(row[i]) for _, i in keep) for row in cur.fetchall()), key=repr)
    return tuple(n for n, _ in keep), rows


def digest(table_content: tuple[tuple[str, ...], list[tuple]]) -> tuple[int, str]:
    """(row count, sha256 of the columns and the sorted rows) of what `content` read."""
    import hashlib

    names, rows = table_content
    return len(rows), hashlib.sha256(repr((names, rows)).encode()).hexdigest()


def portable_fingerprint(con, qualified: str, exclude: set[str] = frozenset()) -> tuple[int, str]:
    """`digest` of a table: the same on DuckDB and on Snowflake for the same content, whatever the row
    order, column order, case of the names or numeric types."""
    return digest(content(con, qualified, exclude))


def tables(con, schemas) -> list[str]:
    """`schema.table` (lower case) of every table and view in `schemas`, on either warehouse. The views come
    from information_schema.views: the Snowflake emulator (fakesnow 0.12) lists none in information_schema.tables,
    where Snowflake and DuckDB list them too."""
    cur = con.cursor()
    wanted = ", ".join(f"'{s.lower()}'" for s in schemas)
    where = f"WHERE lower(table_schema) IN ({wanted}) AND lower(table_catalog) = lower(current_database())"
    cur.execute(
        f"SELECT lower(table_schema) || '.' || lower(table_name) FROM information_schema.tables {where} "
        f"AND table_type = 'BASE TABLE' UNION SELECT lower(table_schema) || '.' || lower(table_name) "
        f"FROM information_schema.views {where}"
    )
    return sorted({r[0] for r in cur.fetchall()})
