"""Raw assets, one per catalog table: every delivered row with its file lineage, loaded exactly once.

The same loader runs for every table (`foodbank_platform.ingest.loader`); there is no per-table code
here, only the factory. The file ledger the loads write with their rows is an asset of its own.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    RetryPolicy,
    TableColumn,
    TableColumnConstraints,
    TableConstraints,
    TableSchema,
    asset,
)

from ... import settings as fb_settings
from ...ingest import loader
from ...sources import catalog, row_rules
from ...sources.catalog import SourceTable
from ..ownership import OWNERS
from ..resources import LandingResource, WarehouseResource
from .landing import INGEST_RETRY, landing_key

# The kind the UI shows on the tables the platform's Python writes: the configured warehouse.
WAREHOUSE_KIND = fb_settings.load().warehouse


def raw_key(table: SourceTable) -> AssetKey:
    return AssetKey(["raw", table.raw_table])


def audit_table_spec(table: str, description: str) -> AssetSpec:
    """An audit table the platform's Python writes (not dbt), shown in the raw group beside the loads."""
    return AssetSpec(
        key=AssetKey(table.split(".")),
        group_name="raw",
        kinds={WAREHOUSE_KIND},
        owners=OWNERS,
        description=f"{table}: {description}",
        metadata={"dagster/table_name": table},
    )


def column_schema(table: SourceTable) -> TableSchema:
    """The columns as raw types them, and, for the feeds people type, the pandera row rules a
    row must keep to be loaded rather than quarantined (sources/row_rules.py). dagster-pandera would
    show the same, but pins pandas below the 3.x this project runs on."""
    rules = row_rules.SCHEMAS.get(table.raw_table)
    checks = {name: [c.name for c in column.checks] for name, column in (rules.columns.items() if rules else ())}
    return TableSchema(
        columns=[
            TableColumn(
                c.name,
                type=catalog.DUCKDB_TYPES[c.type],
                constraints=TableColumnConstraints(other=checks[c.name]) if c.name in checks else None,
            )
            for c in table.columns
        ],
        constraints=TableConstraints(other=[c.name for c in rules.checks]) if rules else None,
    )


def raw_asset(table: SourceTable, retry_policy: RetryPolicy = INGEST_RETRY):
    """The table's raw asset. A failed load (the warehouse unreachable, say) is retried by `retry_policy`,
    with backoff; a test passes a shorter one."""

    @asset(
        key=raw_key(table),
        deps=[landing_key(table)],
        description=f"raw.{table.raw_table}: every delivered row with file lineage. {table.description}",
        group_name="raw",
        kinds={WAREHOUSE_KIND},
        owners=OWNERS,
        retry_policy=retry_policy,
        pool="warehouse_writer",
        metadata={
            "dagster/table_name": f"raw.{table.raw_table}",
            "dagster/column_schema": column_schema(table),
            "key": ", ".join(table.key),
        },
    )
    def _load(
        context: AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ) -> MaterializeResult:
        with warehouse.raw_target() as target:  # DuckDB or Snowflake: one loader, one transaction per batch
            report = loader.load_table(landing.store(), target, table, run_id=context.run.run_id)
            table_rows = target.row_count(table)
        for f in report.files:
            if f.status == "failed":
                context.log.error(f"file failed: {f.error}")
        context.log.info(
            f"{table.raw_table}: {report.count('loaded')} file(s), {report.rows_loaded} rows, "
            f"{report.rows_quarantined} quarantined, {report.count('failed')} failed file(s)"
        )
        return MaterializeResult(
            metadata={
                "files_loaded": report.count("loaded"),
                "files_failed": report.count("failed"),
                "files_redelivered": report.count("redelivered"),
                "rows_loaded": report.rows_loaded,
                "rows_quarantined": report.rows_quarantined,
                # The table's size, as on every other asset; what this run added is rows_loaded.
                "dagster/row_count": table_rows,
            }
        )

    return _load


# Written by every raw load in the same transaction as the rows; read by dbt (lineage, freshness).
file_ledger_spec = audit_table_spec(
    "audit.file_ledger",
    "every landed file version the raw loads have taken (checksum, size, status, rows loaded and quarantined, "
    "load and run), committed with the rows themselves.",
)

raw_assets = [raw_asset(t) for t in catalog.TABLES]
