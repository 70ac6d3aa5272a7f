"""The short summary `foodbank demo` prints: rows per layer, data-quality findings, the finance close
by day, largest variances; and what `foodbank run` and `demo` ask the warehouse besides (the business
days to close, the files an earlier run loaded).

Read-only queries over whatever the configured warehouse holds (`query.connect`: the DuckDB file or
Snowflake), the same SQL on both (`quality.Session`); a table that a build has not produced yet is
reported as missing rather than failing the summary.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Iterator

from . import query
from .quality import Session
from .settings import Settings
from .watch import has_ledger

LAYERS = ("raw", "canonical", "reconciliation", "marts", "audit")


@contextlib.contextmanager
def _connection(s: Settings) -> Iterator:
    con = query.connect(s)
    try:
        yield con
    finally:
        con.close()


def _tables(session: Session) -> list[tuple[str, str]]:
    """(schema, table) of the layers, lower case as the models name them (Snowflake keeps them upper)."""
    rows = session.execute(
        "SELECT lower(table_schema), lower(table_name) FROM information_schema.tables "
        "WHERE lower(table_schema) IN ('raw', 'staging', 'canonical', 'reconciliation', 'marts', 'audit') "
        "AND table_catalog = current_database()"
    ).fetchall()
    return sorted((s, t) for s, t in rows)


def summary(s: Settings) -> str:
    with _connection(s) as con:
        session = Session(con)
        lines = ["rows per layer:"]
        tables = _tables(session)
        for schema in LAYERS:
            for sch, t in tables:
                if sch == schema:
                    n = session.scalar(f"SELECT count(*) FROM {sch}.{t}")
                    lines.append(f"  {sch}.{t:<44} {n:>10,}")
        names = {f"{sch}.{t}" for sch, t in tables}
        lines.append("data-quality findings:")
        if "audit.file_ledger" in names:
            failed, quarantined = session.execute(
                "SELECT coalesce(sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0), "
                "coalesce(sum(rows_quarantined), 0) FROM audit.file_ledger"
            ).fetchone()
            # int(): a sum's type is the driver's (the emulator gives a float)
            lines.append(f"  failed files: {int(failed)}, quarantined rows: {int(quarantined)}")
        for sch, t in tables:
            if sch == "audit" and t.startswith("dq_"):
                lines.append(f"  {t}: {session.scalar(f'SELECT count(*) FROM audit.{t}')}")
        if "marts.finance_close" in names:
            lines.append("finance close by day:")
            for day, status, findings in session.execute(
                "SELECT business_date, status, findings_by_rule FROM marts.finance_close ORDER BY 1"
            ).fetchall():
                lines.append(f"  {day}  {status:<26} {findings or 'no findings'}")
            lines.append(
                "  (`foodbank close DAY`: the roll-forward and the exceptions of a day; rules: docs/finance.md)"
            )
        if "reconciliation.book_vs_onhand" in names:
            lines.append("largest inventory variances (book vs warehouse on-hand):")
            columns, rows = session.rows(
                "SELECT business_date, sku, lot_code, location_id, book_lbs, onhand_lbs, lbs_variance, status "
                "FROM reconciliation.book_vs_onhand WHERE status <> 'matched' "
                "ORDER BY abs(coalesce(lbs_variance, 0)) DESC, business_date, sku, lot_code, location_id LIMIT 5"
            )
            lines.append(query.render(columns, rows) if rows else "  none")
        return "\n".join(lines)


def business_days(s: Settings) -> list[str]:
    """Every day from the first to the last business date of the book (`canonical.inventory_events`)."""
    with _connection(s) as con:
        first, last = (
            Session(con)
            .execute("SELECT min(business_date), max(business_date) FROM canonical.inventory_events")
            .fetchone()
        )
    if not first:
        return []
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def files_in_ledger(s: Settings) -> int | None:
    """How many file versions the ledger records; None when there is no warehouse or no ledger yet."""
    try:
        with _connection(s) as con:
            return Session(con).scalar("SELECT count(*) FROM audit.file_ledger") if has_ledger(con) else None
    except FileNotFoundError:
        return None
