"""Landing assets, one per catalog table: where each source's files arrive.

DMS writes its files into landing itself, so a DMS table's landing asset is external (observed by
`new_files_sensor`, not materialised by us). SFTP feeds are pulled: their landing asset copies ready
files from the SFTP server into landing, never touching the source.
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

from ...ingest.pull import pull_feed
from ...sources import catalog
from ...sources.catalog import SourceTable
from ..ownership import OWNERS
from ..resources import LandingResource, SftpResource

INGEST_RETRY = RetryPolicy(max_retries=3, delay=5, backoff=Backoff.EXPONENTIAL)


def landing_key(table: SourceTable) -> AssetKey:
    return AssetKey(["landing", table.raw_table])


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
        pulled = pull_feed(sftp.source(), landing.store(), table)
        context.log.info(f"{table.raw_table}: {len(pulled)} new file version(s) pulled")
        return MaterializeResult(metadata={"files_pulled": len(pulled), "keys": MetadataValue.json(pulled[:50])})

    return _pull


landing_specs = [dms_landing_spec(t) for t in catalog.dms_tables()]
landing_assets = [sftp_landing_asset(t) for t in catalog.sftp_tables()]
