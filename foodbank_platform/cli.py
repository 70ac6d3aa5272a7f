"""The `foodbank` command: simulate source activity, run the platform, or both as a demo.

`foodbank run` goes through Dagster (the same job the UI and schedules run), with the run stored
in `$DAGSTER_HOME` (default `$FOODBANK_HOME/dagster`) so `make dev` shows it afterwards.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

import click

from . import settings as fb_settings


def _dagster_home(s: fb_settings.Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or s.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text("telemetry:\n  enabled: false\n")
    return home


@click.group()
def main() -> None:
    """foodbank_platform: one trusted reporting layer for the food bank."""


@main.command()
@click.option("--start", "start", default="2026-10-29", show_default=True, help="First business date (YYYY-MM-DD).")
@click.option("--days", default=7, show_default=True)
@click.option("--scale", default=0.02, show_default=True, help="1.0 = the brief's production volumes.")
@click.option("--seed", default=42, show_default=True)
@click.option("--cdc-file-seconds", default=None, type=int, help="DMS CDC file interval (default: by scale).")
@click.option("--postgres", "postgres_dsn", default=None, help="Write the activity into PostgreSQL instead of files.")
def simulate(start: str, days: int, scale: float, seed: int, cdc_file_seconds: int | None,
             postgres_dsn: str | None) -> None:
    """Generate deterministic source activity for all six systems."""
    s = fb_settings.load()
    started = time.perf_counter()
    manifest = _simulate(s, date.fromisoformat(start), days, scale, seed, cdc_file_seconds, postgres_dsn)
    click.echo(f"simulated {days} day(s) at scale {scale} in {time.perf_counter() - started:.1f}s "
               f"-> manifest {s.home / 'manifest.json'}")
    del manifest


def _simulate(s, start, days, scale, seed, cdc_file_seconds, postgres_dsn=None):
    from .simulator import SimulationConfig, simulate as run_simulation

    if postgres_dsn:
        from .simulator.postgres import simulate_to_postgres

        return simulate_to_postgres(postgres_dsn, start_date=start, days=days, scale=scale, seed=seed)
    config = SimulationConfig(
        landing_root=fb_settings.uri_to_path(s.landing_uri),
        sftp_root=fb_settings.uri_to_path(s.sftp_uri),
        manifest_path=s.home / "manifest.json",
        start_date=start, days=days, scale=scale, seed=seed,
        **({"cdc_file_seconds": cdc_file_seconds} if cdc_file_seconds else {}),
    )
    return run_simulation(config)


@main.command()
@click.option("--select", "selection", default="*", show_default=True, help="Dagster asset selection.")
def run(selection: str) -> None:
    """Ingest and build everything that is new, through Dagster."""
    ok = _run(selection)
    sys.exit(0 if ok else 1)


def _run(selection: str = "*") -> bool:
    s = fb_settings.load()
    _dagster_home(s)
    from dagster import DagsterInstance

    from .definitions import defs

    job = defs.get_implicit_global_asset_job_def()
    started = time.perf_counter()
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        asset_selection=_parse_selection(defs, selection))
    click.echo(f"run {result.run_id}: {'succeeded' if result.success else 'FAILED'} "
               f"in {time.perf_counter() - started:.1f}s")
    return result.success


def _parse_selection(defs, selection: str):
    from dagster import AssetSelection

    if selection == "*":
        return None
    return list(AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph()))


@main.command()
@click.option("--days", default=7, show_default=True)
@click.option("--scale", default=0.02, show_default=True)
@click.option("--seed", default=42, show_default=True)
def demo(days: int, scale: float, seed: int) -> None:
    """Simulate a week at small scale, run the platform, print a summary."""
    s = fb_settings.load()
    started = time.perf_counter()
    click.echo(f"1/3 simulating {days} days at scale {scale} into {s.home}")
    _simulate(s, date(2026, 10, 29), days, scale, seed, None)
    click.echo("2/3 running the platform through Dagster (landing → raw → dbt)")
    ok = _run("*")
    click.echo("3/3 summary")
    from .report import summary

    click.echo(summary(s.duckdb_path))
    click.echo(f"demo finished in {time.perf_counter() - started:.1f}s; warehouse: {s.duckdb_path}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
