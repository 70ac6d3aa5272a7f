"""The foodbank_platform code location.

Sources → landing → raw → dbt (staging, canonical, reconciliation, marts) → checks. Locally the
warehouse is one DuckDB file that only one process may write, so steps run in-process, one after
another; in production (Snowflake) the multiprocess executor with a `warehouse_writer` pool takes over.
"""

from __future__ import annotations

from dagster import Definitions, define_asset_job, in_process_executor, multiprocess_executor

from . import settings as fb_settings
from .defs import ingest, transform
from .defs.resources import build_resources

_settings = fb_settings.load()

everything = define_asset_job("ingest_and_build", selection="*",
                              description="Pull and load every new file, then build every dbt model.")

defs = Definitions(
    assets=[*ingest.landing_specs, *ingest.landing_assets, *ingest.raw_assets, transform.dbt_models],
    jobs=[everything],
    resources=build_resources(_settings),
    executor=in_process_executor if _settings.env != "prod" else multiprocess_executor,
)
