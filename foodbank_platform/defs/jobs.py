"""The jobs: the 10-minute path, the nightly close of a business day, the clock check of expected
files, the monthly retention, and everything else at once (`foodbank run`). What launches them is in `schedules.py` and `sensors.py`.

DuckDB has one writer: every writing op is in the `warehouse_writer` pool (one slot), and the
nightly runs are queued one at a time by their `foodbank/path` tag (deploy/dagster.yaml).
"""

from dagster import AssetSelection, define_asset_job

from . import checks
from .assets import dbt, landing, raw
from .assets.retention import retention_asset

# deploy/dagster.yaml queues runs by `foodbank/path` (one nightly close at a time) and retries failed
# runs (a lost task). Transient step failures are retried inside the run (RetryPolicy on every op); a
# nightly step that still fails after those tries has a cause a re-launch would not fix (a model bug).
OPERATIONS_TAGS = {"foodbank/path": "operations"}
NIGHTLY_TAGS = {"foodbank/path": "nightly", "dagster/retry_on_asset_or_op_failure": "false"}

operations_selection = AssetSelection.assets(
    *landing.landing_assets, *raw.raw_assets, dbt.dbt_operations
) - AssetSelection.checks(checks.missing_files)
nightly_selection = AssetSelection.assets(dbt.dbt_reconciliation, dbt.dbt_finance)

operations_refresh = define_asset_job(
    "operations_refresh",
    selection=operations_selection,
    tags=OPERATIONS_TAGS,
    description="10-minute path: pull and load new files, rebuild the operations models, run their checks.",
)

nightly_close = define_asset_job(  # partitioned by business day, as its assets are
    "nightly_close",
    selection=nightly_selection,
    tags=NIGHTLY_TAGS,
    description="Finance-grade close of one business day (or a range, as one run): reconciliations, then the "
    "finance marts and marts.finance_close, each day published, published with exceptions or held by its own findings.",
)

expected_files = define_asset_job(
    "expected_files",
    selection=AssetSelection.checks(checks.missing_files),
    tags=OPERATIONS_TAGS,
    description="Files expected but missing: shipments every 45 minutes in shipping hours, on-hand by 03:00.",
)

# A partition the archive does not provably hold fails the run; a re-launch would export it again and
# fail the same way, so the run is not retried.
retention = define_asset_job(
    "retention",
    selection=AssetSelection.assets(retention_asset),
    tags={"foodbank/path": "retention", "dagster/retry_on_asset_or_op_failure": "false"},
    description="Three years hot: export raw partitions older than 36 months to the archive, verify, then delete.",
)

everything = define_asset_job(
    "ingest_and_build",
    selection=AssetSelection.all()
    - AssetSelection.checks(checks.missing_files)
    - AssetSelection.assets(retention_asset),
    description="Pull and load every new file, then build every dbt model (the `foodbank run` command).",
)
