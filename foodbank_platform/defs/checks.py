"""The data-quality rules of `foodbank_platform.quality`, as Dagster asset checks.

Each check sits on the asset its findings are about, shows the count and first examples, and writes its
findings to `audit.dq_<rule>`. None blocks: the finance close decides per business day what publishes
(docs/finance.md), so a hold shows as a failed check and a held day, never as a failed run. The missing-files
rule is evaluated as of the run's `foodbank/as_of` tag (the schedule's tick), so a replayed tick agrees.
One definition per rule for both warehouses: the warehouse resource's `dbapi()` connection is DuckDB's or
Snowflake's, and `quality.py` runs the same SQL on either.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Backoff,
    MetadataValue,
    RetryPolicy,
    asset_check,
    multi_asset_check,
)

from .. import quality
from ..business_day import PACIFIC
from ..quality import Check, Outcome
from ..sources import catalog
from .assets.raw import audit_table_spec, raw_key
from .resources import QualityResource, SftpResource, WarehouseResource

# A check waits on the warehouse like the loaders do; a held lock is worth a retry, not a red check.
CHECK_RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)


def _key(schema_table: tuple[str, str]) -> AssetKey:
    return AssetKey(list(schema_table))


def _result(
    outcome: Outcome, asset_key: AssetKey | None = None, count: int | None = None, examples: list | None = None
) -> AssetCheckResult:
    n = outcome.failed_rows if count is None else count
    shown = Outcome(outcome.check, n, outcome.columns, outcome.examples if examples is None else examples)
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=outcome.check.name,
        passed=n == 0,
        severity=AssetCheckSeverity.ERROR if outcome.check.severity == quality.ERROR else AssetCheckSeverity.WARN,
        metadata={
            "failed_rows": n,
            "findings_table": outcome.check.table,
            "scope": outcome.scope,
            "examples": MetadataValue.md(shown.examples_markdown()),
            "examples_json": MetadataValue.json(shown.examples_json()),
        },
    )


def _day_range(context: AssetCheckExecutionContext) -> tuple[date, date] | tuple[None, None]:
    """The business days of the run (its partition or partition range): a day-scoped rule looks at
    those days only. Outside a partitioned run (a check launched on its own) it looks at every day."""
    tags = context.run.tags
    first = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    last = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not first:
        return None, None
    return date.fromisoformat(first), date.fromisoformat(last) + timedelta(days=1)


def row_check(check: Check):
    """A rule whose findings all concern one asset."""

    @asset_check(
        asset=_key(check.asset),
        name=check.name,
        description=check.description,
        additional_deps=[_key(r) for r in check.reads],
        retry_policy=CHECK_RETRY,
        metadata={"severity": check.severity, "findings_table": check.table},
    )
    def _check(
        context: AssetCheckExecutionContext, warehouse: WarehouseResource, dq: QualityResource
    ) -> AssetCheckResult:
        start, end = _day_range(context) if check.partitioned else (None, None)
        with warehouse.dbapi() as con:
            outcome = quality.evaluate(con, check, start, end, dq.tolerance(check))
        context.log.info(f"{check.name}: {outcome.failed_rows} finding(s) ({outcome.scope})")
        return _result(outcome)

    return _check


def _split(con, outcome: Outcome, column: str, value_by_key: dict) -> list[AssetCheckResult]:
    """One result per selected check key, each counting only the findings whose `column` is its value."""
    results = []
    for key, value in sorted(value_by_key.items(), key=lambda kv: str(kv[0])):
        count, examples = quality.findings_where(con, outcome.check, column, value)
        results.append(_result(outcome, key.asset_key, count, examples))
    return results


def per_table_check(check: Check):
    """A ledger-level rule shown once per raw table, evaluated in one query."""
    specs = [
        AssetCheckSpec(
            name=check.name,
            asset=raw_key(t),
            description=check.description,
            metadata={"severity": check.severity, "findings_table": check.table},
        )
        for t in catalog.TABLES
    ]

    @multi_asset_check(specs=specs, name=check.name, can_subset=True, retry_policy=CHECK_RETRY)
    def _check(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.dbapi() as con:
            outcome = quality.evaluate(con, check)
            yield from _split(
                con, outcome, "source_table", {k: k.asset_key.path[-1] for k in context.selected_asset_check_keys}
            )

    return _check


def as_of_pacific(context: AssetCheckExecutionContext) -> datetime:
    tag = context.run.tags.get("foodbank/as_of")
    moment = datetime.fromisoformat(tag) if tag else datetime.now(ZoneInfo("UTC"))
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(ZoneInfo(PACIFIC)).replace(tzinfo=None)


# The missing-files findings are a table the finance close reads (a shipments gap holds its day).
missing_files_findings_spec = audit_table_spec(
    "audit.dq_missing_files",
    "files the clock expected and did not see over the last 7 days, written by the missing_files check "
    "(expected_files job); marts.finance_exceptions holds a shipments gap's day.",
)

SHIPMENTS_KEY = raw_key(catalog.table("legacy_warehouse__shipments"))
ONHAND_KEY = raw_key(catalog.table("legacy_warehouse__onhand"))


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            name="missing_files",
            asset=SHIPMENTS_KEY,
            description="No shipments file for more than 45 minutes in shipping hours (06-18 Pacific).",
        ),
        AssetCheckSpec(
            name="missing_files", asset=ONHAND_KEY, description="No on-hand snapshot for day D by 03:00 Pacific on D+1."
        ),
    ],
    name="missing_files",
    can_subset=True,
    retry_policy=CHECK_RETRY,
)
def missing_files(context: AssetCheckExecutionContext, warehouse: WarehouseResource, sftp: SftpResource):
    as_of = as_of_pacific(context)
    feeds = {SHIPMENTS_KEY: "shipments", ONHAND_KEY: "onhand"}
    deliveries = legacy_deliveries(sftp)
    with warehouse.dbapi() as con:
        outcome = quality.evaluate_missing_files(con, deliveries, as_of)
        yield from _split(con, outcome, "feed", {k: feeds[k.asset_key] for k in context.selected_asset_check_keys})


def legacy_deliveries(sftp: SftpResource) -> list[tuple[str, datetime]]:
    """(name, Pacific delivery time) of the legacy warehouse's files, from the SFTP server's listing."""
    source = sftp.source()
    try:
        return [
            (f.name, datetime.fromtimestamp(f.mtime, ZoneInfo(PACIFIC)).replace(tzinfo=None))
            for key in (SHIPMENTS_KEY, ONHAND_KEY)
            for f in source.list(catalog.table(key.path[-1]).sftp_folder)
        ]
    finally:
        source.close()


row_checks = [row_check(c) for c in quality.CHECKS if not c.per_source_table]
table_checks = [per_table_check(c) for c in quality.CHECKS if c.per_source_table]
data_quality_checks = [*row_checks, *table_checks, missing_files]
