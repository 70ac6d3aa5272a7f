"""Ingestion assets, one pair per catalog entry: landing → raw.

DMS writes its files into landing itself, so a DMS table's landing asset is an external asset
(observed, not materialised by us). SFTP feeds are pulled: their landing asset copies ready files
from the SFTP server into landing (never touching the source). Every raw asset runs the same
loader over its table's landing files; there is no per-table code here, only the factory.
"""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Backoff,
    MaterializeResult,
    MetadataValue,
    RetryPolicy,
    asset,
)

from .. import warehouse as fb_warehouse
from ..ingest import loader
from ..sources import catalog
from ..sources.catalog import SourceTable
from .ownership import OWNERS
from .resources import LandingResource, SftpResource, WarehouseResource

INGEST_RETRY = RetryPolicy(max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL)


def landing_key(table: SourceTable) -> AssetKey:
    return AssetKey(["landing", table.raw_table])


def raw_key(table: SourceTable) -> AssetKey:
    return AssetKey(["raw", table.raw_table])


def dms_landing_spec(table: SourceTable) -> AssetSpec:
    return AssetSpec(
        key=landing_key(table),
        description=f"AWS DMS files of {table.location}.{table.name} in landing ({table.landing_prefix}/).",
        group_name="landing",
        kinds={"s3"},
        owners=OWNERS,
        metadata={"landing_prefix": table.landing_prefix, "source_system": table.system},
    )


def sftp_landing_asset(table: SourceTable):
    @asset(
        key=landing_key(table),
        description=f"Ready files of the SFTP feed /outbound/{table.sftp_folder}/ copied into landing. "
        f"{table.description}",
        group_name="landing",
        kinds={"sftp", "s3"},
        owners=OWNERS,
        retry_policy=INGEST_RETRY,
        metadata={"sftp_folder": table.sftp_folder, "readiness": table.readiness},
    )
    def _pull(context: AssetExecutionContext, landing: LandingResource, sftp: SftpResource) -> MaterializeResult:
        from ..ingest.pull import pull_feed

        pulled = pull_feed(sftp.source(), landing.store(), table)
        context.log.info(f"{table.raw_table}: {len(pulled)} new file version(s) pulled")
        return MaterializeResult(metadata={"files_pulled": len(pulled), "keys": MetadataValue.json(pulled[:50])})

    return _pull


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

landing_specs = [dms_landing_spec(t) for t in catalog.dms_tables()]
landing_assets = [sftp_landing_asset(t) for t in catalog.sftp_tables()]
raw_assets = [raw_asset(t) for t in catalog.TABLES]
