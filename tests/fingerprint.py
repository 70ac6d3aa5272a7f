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
