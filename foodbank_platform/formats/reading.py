"""Per-file checks and typed values, dispatched by the catalog's format name.

A file is rejected as a whole (FileRejected, the ledger marks it failed and a new version is
retried) only when no row of it can be trusted: empty, undecodable, a header that is not the
table's, or cut off mid-row. Anything narrower — one row with the wrong field count or a value
that does not parse — is a row problem and is quarantined by the loader, so the rest of the file
still loads.
"""

from __future__ import annotations

import functools

from ..sources.catalog import DMS_META, Column, SourceTable
from . import delimited, dms
from .plan import FileRejected, ReadPlan


def expected_header(table: SourceTable) -> list[str]:
    own = [c.name for c in table.columns]
    return ([c.name for c in DMS_META] + own) if table.is_dms else own


def check_header(table: SourceTable, header: list[str]) -> list[str]:
    """Return the extra trailing columns (schema drift) or raise FileRejected.

    Allowed: exactly the catalog's columns; fewer at the end (a file written before a column was
    added); more at the end (a column the source team just added — loaded as text).
    """
    expected = expected_header(table)
    norm = [h.strip().lower() for h in header]
    exp_norm = [h.lower() for h in expected]
    common = min(len(norm), len(exp_norm))
    required = len(DMS_META) + len(table.key) if table.is_dms else len(table.key)
    if norm[:common] != exp_norm[:common] or common < required:
        raise FileRejected(
            f"header does not match {table.raw_table}: expected {','.join(expected)!r}, got {','.join(header)!r}"
        )
    return norm[len(exp_norm) :]


def check_complete(data: bytes, quoted: bool) -> None:
    if not data.strip():
        raise FileRejected("empty file")
    if not data.endswith(b"\n"):
        raise FileRejected("truncated: the last row has no line ending (file cut short or still uploading)")
    # Quotes are doubled inside quoted fields, so an odd count can only mean an unclosed field.
    if quoted and data.count(b'"') % 2:
        raise FileRejected("truncated: a quoted field is never closed")


def prepare(table: SourceTable, data: bytes) -> ReadPlan:
    check_complete(data, quoted=table.is_dms or bool(delimited.DIALECTS[table.format][2]))
    plan = dms.prepare(data) if table.is_dms else delimited.prepare(table, data)
    extra, read_types = _header_facts(table, tuple(plan.header))
    plan.extra_columns, plan.read_types = list(extra), dict(read_types)
    return plan


@functools.lru_cache(maxsize=1024)
def _header_facts(table: SourceTable, header: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """What a header means for loading; a day brings thousands of files but only a few headers."""
    extra = tuple(check_header(table, list(header)))
    return extra, (dms.read_types(table, list(header)) if table.is_dms else {})


def value_sql(column: Column, fmt: str, src: str) -> str:
    """SQL turning the delivered text `src` into the column's typed value (NULL if it does not parse)."""
    module = dms if fmt == "dms" else delimited
    return module.value_sql(column.type, src)
