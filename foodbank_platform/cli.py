"""The `foodbank` command: simulate source activity, run the platform, or both as a demo.

`foodbank run` goes through Dagster (the same jobs the UI and schedules run), with the runs stored
in `$DAGSTER_HOME` (default `$FOODBANK_HOME/dagster`) so `make dev` shows them afterwards. What it
prints is `console.py`'s; Dagster and dbt are imported only by the commands that need them, so
`foodbank --help` and `simulate` start fast.
"""

from __future__ import annotations

import os
import sys
import sysconfig
import time
from datetime import date
from pathlib import Path

import click

from . import settings as fb_settings
from . import warehouse as fb_warehouse

# The local instance keeps production's limits (deploy/dagster.yaml): one writer op at a time in the
# `warehouse_writer` pool and one nightly close at a time, so the UI's runs queue instead of fighting
# over DuckDB's single writer. Locally also one run at a time: a DuckDB file takes one writing process.
LOCAL_INSTANCE = """\
# Written by `foodbank` (cli.py, LOCAL_INSTANCE) when missing: the instance `foodbank run`, `demo` and `dev` share.
concurrency:
  pools:
    default_limit: 1
    granularity: op
  runs:
    max_concurrent_runs: 1
    tag_concurrency_limits:
      - key: foodbank/path
        value: nightly
        limit: 1
telemetry:
  enabled: false
"""


def _dagster_home(s: fb_settings.Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or s.home / "dagster")
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    cfg = home / "dagster.yaml"
    if not cfg.exists():
        cfg.write_text(LOCAL_INSTANCE)
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
def simulate(
    start: str, days: int, scale: float, seed: int, cdc_file_seconds: int | None, postgres_dsn: str | None
) -> None:
    """Generate deterministic source activity for all six systems."""
    s = fb_settings.load()
    started = time.perf_counter()
    manifest = _simulate(s, date.fromisoformat(start), days, scale, seed, cdc_file_seconds, postgres_dsn)
    click.echo(
        f"simulated {days} day(s) at scale {scale} in {time.perf_counter() - started:.1f}s "
        f"-> manifest {s.home / 'manifest.json'}"
    )
    del manifest


def _simulate(s, start, days, scale, seed, cdc_file_seconds, postgres_dsn=None):
    from .simulator import SimulationConfig
    from .simulator import simulate as run_simulation

    if postgres_dsn:
        from .simulator.postgres import simulate_to_postgres

        # The SFTP feeds are not PostgreSQL systems: still files, where a local SFTP root is configured.
        sftp_root = None if s.sftp_uri.startswith("sftp://") else fb_settings.uri_to_path(s.sftp_uri)
        return simulate_to_postgres(
            postgres_dsn,
            start_date=start,
            days=days,
            scale=scale,
            seed=seed,
            sftp_root=sftp_root,
            manifest_path=s.home / "manifest.json",
        )
    from .services import simulation_folders, upload_landing

    landing_root, sftp_root = simulation_folders(s)  # the stand-ins' folders when the URIs name them
    config = SimulationConfig(
        landing_root=landing_root,
        sftp_root=sftp_root,
        manifest_path=s.home / "manifest.json",
        start_date=start,
        days=days,
        scale=scale,
        seed=seed,
        **({"cdc_file_seconds": cdc_file_seconds} if cdc_file_seconds else {}),
    )
    manifest = run_simulation(config)
    if s.landing_uri.startswith("s3://"):
        upload_landing(landing_root, s.landing_uri)
    return manifest


@main.command()
@click.option(
    "--nightly/--no-nightly",
    default=True,
    show_default=True,
    help="Also close every business day the data covers (reconciliation and finance partitions).",
)
@click.option("--verbose", is_flag=True, help="Stream Dagster's event log and dbt's output here too.")
def run(nightly: bool, verbose: bool) -> None:
    """Ingest and build everything that is new, through Dagster (exit 0 ok, 1 failed, 3 a finance day held)."""
    from .console import RunConsole, log_file

    s = fb_settings.load()
    _check_warehouse_free(s)
    started = time.perf_counter()
    with RunConsole(log_file(s.home, "run"), verbose) as out:
        status = _run(out, s, nightly)
        out.say(f"run {status.upper()} in {time.perf_counter() - started:.1f}s; full log: {out.log_path}")
    sys.exit({"ok": 0, "failed": 1, "held": 3}[status])


def _check_warehouse_free(s: fb_settings.Settings) -> None:
    holder = fb_warehouse.lock_holder(s.duckdb_path) if s.warehouse == "duckdb" else None
    if holder:
        raise click.ClickException(f"the warehouse {s.duckdb_path} is locked by {holder}; stop it or wait for it")


