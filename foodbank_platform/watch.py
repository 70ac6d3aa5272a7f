"""What is new since the last look: the 10-minute path's eyes, and where late data lands.

Two questions drive the automation, and both are answered here in plain Python so they can be tested
without a scheduler:

1. *Which files arrived?* A sensor lists the landing zone (DMS writes there itself) and the SFTP
   server (ready files only), and compares with a cursor: per raw table, the newest modification
   time seen and the names seen at exactly that time. Modification time, not file name, is the
   watermark, because DMS files can land out of name order and SFTP re-uploads keep their name.
   The run key is a hash of the new files, so a sensor evaluated twice over the same files asks for
   the same run and Dagster drops the second request: nothing is loaded twice.
2. *Which business days did the last loads touch?* Rows that arrive for a day whose reconciliation
   is already published must re-open that day. The ledger says which loads happened since the
   cursor; each raw table knows the column that dates its rows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from .business_day import PACIFIC
from .sources import catalog
from .sources.catalog import SourceTable


@dataclass(frozen=True)
class Seen:
    key: str
    size: int
    mtime: float


def _pacific_date(utc_column: str) -> str:
    return f"CAST((({utc_column}) AT TIME ZONE 'UTC') AT TIME ZONE '{PACIFIC}' AS DATE)"


# The business date a raw row belongs to (DESIGN: the Pacific calendar date of the event). Master
# data (items, locations, donors, agencies) dates nothing: it changes descriptions, not days' books.
BUSINESS_DATE_SQL: dict[str, str] = {
    "wms__inventory_transactions": _pacific_date("occurred_at"),
    "intake__donations": _pacific_date("received_at"),
    "intake__donation_lines": _pacific_date(
        "(SELECT max(d.received_at) FROM raw.intake__donations d WHERE d.id = r.donation_pk)"
    ),
    "ordering__orders": "requested_date",
    "ordering__order_lines": "(SELECT max(o.requested_date) FROM raw.ordering__orders o WHERE o.order_id = r.order_id)",
    "legacy_warehouse__shipments": "CAST(shipped_at AS DATE)",  # Pacific wall time already
    "legacy_warehouse__onhand": "snapshot_date",
    "manual_adjustments__adjustments": "business_date",
    "usda_tefap__receipts": "received_date",
}


def new_files(listing: dict[str, list[Seen]], cursor: dict) -> tuple[dict[str, list[Seen]], dict]:
    """Files newer than the cursor, per raw table, and the cursor that remembers them."""
    fresh: dict[str, list[Seen]] = {}
    advanced = dict(cursor)
    for table, files in listing.items():
        mark = cursor.get(table, {"mtime": float("-inf"), "keys": []})
        known_at_mark = set(mark["keys"])
        new = [f for f in files if f.mtime > mark["mtime"] or (f.mtime == mark["mtime"] and f.key not in known_at_mark)]
        if not new:
            continue
        fresh[table] = sorted(new, key=lambda f: f.key)
        top = max(f.mtime for f in files)
        keys_at_top = sorted(f.key for f in files if f.mtime == top)
        if top == mark["mtime"]:
            keys_at_top = sorted(known_at_mark | set(keys_at_top))
        advanced[table] = {"mtime": top, "keys": keys_at_top}
    return fresh, advanced


def landing_identity(table: SourceTable, seen: Seen) -> str:
    """The ledger's `file_identity` of a listed file: DMS files are listed in landing already; an SFTP
    file lands under its feed's prefix with its own name."""
    return seen.key if table.is_dms else f"{table.landing_prefix}/{seen.key.rsplit('/', 1)[-1]}"


def _has_ledger(con) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'audit' AND table_name = 'file_ledger'"
        ).fetchone()[0]
    )


def not_in_ledger(con, fresh: dict[str, list[Seen]]) -> dict[str, list[Seen]]:
    """The files the ledger does not hold yet (by identity and size). A run the sensor did not ask for
    (`foodbank run`, a backfill, a run before the sensor's cursor was reset) may have loaded them already:
    those are not new to the platform, and asking for a run to load them again would only re-count them."""
    if not _has_ledger(con):
        return fresh
    unseen: dict[str, list[Seen]] = {}
    for name, files in fresh.items():
        table = catalog.table(name)
        identities = [landing_identity(table, f) for f in files]
        held = set(
            con.execute(
                "SELECT file_identity, size_bytes FROM audit.file_ledger WHERE source_table = ? "
                "AND file_identity IN (SELECT unnest(?))",
                [name, identities],
            ).fetchall()
        )
        new = [f for f, i in zip(files, identities) if (i, f.size) not in held]
        if new:
            unseen[name] = new
    return unseen


def latest_load(con):
    """When the ledger last recorded a load (None on an empty warehouse): where a late-data cursor starts."""
    if not _has_ledger(con):
        return None
    return con.execute("SELECT max(loaded_at) FROM audit.file_ledger WHERE status = 'loaded'").fetchone()[0]


def run_key(fresh: dict[str, list[Seen]]) -> str:
    """Same new files → same key, whatever order they were listed in."""
    payload = sorted((t, f.key, f.size, f.mtime) for t, files in fresh.items() for f in files)
    return "files-" + hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:20]


def list_landing(store, table: SourceTable) -> list[Seen]:
    pattern = "*.csv" if table.is_dms else table.pattern
    return [Seen(f.key, f.size, f.mtime) for f in store.list(table.landing_prefix, pattern)]


def list_sftp_ready(source, table: SourceTable, now: float) -> list[Seen]:
    from .landing.sftp import ready_files

    listing = source.list(table.sftp_folder)
    return [
        Seen(f"{table.sftp_folder}/{f.name}", f.size, f.mtime)
        for f in ready_files(listing, table.readiness, table.pattern, now=now)
    ]


def touched_business_dates(con, loaded_after) -> tuple[list[date], object]:
    """Business dates of raw rows loaded after `loaded_after` (a ledger timestamp or None), and the new mark."""
    where = "WHERE status = 'loaded'" + (" AND loaded_at > ?" if loaded_after is not None else "")
    params = [loaded_after] if loaded_after is not None else []
    loads = con.execute(
        f"SELECT source_table, list(DISTINCT load_id), max(loaded_at) FROM audit.file_ledger {where} "
        "GROUP BY source_table",
        params,
    ).fetchall()
    dates: set[date] = set()
    mark = loaded_after
    for table, load_ids, latest in loads:
        mark = latest if mark is None or latest > mark else mark
        expr = BUSINESS_DATE_SQL.get(table)
        if not expr:
            continue
        rows = con.execute(
            f"SELECT DISTINCT {expr} FROM raw.{table} r WHERE _load_id IN (SELECT unnest(?)) AND {expr} IS NOT NULL",
            [load_ids],
        ).fetchall()
        dates.update(r[0] for r in rows)
    return sorted(dates), mark
