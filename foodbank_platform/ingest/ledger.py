"""The landing ledger: every file version the platform has seen, and what became of it.

Finance signs off on numbers that must trace back to files, so the ledger is the spine of
exactly-once: a file version is identified by where it sits (its name with any `_versions/…`
prefix removed) and its sha256. Identical bytes seen again are a re-delivery and only move
`last_seen_at`; different bytes under the same name are the next version. The ledger row of a
loaded version is written in the same DuckDB transaction as its raw rows and quarantined rows, so a
crash leaves either all three or none.
"""

from __future__ import annotations

import re

import duckdb

LEDGER_DDL = """
CREATE TABLE IF NOT EXISTS audit.file_ledger (
    source_table      VARCHAR NOT NULL,   -- raw table it feeds, e.g. wms__inventory_transactions
    file_identity     VARCHAR NOT NULL,   -- landing key without the _versions/ prefix
    landing_key       VARCHAR NOT NULL,   -- where these exact bytes are kept
    version           BIGINT  NOT NULL,   -- 1 for the first bytes under this identity, then 2, 3, …
    checksum          VARCHAR NOT NULL,   -- sha256 of the bytes
    size_bytes        BIGINT  NOT NULL,
    source_mtime      DOUBLE,             -- modification time in landing, to skip unchanged files cheaply
    first_seen_at     TIMESTAMP NOT NULL,
    last_seen_at      TIMESTAMP NOT NULL,
    status            VARCHAR NOT NULL,   -- loaded | failed
    error             VARCHAR,            -- why a failed file could not be read at all
    rows_read         BIGINT,             -- = rows_loaded + rows_quarantined
    rows_loaded       BIGINT,
    rows_quarantined  BIGINT,
    rows_blank        BIGINT,             -- trailing empty spreadsheet rows, not data
    load_id           VARCHAR,
    run_id            VARCHAR,
    loaded_at         TIMESTAMP,
    PRIMARY KEY (file_identity, checksum)
)
"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS audit.quarantine (
    source_table   VARCHAR NOT NULL,
    landing_key    VARCHAR NOT NULL,
    file_version   BIGINT  NOT NULL,
    file_checksum  VARCHAR NOT NULL,
    row_number     BIGINT,            -- 1-based data row in the file
    raw_text       VARCHAR,
    reason         VARCHAR NOT NULL,
    load_id        VARCHAR NOT NULL,
    quarantined_at TIMESTAMP NOT NULL
)
"""

_VERSIONED = re.compile(r"_versions/[0-9a-f]+/")


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(LEDGER_DDL)
    con.execute(QUARANTINE_DDL)


def identity(landing_key: str) -> str:
    """The name a file version is a version *of*."""
    return _VERSIONED.sub("", landing_key)


def versioned_key(folder: str, name: str, checksum: str) -> str:
    """Where a version is kept beside the others, `<folder>/_versions/<sha16>/<name>` (the only spelling;
    `identity()` reads it back). SFTP pulls keep versions in their feed's folder, the loader keeps the DMS
    versions it must protect from overwrites at the root (folder ""), outside every table's listing."""
    return f"{folder}/_versions/{checksum[:16]}/{name}" if folder else f"_versions/{checksum[:16]}/{name}"


def seen_stamps(con: duckdb.DuckDBPyConnection, source_table: str) -> set[tuple[str, int, float | None]]:
    """(identity, size, mtime) of every version recorded: a file still showing one of these is unchanged
    and need not be read again (the cheap test that keeps a 10-minute cycle from re-hashing history)."""
    rows = con.execute(
        "SELECT file_identity, size_bytes, source_mtime FROM audit.file_ledger WHERE source_table = ?", [source_table]
    ).fetchall()
    return {(k, s, m) for k, s, m in rows}


def versions(con: duckdb.DuckDBPyConnection, source_table: str) -> dict[str, dict[str, int]]:
    """identity -> {checksum: version} for every file version of one table (one query per load)."""
    out: dict[str, dict[str, int]] = {}
    for ident, checksum, version in con.execute(
        "SELECT file_identity, checksum, version FROM audit.file_ledger WHERE source_table = ?", [source_table]
    ).fetchall():
        out.setdefault(ident, {})[checksum] = version
    return out


LEDGER_COLUMNS = (
    "source_table",
    "file_identity",
    "landing_key",
    "version",
    "checksum",
    "size_bytes",
    "source_mtime",
    "first_seen_at",
    "last_seen_at",
    "status",
    "error",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_blank",
    "load_id",
    "run_id",
    "loaded_at",
)


_LEDGER_TYPES = (
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "BIGINT",
    "VARCHAR",
    "BIGINT",
    "DOUBLE",
    "TIMESTAMP",
    "TIMESTAMP",
    "VARCHAR",
    "VARCHAR",
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "BIGINT",
    "VARCHAR",
    "VARCHAR",
    "TIMESTAMP",
)


def record(con: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """Append ledger rows (tuples in LEDGER_COLUMNS order) with one statement, however many files:
    each column goes over as one list parameter and is unnested back into rows."""
    if not rows:
        return
    columns = ", ".join(f"unnest(?::{t}[])" for t in _LEDGER_TYPES)
    con.execute(
        f"INSERT INTO audit.file_ledger ({', '.join(LEDGER_COLUMNS)}) SELECT {columns}",
        [list(values) for values in zip(*rows)],
    )


def touch(con: duckdb.DuckDBPyConnection, file_identity: str, checksum: str, mtime: float | None, now) -> None:
    """A re-delivery of bytes already recorded: remember we saw it, load nothing."""
    con.execute(
        "UPDATE audit.file_ledger SET last_seen_at = ?, source_mtime = ? WHERE file_identity = ? AND checksum = ?",
        [now, mtime, file_identity, checksum],
    )
