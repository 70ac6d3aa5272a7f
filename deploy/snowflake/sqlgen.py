"""Snowflake SQL derived from the source catalog: raw table columns and the per-file `COPY INTO`.

The raw layer in Snowflake must have the same columns as the DuckDB raw layer the loader builds
locally (the dbt models run unchanged on both), so both derive from `sources/catalog.py`. The
migration `V1.7__raw_tables.sql` was rendered by `raw_table_ddl()`; the tests apply all migrations
on the emulator and compare the resulting columns with the catalog, so a drift fails loudly.

The load is one `COPY INTO` per landed file version, inside one transaction with its ledger row:
- Snowflake's load metadata skips a file already loaded into the table (for 64 days, by name and
  ETag), so a retried statement cannot double-load;
- `audit.file_ledger` is checked before a COPY is issued at all (and outlives the 64 days), and the
  ledger row commits with the rows, so "loaded" in the ledger means the rows are there.
"""

from __future__ import annotations

from foodbank_platform.ingest.ledger import identity
from foodbank_platform.sources import catalog

SNOWFLAKE_TYPES = {
    "text": "VARCHAR",
    "bigint": "NUMBER(38,0)",
    "numeric": "NUMBER(14,2)",
    "timestamptz": "TIMESTAMP_NTZ",  # UTC
    "timestamp_local": "TIMESTAMP_NTZ",  # Pacific wall time as written; staging converts
    "date": "DATE",
    "boolean": "BOOLEAN",
    "yn": "BOOLEAN",
}
FILE_FORMATS = {
    "dms": "raw.dms_csv",
    "legacy_csv": "raw.legacy_csv",
    "adjustments_csv": "raw.adjustments_csv",
    "tefap_pipe": "raw.tefap_pipe",
}
DMS_TIMESTAMP = "YYYY-MM-DD HH24:MI:SS.FF6"
LEGACY_TIMESTAMP = "MM/DD/YYYY HH24:MI:SS"


def raw_columns(table: catalog.SourceTable) -> list[tuple[str, str]]:
    own = (catalog.DMS_META if table.is_dms else ()) + table.columns
    names = [("op" if c.name == "Op" else c.name, SNOWFLAKE_TYPES[c.type]) for c in own]
    return names + [(c.name, SNOWFLAKE_TYPES[c.type]) for c in catalog.LINEAGE]


def raw_table_ddl(table: catalog.SourceTable) -> str:
    body = ",\n".join(f"    {name} {typ}" for name, typ in raw_columns(table))
    return f"CREATE TABLE IF NOT EXISTS raw.{table.raw_table} (\n{body}\n);"


def _cast(position: int, column: catalog.Column, table: catalog.SourceTable) -> str:
    """The file's field at `position` as the column's type (COPY transformations allow these functions)."""
    field = f"${position}"
    if column.type == "timestamptz":
        return f"TO_TIMESTAMP_NTZ({field}, '{DMS_TIMESTAMP}')"
    if column.type == "timestamp_local":
        return f"TO_TIMESTAMP_NTZ({field}, '{LEGACY_TIMESTAMP}')"
    if column.type == "numeric":
        # adjustments carry thousands separators inside quotes ("1,250.00")
        value = f"REPLACE({field}, ',', '')" if table.format == "adjustments_csv" else field
        return f"TO_NUMBER({value}, 14, 2)"
    if column.type == "yn":
        return f"IFF({field} = 'Y', TRUE, IFF({field} = 'N', FALSE, NULL))"
    if column.type == "text":
        return field
    return f"{field}::{SNOWFLAKE_TYPES[column.type]}"


def copy_into(
    table: catalog.SourceTable, file_key: str, *, stage_path: str, file_version: int, file_checksum: str, load_id: str
) -> str:
    """`COPY INTO raw.<table>` for one landed file: positional fields cast to the raw types, plus lineage.

    `stage_path` is the file's folder below the `@raw.landing` stage, `file_key` its name in that folder.
    """
    own = (catalog.DMS_META if table.is_dms else ()) + table.columns
    fields = [_cast(i, c, table) for i, c in enumerate(own, start=1)]
    lineage = [
        "METADATA$FILENAME",
        str(int(file_version)),
        _literal(file_checksum),
        "METADATA$FILE_ROW_NUMBER",
        "SYSDATE()",
        _literal(load_id),
    ]
    columns = ", ".join(name for name, _ in raw_columns(table))
    select = ",\n    ".join(fields + lineage)
    return (
        f"COPY INTO raw.{table.raw_table} ({columns})\n"
        f"FROM (SELECT\n    {select}\n  FROM @raw.landing/{stage_path.strip('/')}/)\n"
        f"FILES = ({_literal(file_key)})\n"
        f"FILE_FORMAT = (FORMAT_NAME = '{FILE_FORMATS[table.format]}')\n"
        f"ON_ERROR = ABORT_STATEMENT"
    )


def load_file_transaction(
    table: catalog.SourceTable,
    file_key: str,
    *,
    stage_path: str,
    file_version: int,
    file_checksum: str,
    size_bytes: int,
    load_id: str,
) -> list[str]:
    """The statements of one file's load: the rows and their ledger entry commit together or not at all."""
    landing_key = f"{stage_path.strip('/')}/{file_key}"
    ledger = (
        "INSERT INTO audit.file_ledger (source_table, file_identity, landing_key, version, checksum, size_bytes, "
        "first_seen_at, last_seen_at, status, rows_read, rows_loaded, rows_quarantined, rows_blank, load_id, "
        "loaded_at)\n"
        f"SELECT {_literal(table.raw_table)}, {_literal(identity(landing_key))}, {_literal(landing_key)}, "
        f"{int(file_version)}, {_literal(file_checksum)}, {int(size_bytes)}, SYSDATE(), SYSDATE(), 'loaded', "
        f"COUNT(*), COUNT(*), 0, 0, {_literal(load_id)}, SYSDATE()\n"
        f"FROM raw.{table.raw_table} WHERE _load_id = {_literal(load_id)}"
    )
    return [
        "BEGIN",
        copy_into(
            table,
            file_key,
            stage_path=stage_path,
            file_version=file_version,
            file_checksum=file_checksum,
            load_id=load_id,
        ),
        ledger,
        "COMMIT",
    ]


def _literal(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"
