"""What is new since the last look: the 10-minute path's eyes, and where late data lands.

The sensors' two questions, in plain Python so they are tested without a scheduler. Which files arrived: a
cursor per raw table holds the newest modification time seen (not the name: DMS files land out of name order,
SFTP re-uploads keep theirs), and the run key hashes the new files, so the same files never load twice. Which
business days the last loads touched, so late rows re-open a published day. README, "Operating it".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from .business_day import PACIFIC
from .quality import Session, literal
from .sources import catalog
from .sources.catalog import SourceTable


@dataclass(frozen=True)
class Seen:
    key: str
    size: int
    mtime: float


def _pacific_date(utc_column: str) -> str:
    return f"CAST((({utc_column}) AT TIME ZONE 'UTC') AT TIME ZONE '{PACIFIC}' AS DATE)"


def _pacific_date_snowflake(utc_column: str) -> str:
    """Snowflake has no AT TIME ZONE: the same conversion of a UTC wall time (TIMESTAMP_NTZ)."""
    return f"CAST(CONVERT_TIMEZONE('UTC', '{PACIFIC}', {utc_column}) AS DATE)"


def _business_dates(pacific_date) -> dict[str, str]:
    """The business date a raw row belongs to (docs/design.md: the Pacific calendar date of the event). Master
    data (items, locations, donors, agencies) dates nothing: it changes descriptions, not days' books."""
    return {
        "wms__inventory_transactions": pacific_date("occurred_at"),
        "intake__donations": pacific_date("received_at"),
        "intake__donation_lines": pacific_date(
            "(SELECT max(d.received_at) FROM raw.intake__donations d WHERE d.id = r.donation_pk)"
        ),
        "ordering__orders": "requested_date",
        "ordering__order_lines": (
            "(SELECT max(o.requested_date) FROM raw.ordering__orders o WHERE o.order_id = r.order_id)"
        ),
        "legacy_warehouse__shipments": "CAST(shipped_at AS DATE)",  # Pacific wall time already
        "legacy_warehouse__onhand": "snapshot_date",
        "manual_adjustments__adjustments": "business_date",
        "usda_tefap__receipts": "received_date",
    }


BUSINESS_DATE_SQL: dict[str, str] = _business_dates(_pacific_date)
BUSINESS_DATE_SQL_SNOWFLAKE: dict[str, str] = _business_dates(_pacific_date_snowflake)


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


def has_ledger(con) -> bool:
    """Whether the warehouse has the ledger yet (a first load makes it)."""
    return bool(
        Session(con).scalar(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE lower(table_schema) = 'audit' AND lower(table_name) = 'file_ledger'"
        )
    )


# Identities per IN list: a first tick over a backlog lists thousands of files (Snowflake takes 16,384).
IN_LIST = 1000


def not_in_ledger(con, fresh: dict[str, list[Seen]]) -> dict[str, list[Seen]]:
    """The files the ledger does not hold yet (by identity and size). A run the sensor did not ask for
    (`foodbank run`, a backfill, a run before the sensor's cursor was reset) may have loaded them already:
    those are not new to the platform, and asking for a run to load them again would only re-count them.
    The same SQL on DuckDB and Snowflake (`quality.Session`), the identities as literals."""
    if not has_ledger(con):
        return fresh
    session = Session(con)
    unseen: dict[str, list[Seen]] = {}
    for name, files in fresh.items():
        table = catalog.table(name)
        identities = [landing_identity(table, f) for f in files]
        held: set[tuple[str, int]] = set()
        for start in range(0, len(identities), IN_LIST):
            listed = ", ".join(literal(i) for i in sorted(set(identities[start : start + IN_LIST])))
            rows = session.execute(
                f"SELECT file_identity, size_bytes FROM audit.file_ledger WHERE source_table = {literal(name)} "
                f"AND file_identity IN ({listed})"
            ).fetchall()
            held.update((identity, int(size)) for identity, size in rows)
        new = [f for f, i in zip(files, identities) if (i, f.size) not in held]
        if new:
            unseen[name] = new
    return unseen


def latest_load(con):
    """When the ledger last recorded a load (None on an empty warehouse): where a late-data cursor starts."""
    if not has_ledger(con):
        return None
    return Session(con).scalar("SELECT max(loaded_at) FROM audit.file_ledger WHERE status = 'loaded'")


def run_key(fresh: dict[str, list[Seen]]) -> str:
    """Same new files → same key, whatever order they were listed in."""
    payload = sorted((t, f.key, f.size, f.mtime) for t, files in fresh.items() for f in files)
    return "files-" + hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:20]


def list_landing(store, table: SourceTable) -> list[Seen]:
    pattern = "*.csv" if table.is_dms else table.pattern
    return [Seen(f.key, f.size, f.mtime) for f in store.list(table.landing_prefix, pattern)]


def list_sftp_ready(source, table: SourceTable, now: float) -> list[Seen]:
    from .sources.sftp import ready_files

    listing = source.list(table.sftp_folder)
    return [
        Seen(f"{table.sftp_folder}/{f.name}", f.size, f.mtime)
        for f in ready_files(listing, table.readiness, table.pattern, now=now)
    ]


def touched_business_dates(con, loaded_after) -> tuple[list[date], object]:
    """Business dates of raw rows loaded after `loaded_after` (a ledger timestamp or None), and the new mark.
    The same SQL on DuckDB and Snowflake (`quality.Session`), but for the time zone conversion."""
    session = Session(con)
    where = "WHERE status = 'loaded'"
    if loaded_after is not None:
        where += f" AND loaded_at > {literal(loaded_after)}"
    loads = session.execute(
        f"SELECT source_table, load_id, max(loaded_at) FROM audit.file_ledger {where} GROUP BY source_table, load_id"
    ).fetchall()
    by_table: dict[str, set[str]] = {}
    mark = loaded_after
    for table, load_id, latest in loads:
        mark = latest if mark is None or latest > mark else mark
        if load_id is not None:
            by_table.setdefault(table, set()).add(load_id)
    business_dates = BUSINESS_DATE_SQL_SNOWFLAKE if session.snowflake else BUSINESS_DATE_SQL
    dates: set[date] = set()
    for table, load_ids in by_table.items():
        expr = business_dates.get(table)
        if not expr:
            continue
        ids = ", ".join(literal(i) for i in sorted(load_ids))
        rows = session.execute(
            f"SELECT DISTINCT {expr} FROM raw.{table} r WHERE _load_id IN ({ids}) AND {expr} IS NOT NULL"
        ).fetchall()
        dates.update(r[0] for r in rows)
    return sorted(dates), mark
