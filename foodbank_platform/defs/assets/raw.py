"""Raw assets, one per catalog table: every delivered row with its file lineage, loaded exactly once.

The same loader runs for every table (`foodbank_platform.ingest.loader`); there is no per-table code
here, only the factory. The file ledger the loads write with their rows is an asset of its own.
"""

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, asset

from ... import warehouse as fb_warehouse
from ...ingest import loader
from ...sources import catalog
from ...sources.catalog import SourceTable
from ..ownership import OWNERS
from ..resources import LandingResource, WarehouseResource
from .landing import INGEST_RETRY, landing_key


def raw_key(table: SourceTable) -> AssetKey:
    return AssetKey(["raw", table.raw_table])


def raw_asset(table: SourceTable):
    @asset(
        key=raw_key(table),
        deps=[landing_key(table)],
        description=f"raw.{table.raw_table}: every delivered row with file lineage. {table.description}",
        group_name="raw",
        kinds={"duckdb"},
        owners=OWNERS,
        retry_policy=INGEST_RETRY,
        pool="warehouse_writer",
        metadata={"dagster/table_name": f"raw.{table.raw_table}", "key": ", ".join(table.key)},
    )
    def _load(
        context: AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ) -> MaterializeResult:
        with warehouse.connect() as con:
            report = loader.load_table(landing.store(), con, table, run_id=context.run.run_id)
            table_rows = fb_warehouse.row_count(con, table)
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
file_ledger_spec = AssetSpec(
    key=AssetKey(["audit", "file_ledger"]),
    group_name="raw",
    kinds={"duckdb"},
    owners=OWNERS,
    description="audit.file_ledger: every landed file version the raw loads have taken (checksum, size, "
    "status, rows loaded and quarantined, load and run), committed with the rows themselves.",
    metadata={"dagster/table_name": "audit.file_ledger"},
)

raw_assets = [raw_asset(t) for t in catalog.TABLES]
