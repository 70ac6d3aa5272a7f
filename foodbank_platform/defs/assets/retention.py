"""Retention as one asset: raw rows older than three years leave the configured warehouse (DuckDB or
Snowflake) once the archive provably holds them. The steps and their guarantee are plain Python in
`foodbank_platform/retention.py`; here they get a schedule's date, the warehouse and the archive, and
report what they did as the materialization's metadata. A partition the archive does not provably hold
stays in the warehouse and fails the run, so somebody is told (run_failure_alert)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from ... import retention
from ...business_day import PACIFIC
from ...sources import catalog
from ..ownership import OWNERS
from ..resources import ArchiveResource, WarehouseResource
from .raw import raw_key

RETENTION_KEY = AssetKey(["audit", "retention"])
AS_OF_TAG = "foodbank/as_of_date"  # the day the pass counts three years back from (default: today, Pacific)


def _metadata(outcome: retention.Outcome) -> dict:
    return {
        "archive": outcome.archive,
        "cutoff_month": outcome.cutoff.isoformat(),
        "partitions_exported": len(outcome.exported),
        "partitions_verified": len(outcome.verified),
        "partitions_deleted": len(outcome.deleted),
        "partitions_not_verified": len(outcome.not_verified),
        "rows_deleted": outcome.rows_deleted,
        "deleted": MetadataValue.json(outcome.deleted),
        "archive_keys": MetadataValue.json(outcome.archive_keys),
        "not_verified": MetadataValue.json(outcome.not_verified),
    }


@asset(
    key=RETENTION_KEY,
    deps=[raw_key(t) for t in catalog.TABLES],
    group_name="audit",
    owners=OWNERS,
    pool="warehouse_writer",
    description="Three years hot: each raw partition (table, month of _loaded_at) older than 36 months is exported "
    "to the archive as Parquet with a manifest, read back, and deleted from the warehouse only when row count, "
    "checksum, sha256 and (on S3) Object Lock check out, with its audit.retention_log row in the same transaction.",
    metadata={"dagster/table_name": "audit.retention_log"},
)
def retention_asset(
    context: AssetExecutionContext, warehouse: WarehouseResource, archive: ArchiveResource
) -> MaterializeResult:
    tag = context.run.tags.get(AS_OF_TAG)
    today = date.fromisoformat(tag) if tag else datetime.now(ZoneInfo(PACIFIC)).date()
    store = archive.archive()
    with warehouse.retention_side() as side:
        outcome = retention.run(side, store, [t.raw_table for t in catalog.TABLES], today)
    metadata = _metadata(outcome)
    context.log.info(
        f"retention before {outcome.cutoff:%Y-%m}: {len(outcome.exported)} partition(s) exported to {outcome.archive}, "
        f"{len(outcome.deleted)} deleted ({outcome.rows_deleted} rows), {len(outcome.not_verified)} kept unverified"
    )
    if outcome.not_verified:
        raise Failure(
            description="the archive does not provably hold "
            + "; ".join(f"{name}: {why}" for name, why in outcome.not_verified.items())
            + " (those partitions stay in the warehouse)",
            metadata=metadata,
        )
    return MaterializeResult(metadata=metadata)
