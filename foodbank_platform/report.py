"""The short summary `foodbank demo` prints: rows per layer, data-quality findings, largest variances.

Read-only queries over whatever the warehouse holds; a table that a build has not produced yet is
reported as missing rather than failing the summary.
"""

from __future__ import annotations

from pathlib import Path

import duckdb


def _tables(con) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('raw','staging','canonical','reconciliation','marts','audit') "
        "ORDER BY table_schema, table_name"
    ).fetchall()


def summary(duckdb_path: Path | str) -> str:
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        lines = ["rows per layer:"]
        tables = _tables(con)
        for schema in ("raw", "canonical", "reconciliation", "marts", "audit"):
            for s, t in tables:
                if s == schema:
                    n = con.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0]
                    lines.append(f"  {s}.{t:<44} {n:>10,}")
        names = {f"{s}.{t}" for s, t in tables}
        lines.append("data-quality findings:")
        if "audit.file_ledger" in names:
            failed, quarantined = con.execute(
                "SELECT count(*) FILTER (WHERE status = 'failed'), coalesce(sum(rows_quarantined), 0) "
                "FROM audit.file_ledger"
            ).fetchone()
            lines.append(f"  failed files: {failed}, quarantined rows: {quarantined}")
        for s, t in tables:
            if s == "audit" and t.startswith("dq_"):
                n = con.execute(f'SELECT count(*) FROM audit."{t}"').fetchone()[0]
                lines.append(f"  {t}: {n}")
        if "reconciliation.book_vs_onhand" in names:
            lines.append("largest inventory variances (book vs warehouse on-hand):")
            rows = con.execute(
                "SELECT business_date, sku, lot_code, location_id, book_lbs, onhand_lbs, lbs_variance, status "
                "FROM reconciliation.book_vs_onhand WHERE status <> 'matched' "
                "ORDER BY abs(coalesce(lbs_variance, 0)) DESC LIMIT 5"
            ).fetchdf()
            lines.append(rows.to_string(index=False) if len(rows) else "  none")
        return "\n".join(lines)
    finally:
        con.close()