def _run(out, s: fb_settings.Settings, nightly: bool = True) -> str:
    """The 10-minute path (pull, load, staging, canonical, operations marts), then the nightly close
    over the business days present, as one single-run backfill of the daily partitions.

    Returns "ok", "held" (the runs succeeded and the finance close held at least one day, which is
    the platform doing its job) or "failed"."""
    _dagster_home(s)
    from dagster import DagsterInstance

    from . import report

    with out.step("loading the code location (Dagster definitions, dbt manifest)"):
        from .definitions import defs

    with DagsterInstance.get() as instance:
        outcome = out.execute(
            defs.resolve_job_def("operations_refresh"), instance, {}, "10-minute path: pull → load → dbt → checks"
        )
        status = outcome.status
        days = report.business_days(s) if status != "failed" and nightly else []
        before = [d for d in days if d < s.first_business_day.isoformat()]
        if before:
            out.say(
                f"not closing {len(before)} day(s) before FOODBANK_FIRST_BUSINESS_DAY="
                f"{s.first_business_day} ({before[0]} … {before[-1]}): the platform closes from there on"
            )
            days = days[len(before) :]
        if days:
            tags = {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]}
            close = out.execute(
                defs.resolve_job_def("nightly_close"),
                instance,
                tags,
                f"nightly close of {len(days)} business day(s), {days[0]} … {days[-1]}",
                days,
            )
            status = close.status if close.status != "ok" else status
    return status


@main.command()
@click.option(
    "--dsn",
    required=True,
    envvar="FOODBANK_CDC_DSN",
    show_envvar=True,
    help="libpq DSN of the source database; a password belongs in PGPASSWORD or ~/.pgpass.",
)
@click.option("--slot", default="foodbank", show_default=True, help="Logical replication slot (created if missing).")
@click.option("--publication", default="foodbank", show_default=True, help="Publication (created if missing).")
@click.option("--file-seconds", default=60.0, show_default=True, help="One CDC file per table this often.")
@click.option("--stop-after", default=None, type=float, help="Stop after SECONDS (default: until Ctrl-C).")
def cdc(dsn: str, slot: str, publication: str, file_seconds: float, stop_after: float | None) -> None:
    """Capture PostgreSQL changes into DMS files in the landing zone (the local stand-in for AWS DMS)."""
    import signal
    import threading

    from .cdc.capture import run_capture
    from .landing.uri import open_store

    s = fb_settings.load()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):  # finish the open files and acknowledge, then exit
        signal.signal(sig, lambda *_: stop.set())
    click.echo(
        f"capturing slot {slot} (publication {publication}) into {s.landing_uri} every {file_seconds:g}s; Ctrl-C stops"
    )
    report = run_capture(
        dsn,
        slot=slot,
        publication=publication,
        store=open_store(s.landing_uri),
        file_seconds=file_seconds,
        stop_after=stop_after,
        stop=stop,
    )
    click.echo(
        f"full load rows: {sum(report.full_load_rows.values())}, change rows: "
        f"{sum(report.change_rows.values())}, files: {len(report.files)}, "
        f"acknowledged up to LSN {report.acknowledged_lsn:X}"
    )


@main.command()
@click.option("--days", default=7, show_default=True)
@click.option("--scale", default=0.02, show_default=True)
@click.option("--seed", default=42, show_default=True)
@click.option("--verbose", is_flag=True, help="Stream Dagster's event log and dbt's output here too.")
def demo(days: int, scale: float, seed: int, verbose: bool) -> None:
    """Simulate a week at small scale, run the platform, print a summary."""
    from .console import RunConsole, log_file

    s = fb_settings.load()
    _check_warehouse_free(s)
    started = time.perf_counter()
    with RunConsole(log_file(s.home, "demo"), verbose) as out:
        reused = _reused(s)
        if reused:
            out.say(f"reusing {s.home}: {reused}")
        with out.step(f"1/3 simulating {days} days at scale {scale} (seed {seed}) into {s.home}"):
            _simulate(s, date(2026, 10, 29), days, scale, seed, None)
        out.say("2/3 running the platform through Dagster (landing → raw → dbt)")
        status = _run(out, s)
        out.say("3/3 summary")
        from . import report

        out.say(report.summary(s))
        where = s.duckdb_path if s.warehouse == "duckdb" else f"Snowflake {s.snowflake.database}"
        out.say(f"demo {status.upper()} in {time.perf_counter() - started:.1f}s; warehouse: {where}")
    # A held day is a possible outcome on simulated data full of injected defects, not a demo failure.
    sys.exit(1 if status == "failed" else 0)


def _reused(s: fb_settings.Settings) -> str | None:
    """What an earlier demo left that this one builds on (the same seed re-delivers identical files)."""
    from . import report

    files = report.files_in_ledger(s)
    if files is None:
        return None
    return (
        f"the warehouse already holds {files:,} landed file(s); the same seed delivers the same files, "
        f"which the ledger recognises (nothing loads twice), and dbt builds on what is there"
    )


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False)
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """The Dagster UI and daemon (`dagster dev`) on the instance `run` and `demo` write to (`make dev`).

    Every argument goes to `dagster dev` (`-p 3001`; `--help` is dagster dev's)."""
    home = _dagster_home(fb_settings.load())
    exe = Path(sysconfig.get_path("scripts")) / "dagster"  # this environment's, never PATH's
    click.echo(f"Dagster instance: {home}")
    os.execv(exe, [str(exe), "dev", "-m", "foodbank_platform.definitions", *dagster_args])


