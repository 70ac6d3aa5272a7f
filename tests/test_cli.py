"""The command line as a person meets it: readable stages, a log file, one-line errors, and dbt found
without a virtual environment on PATH."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from dagster import (
    AssetMaterialization,
    BackfillPolicy,
    DagsterInstance,
    DailyPartitionsDefinition,
    Definitions,
    MaterializeResult,
    asset,
    define_asset_job,
)

from foodbank_platform import dbt_runtime
from foodbank_platform.console import RunConsole

REPO = Path(__file__).resolve().parents[1]
FOODBANK = Path(sys.executable).with_name("foodbank")
# What a newcomer's shell has: no virtual environment, nothing exported.
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"


# ------------------------------------------------------------------ stages and outcomes of a run


@asset(key=["landing", "feed"])
def landing_feed() -> MaterializeResult:
    return MaterializeResult(metadata={"files_pulled": 2})


@asset(key=["raw", "feed"], deps=[landing_feed])
def raw_feed() -> MaterializeResult:
    return MaterializeResult(
        metadata={
            "files_loaded": 3,
            "rows_loaded": 10,
            "rows_quarantined": 1,
            "files_failed": 0,
            "files_redelivered": 4,
        }
    )


@asset(key=["canonical", "broken"], deps=[raw_feed])
def canonical_broken() -> None:
    raise ValueError("the books do not balance\nsecond line of the story")


DAYS = DailyPartitionsDefinition(start_date="2026-10-29")
# A stand-in for the finance step: it records marts/finance_close once per day with the day's status,
# as defs/assets/dbt.py does, the first day held by a roll-forward break.
CLOSE = {"2026-10-29": ("held", "roll_forward_break 1 (holds the day)"), "2026-10-30": ("published", "")}


@asset(
    key=["marts", "finance_close"],
    partitions_def=DAYS,
    backfill_policy=BackfillPolicy.single_run(),
    output_required=False,  # as dbt's outputs: the per-day materializations stand for it
)
def finance_close(context):
    for day in context.partition_keys:
        status, exceptions = CLOSE[day]
        yield AssetMaterialization(
            asset_key=context.asset_key, partition=day, metadata={"status": status, "exceptions": exceptions}
        )


DEFS = Definitions(
    assets=[landing_feed, raw_feed, canonical_broken, finance_close],
    jobs=[
        define_asset_job("ingest", selection=[landing_feed, raw_feed, canonical_broken]),
        define_asset_job("close", selection=[finance_close], partitions_def=DAYS),
    ],
)


def _execute(tmp_path: Path, job_name: str, days: list[str] = ()):
    terminal = io.StringIO()
    log = tmp_path / "logs" / "run.log"
    tags = (
        {"dagster/asset_partition_range_start": days[0], "dagster/asset_partition_range_end": days[-1]} if days else {}
    )
    with DagsterInstance.ephemeral() as instance, RunConsole(log, terminal=terminal) as out:
        outcome = out.execute(DEFS.resolve_job_def(job_name), instance, tags, f"job {job_name}", days)
    return outcome, terminal.getvalue(), log.read_text()


def test_a_failed_step_is_named_with_its_first_error_line_and_the_traceback_goes_to_the_log(tmp_path):
    outcome, shown, log = _execute(tmp_path, "ingest")
    assert outcome.status == "failed"
    assert outcome.failure == "canonical__broken: ValueError: the books do not balance"
    assert "FAILED at step canonical__broken: ValueError: the books do not balance" in shown
    assert "second line of the story" not in shown and "Traceback" not in shown
    assert "second line of the story" in log and "STEP_FAILURE" in log
    # the stages before the failure, with the figures the raw assets reported
    assert re.search(r"pull .*2 new file\(s\) copied", shown)
    assert re.search(r"load .*3 new file\(s\), 10 rows, 1 quarantined, 0 failed file\(s\); 4 re-delivered", shown)
    assert "dbt     0/1" in shown
    assert f"full log: {tmp_path / 'logs' / 'run.log'}" in shown
    assert "DEBUG" not in shown


def test_a_held_day_is_a_hold_named_with_its_reason_not_a_failure(tmp_path):
    outcome, shown, _ = _execute(tmp_path, "close", list(CLOSE))
    assert outcome.status == "held" and outcome.failure is None and outcome.held_days == ["2026-10-29"]
    assert "→ HELD" in shown
    assert "close   2026-10-29  held: roll_forward_break 1 (holds the day)" in shown
    assert "close   2026-10-30  published  (built" in shown
    assert "finance close held 1 day(s): 2026-10-29" in shown
    assert "FAILED" not in shown


# ------------------------------------------------------------------ the warehouse lock


def test_a_locked_warehouse_is_one_line_naming_the_file_and_the_holder(tmp_path):
    db = tmp_path / "home" / "warehouse.duckdb"
    db.parent.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)",
            str(db),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        env = {"HOME": os.environ.get("HOME", "/root"), "PATH": BARE_PATH, "FOODBANK_HOME": str(db.parent)}
        done = subprocess.run([str(FOODBANK), "run"], env=env, capture_output=True, text=True, timeout=120)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(db) in lines[0] and f"PID {holder.pid}" in lines[0] and "Traceback" not in done.stderr


# ------------------------------------------------------------------ the UI on the demo's instance


def test_dev_opens_the_instance_run_and_demo_write_to_with_productions_limits(tmp_path, monkeypatch):
    """`foodbank dev` (make dev) in a bare shell: this environment's `dagster dev`, on $FOODBANK_HOME's
    Dagster instance, whose pools and run queue are production's (deploy/dagster.yaml)."""
    home = tmp_path / "home"
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": BARE_PATH, "FOODBANK_HOME": str(home)}
    done = subprocess.run([str(FOODBANK), "dev", "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"Dagster instance: {home / 'dagster'}" in done.stdout
    assert "Usage: dagster dev" in done.stdout  # exec'd the environment's dagster with the extra argument

    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    with DagsterInstance.get() as instance:
        config = instance.get_concurrency_config()
    production = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())["concurrency"]
    assert config.pool_config.default_pool_limit == production["pools"]["default_limit"] == 1
    nightly = {"key": "foodbank/path", "value": "nightly", "limit": 1}
    assert nightly in config.run_queue_config.tag_concurrency_limits
    assert nightly in production["runs"]["tag_concurrency_limits"]
    assert config.run_queue_config.max_concurrent_runs == 1  # one DuckDB writer process locally


# ------------------------------------------------------------------ dbt without PATH


def test_the_manifest_is_an_explicit_step_with_this_environments_dbt(tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    monkeypatch.setattr(dbt_runtime, "DBT_PROJECT_DIR", project)
    monkeypatch.setenv("FOODBANK_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    monkeypatch.delenv("DAGSTER_IS_DEV_CLI", raising=False)
    # Reading the manifest never runs a program: without one, it says which step makes it.
    with pytest.raises(dbt_runtime.ManifestMissing, match="make manifest"):
        dbt_runtime.manifest_path()
    assert not (project / "target").exists()
    # The step finds dbt beside this interpreter, with no dbt on PATH at all.
    monkeypatch.setenv("PATH", BARE_PATH)
    assert shutil.which("dbt") is None or not shutil.which("dbt").startswith(str(Path(sys.executable).parent))
    path, _ = dbt_runtime.prepare_manifest()
    assert path == project / "target" / "manifest.json" and path.stat().st_size > 0
    assert dbt_runtime.manifest_path() == path


# ------------------------------------------------------------------ the demo, twice, as typed


@pytest.mark.slow
def test_the_demo_twice_in_a_bare_shell_is_short_readable_and_says_what_it_reused(tmp_path):
    env = {"HOME": os.environ.get("HOME", "/root"), "PATH": BARE_PATH, "FOODBANK_HOME": str(tmp_path / "home")}
    runs = []
    for _ in range(2):
        started = time.perf_counter()
        done = subprocess.run(
            [str(FOODBANK), "demo", "--days", "2", "--scale", "0.005"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
        )
        runs.append((done, time.perf_counter() - started))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for done, _ in runs:
        lines = (done.stdout + done.stderr).splitlines()
        assert len(lines) < 150
        assert not [line for line in lines if " - DEBUG - " in line or "Warning" in line or "dbt=" in line]
        for stage in (
            "1/3 simulating",
            "  pull ",
            "  load ",
            "  dbt ",
            "  checks ",
            "  close   2026-10-29  published",
            "finance close by day:",
            "3/3 summary",
        ):
            assert any(line.startswith(stage) for line in lines), stage
        log = Path(re.search(r"full log: (\S+)", done.stdout).group(1))
        assert "Running with dbt=" in log.read_text() and "RUN_SUCCESS" in log.read_text()
    first, second = runs[0][0].stdout, runs[1][0].stdout
    assert "reusing" not in first and re.search(r"load .* [1-9][\d,]* rows", first)
    assert "reusing" in second and "already holds" in second
    assert re.search(r"load .* 0 new file\(s\), 0 rows", second)
    # nothing doubled: the second summary counts the same rows in raw and canonical as the first
    counts = [re.findall(r"^  ((?:raw|canonical)\.\w+) +([\d,]+)$", out, re.M) for out in (first, second)]
    assert len(counts[0]) >= 15 and counts[0] == counts[1]
