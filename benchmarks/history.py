"""Long histories for the benchmarks, without simulating a file per minute of them.

`tile(template, target, copies, days, first_day)` copies the raw rows (and their ledger rows) that the
platform's loader wrote into a template warehouse from `days` simulated days into another warehouse,
`copies` times, each copy shifted a further `days` days back in time. A copy has the shape of what
the loader writes (the same columns, lineage and ledger), so staging, canonical and the marts work on
it as on loaded files:
- every date and time moves back by whole days (commit times, business times, the load time, and the
  date in the file's name, which staging reads);
- the business keys of a copy are its own: numeric ids move by `k * ID_STEP`, text ids and lot codes
  get a `h<k>-` prefix, the same way in every table, so the ties between tables (a donation line's
  donation, a shipment's order line, a lot's movements) hold inside each copy;
- the reference tables (items, locations, donors, agencies) are not copied: they are current state;
- a copy's DMS full-load rows keep file version 1, so all copies and the real full load are one load
  generation (`dms_current_state`), as a platform that has run for a year has.
Only the files of the template's first `days` days are copied, and only those whose shifted date is on
or after `first_day` (the full load counts as of the template's first day), so a history has exactly
the days asked for.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from foodbank_platform import warehouse
from foodbank_platform.ingest import ledger
from foodbank_platform.sources import catalog

ID_STEP = 10_000_000_000  # numeric ids of copy k are the template's + k * ID_STEP
REFERENCE = {"wms__items", "wms__locations", "intake__donors", "ordering__agencies"}
NUMERIC_IDS = {"txn_id", "id", "line_id", "donation_pk", "order_id", "order_line_id"}
TEXT_IDS = {"donation_id", "shipment_line_id", "adjustment_id", "bol_number", "lot_code"}
SHIFTED_TYPES = {"date", "timestamptz", "timestamp_local"}
_DATE_IN_NAME = re.compile(r"(\d{4})(-?)(\d{2})(-?)(\d{2})")
_FULL_LOAD = re.compile(r"(h\d+-)?LOAD")  # a DMS full load's name, or a copy's


def _dated(name: str) -> re.Match | None:
    return None if _FULL_LOAD.match(name) else _DATE_IN_NAME.search(name)


def file_date(identity: str, first_day: date) -> date:
    """The day a file belongs to, from its name (`20261103-…csv`, `shipments_20261103_0715.csv`,
    `… 2026-11-03.csv`); a full load (`LOAD…`) or an undated name: the template's first day."""
    found = _dated(identity.rpartition("/")[2])
    return date(int(found[1]), int(found[3]), int(found[5])) if found else first_day


def shifted_name(key: str, k: int, days: int) -> str:
    """The landing key of copy k: the date in the file's name `k * days` days earlier (a dated name
    stays in its own format), or a `h<k>-` prefix on an undated name."""
    folder, _, name = key.rpartition("/")
    found = _dated(name)
    if found:
        day = date(int(found[1]), int(found[3]), int(found[5])) - timedelta(days=k * days)
        text = day.strftime(f"%Y{found[2]}%m{found[4]}%d")
        name = name[: found.start()] + text + name[found.end() :]
    else:
        name = f"h{k}-{name}"
    return f"{folder}/{name}" if folder else name


def _copies(con: duckdb.DuckDBPyConnection, copies: int, days: int, first_day: date) -> pd.DataFrame:
    """One row per (template file, copy): the old and new landing key and identity."""
    files = con.execute("SELECT source_table, file_identity, landing_key FROM tmpl.audit.file_ledger").df()
    start = min((file_date(i, date.max) for i in files["file_identity"]), default=first_day)
    last = start + timedelta(days=days - 1)
    rows = []
    for f in files.itertuples():
        if f.source_table in REFERENCE:
            continue
        full_load = _FULL_LOAD.match(f.file_identity.rpartition("/")[2]) is not None
        day = file_date(f.file_identity, start)
        if day > last:  # the template's morning after its days: not history
            continue
        for k in range(1, copies + 1):
            shift = timedelta(days=k * days)
            # A copy with any day in the history has its full load (the start of its load generation).
            if (last if full_load else day) - shift < first_day:
                continue
            rows.append(
                (k, f.landing_key, shifted_name(f.landing_key, k, days), shifted_name(f.file_identity, k, days))
            )
    return pd.DataFrame(rows, columns=["k", "old_key", "new_key", "new_identity"])


def _select(table: catalog.SourceTable, days: int) -> str:
    """The template's raw rows of `table` as copy `m.k` (joined as `m`)."""
    shift = f"to_days(m.k * {days})"
    replace = [
        f"CAST(r.{c.name} - {shift} AS {catalog.DUCKDB_TYPES[c.type]}) AS {c.name}"
        for c in table.columns
        if c.type in SHIFTED_TYPES
    ]
    replace += [f"r.{c} + m.k * {ID_STEP} AS {c}" for c in NUMERIC_IDS if any(x.name == c for x in table.columns)]
    replace += [f"'h' || m.k || '-' || r.{c} AS {c}" for c in TEXT_IDS if any(x.name == c for x in table.columns)]
    if any(c.name == "reference_id" for c in table.columns):  # an order's number, or a document's name
        replace.append(
            f"coalesce(CAST(TRY_CAST(r.reference_id AS BIGINT) + m.k * {ID_STEP} AS VARCHAR), "
            "'h' || m.k || '-' || r.reference_id) AS reference_id"
        )
    if table.is_dms:
        replace.append(f"r.dms_commit_ts - {shift} AS dms_commit_ts")
    replace += [f"r._loaded_at - {shift} AS _loaded_at", "m.new_key AS _file"]
    return f"SELECT r.* REPLACE ({', '.join(replace)}) FROM tmpl.raw.{table.raw_table} r JOIN _copies m ON m.old_key = r._file"


def tile(template: Path, target: Path, copies: int, days: int, first_day: date) -> dict[str, int]:
    """Copy the template warehouse's raw and ledger rows into `target` as described above; returns the
    rows added per raw table."""
    con = warehouse.connect(target)
    try:
        ledger.ensure(con)
        warehouse.ensure_raw_tables(con)
        con.execute("SET enable_progress_bar = false")
        con.execute(f"ATTACH '{template}' AS tmpl (READ_ONLY)")
        con.register("_copies_frame", _copies(con, copies, days, first_day))
        con.execute("CREATE OR REPLACE TEMP TABLE _copies AS SELECT * FROM _copies_frame")
        con.unregister("_copies_frame")
        added = {}
        con.execute("BEGIN TRANSACTION")
        for table in catalog.TABLES:
            if table.raw_table in REFERENCE:
                continue
            added[table.raw_table] = con.execute(
                f"INSERT INTO raw.{table.raw_table} BY NAME {_select(table, days)}"
            ).fetchone()[0]
        shift = f"to_days(m.k * {days})"
        con.execute(f"""
            INSERT INTO audit.file_ledger BY NAME
            SELECT l.* REPLACE (m.new_identity AS file_identity, m.new_key AS landing_key,
                                sha256(l.checksum || m.k) AS checksum,
                                l.first_seen_at - {shift} AS first_seen_at, l.last_seen_at - {shift} AS last_seen_at,
                                l.loaded_at - {shift} AS loaded_at)
            FROM tmpl.audit.file_ledger l JOIN _copies m ON m.old_key = l.landing_key
        """)
        con.execute("COMMIT")
        return added
    finally:
        con.close()