@main.command()
@click.option("--port", default=8580, show_default=True, help="Where to serve (FOODBANK_DBT_DOCS_URL's port).")
@click.option("--no-serve", is_flag=True, help="Only generate the site into dbt_project/target/.")
def docs(port: int, no_serve: bool) -> None:
    """Generate the dbt docs of the warehouse and serve them: the `dbt_docs` links of the Dagster UI."""
    import subprocess

    from .dbt_runtime import DBT_PROJECT_DIR, dbt_env, dbt_executable

    s = fb_settings.load()
    _check_warehouse_free(s)
    env = {**os.environ, **dbt_env(s)}  # the warehouse profiles.yml reads
    base = [dbt_executable(), "--quiet", "docs"]
    where = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR), "--target", s.dbt_target]
    subprocess.run([*base, "generate", *where], check=True, env=env)
    click.echo(f"dbt docs: {DBT_PROJECT_DIR / 'target' / 'index.html'}")
    if not no_serve:
        click.echo(f"serving on http://127.0.0.1:{port} (Ctrl-C stops)")
        subprocess.run([*base, "serve", "--port", str(port), "--host", "127.0.0.1", "--no-browser", *where], env=env)


@main.command()
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--limit", default=20, show_default=True, help="Exceptions listed (all are in marts.finance_exceptions).")
def close(day, limit: int) -> None:
    """The finance close of business DAY (YYYY-MM-DD): status, findings, roll-forward, exceptions."""
    from . import closing
    from . import query as fb_query
    from .snowflake_warehouse import SnowflakeUnreachable

    s = fb_settings.load()
    day = day.date()
    holder = fb_warehouse.lock_holder(s.duckdb_path) if s.warehouse == "duckdb" else None
    if holder:
        raise click.ClickException(
            f"the warehouse {s.duckdb_path} is being written by {holder}; try again when it ends"
        )
    try:
        con = fb_query.connect(s)
    except (FileNotFoundError, SnowflakeUnreachable) as e:
        raise click.ClickException(str(e)) from e
    try:
        found = closing.close_day(con, day)
        if found is None:
            raise click.ClickException(f"{day} has not been closed (no row in marts.finance_close)")
        click.echo(
            f"finance close {day}: {found.status}"
            + (
                f" (publication {found.publication_version}, run {found.published_by_run})"
                if found.publication_version
                else ""
            )
        )
        if found.is_restated:
            click.echo(f"  restated by run {found.restated_by_run}:")
            for name, before in found.previous.items():
                click.echo(f"    {name:<18} {before or 0:>16,.2f} → {found.current[name] or 0:>16,.2f}")
        rows = closing.exceptions(con, day)
        click.echo("findings:" + ("" if rows else " none"))
        for (rule, effect), (n, lbs, usd) in closing.by_rule(rows).items():
            click.echo(f"  {rule:<38} {n:>5}  {closing.EFFECTS[effect]:<18} {lbs:>14,.2f} lb  ${usd:>14,.2f}")
        click.echo(f"roll-forward {day}:")
        click.echo(closing.rollforward_text(closing.roll_forward(con, day, day)))
        click.echo(f"roll-forward {closing.month_start(day)} … {day} (month to date):")
        click.echo(closing.rollforward_text(closing.roll_forward(con, closing.month_start(day), day)))
        if rows:
            click.echo(f"exceptions ({min(limit, len(rows))} of {len(rows)}):")
            for rule, effect, subject, detail, cases, lbs, usd in rows[:limit]:
                click.echo(f"  {rule:<38} {subject:<36} {detail[:40]:<40} {float(lbs or 0):>12,.2f} lb")
    finally:
        con.close()


@main.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def sql(query: str, fmt: str) -> None:
    """Run a read-only QUERY on the configured warehouse (FOODBANK_WAREHOUSE: the DuckDB file or Snowflake)."""
    from . import query as fb_query

    s = fb_settings.load()
    try:
        columns, rows = fb_query.run(s, query)
    except FileNotFoundError as e:
        raise click.ClickException(str(e)) from e
    except Exception as e:  # the warehouse's own message (syntax, missing table, lock, login) is the answer
        raise click.ClickException(f"{type(e).__name__}: {e}") from e
    click.echo(fb_query.render(columns, rows, fmt))


@main.command()
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the export lines (default: $FOODBANK_HOME/services.env).",
)
def services(env_file: Path | None) -> None:
    """Local stand-ins on loopback: S3 (moto), the Snowflake emulator (migrated), SFTP; until Ctrl-C/SIGTERM."""
    from . import services as fb_services

    s = fb_settings.load()
    try:
        fb_services.run_services(s, (env_file or s.home / "services.env").resolve(), say=click.echo)
    except ImportError as e:
        raise click.ClickException(f"{e}: the stand-ins need the test extra (pip install -e '.[test]')") from e


@main.command()
def manifest() -> None:
    """Parse the dbt project into the manifest the Dagster code location loads (`make manifest`)."""
    from .dbt_runtime import prepare_manifest

    path, seconds = prepare_manifest()
    click.echo(f"dbt manifest: {path} (parsed in {seconds:.1f}s)")


if __name__ == "__main__":
    main()
