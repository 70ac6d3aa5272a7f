"""The Snowflake path on the local stand-ins: the raw load rate next to DuckDB's, and freshness.

    python benchmarks/snowflake_path.py [--days 2] [--scale 0.02] [--rounds 2] [--workdir DIR]

1. Raw load rate (rows/s): the same simulated landing files (local folder) loaded by the platform's loader
   (`load_new_files`: ledger, checksums, typing, quarantine, lineage, one reader for both warehouses) into a
   fresh DuckDB file, and into a fresh database on the Snowflake emulator (fakesnow, the migrations applied;
   `SnowflakeTarget`: typed Parquet, PUT to the internal stage, COPY INTO raw, quarantine and ledger in one
   transaction per batch). Interleaved rounds, medians.
2. Freshness on the stand-ins (`foodbank services`: S3 API server, SFTP server, Snowflake emulator): after
   `foodbank simulate` and a first `foodbank run --no-nightly`, one new DMS change file (one committed
   inventory transaction) lands in the S3 bucket; then one operations run (`foodbank run --no-nightly`, the
   10-minute path: pull, load, dbt, checks) and the row is looked up in canonical.inventory_events. Prints
   landing -> canonical (the run, with the code location's start) and the run's steps as it reports them.
   What production adds: DMS's file interval (CDC commit -> S3 file, up to 60 s) and the files sensor's
   interval (60 s) before the run starts.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OURS = ("FOODBANK_", "SNOWFLAKE_", "AWS_", "DAGSTER_")
FRESH_TXN_ID = "990000001"


def _rows(report) -> int:
    return report.rows_loaded + report.rows_quarantined


def load_duckdb(landing: Path, path: Path) -> tuple[int, float]:
    from foodbank_platform import warehouse
    from foodbank_platform.ingest.loader import load_new_files
    from foodbank_platform.landing.store import LocalStore

    con = warehouse.connect(str(path))
    try:
        started = time.perf_counter()
        report = load_new_files(LocalStore(landing), con)
        return _rows(report), time.perf_counter() - started
    finally:
        con.close()


def load_snowflake(landing: Path, port: int, database: str) -> tuple[int, float]:
    from foodbank_platform import services, settings
    from foodbank_platform.ingest.loader import load_new_files
    from foodbank_platform.ingest.snowflake_load import SnowflakeTarget
    from foodbank_platform.landing.store import LocalStore

    env = services.snowflake_env(port, database)
    services.apply_migrations(env)  # a fresh database: raw, audit, the stage (not timed)
    s = settings.load(env)
    started = time.perf_counter()
    report = load_new_files(LocalStore(landing), SnowflakeTarget(s.snowflake))
    return _rows(report), time.perf_counter() - started


def load_rates(work: Path, days: int, scale: float, rounds: int) -> None:
    import logging

    from foodbank_platform import services
    from foodbank_platform.simulator import SimulationConfig, simulate

    sim = work / "simulation"
    simulate(SimulationConfig.in_folder(sim, start_date=date(2026, 10, 29), days=days, scale=scale, seed=42))
    files = sum(1 for p in (sim / "landing").rglob("*") if p.is_file())
    print(f"raw load: {days} day(s) at scale {scale}, {files} landing files (DMS; SFTP drops not pulled)")
    emulator = services.start_snowflake()
    logging.getLogger("fakesnow").setLevel(logging.WARNING)
    duck, snow = [], []
    try:
        for i in range(rounds):
            duck.append(load_duckdb(sim / "landing", work / f"round{i}.duckdb"))
            snow.append(load_snowflake(sim / "landing", emulator.port, f"BENCH{i}"))
    finally:
        emulator.stop()
    (duck_rows, _), (snow_rows, _) = duck[0], snow[0]
    assert duck_rows == snow_rows, (duck_rows, snow_rows)
    d = statistics.median(s for _, s in duck)
    f = statistics.median(s for _, s in snow)
    print(f"  DuckDB path              {duck_rows:>9,} rows in {d:6.1f} s  {duck_rows / d:>9,.0f} rows/s")
    print(f"  Snowflake path (fakesnow) {snow_rows:>8,} rows in {f:6.1f} s  {snow_rows / f:>9,.0f} rows/s")
    print(f"  ratio Snowflake/DuckDB: {d / f:.2f}  (median of {rounds} round(s): {[round(s, 1) for _, s in snow]} s)")


# --- freshness on the stand-ins ---------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(OURS)}, **extra}


def _foodbank(env: dict[str, str], *args: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "foodbank_platform.cli", *args],
        env=_env(**env),
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if done.returncode not in (0, 3):
        raise RuntimeError(
            f"foodbank {' '.join(args)} exited {done.returncode}:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
        )
    return done, time.perf_counter() - started


def _change_file(landing_folder: Path) -> tuple[str, bytes]:
    """One more DMS change file after the simulation's last inventory transactions file: the first row of
    that file as a new transaction (a new txn_id, committed 30 s after the last file's last commit)."""
    folder = landing_folder / "dms" / "wms" / "wms" / "inventory_transactions"
    last = sorted(p for p in folder.rglob("2*.csv"))[-1]
    rows = list(csv.reader(io.StringIO(last.read_text())))
    header, first, final = rows[0], rows[1], rows[-1]
    row = dict(zip(header, first))
    committed = datetime.fromisoformat(final[header.index("dms_commit_ts")]) + timedelta(seconds=30)
    new_commit = committed.isoformat(sep=" ")
    row.update(txn_id=FRESH_TXN_ID, dms_commit_ts=new_commit, updated_at=new_commit)
    row["dms_change_seq"] = str(int(final[header.index("dms_change_seq")]) + 1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerow([row[h] for h in header])
    name = committed.strftime("%Y%m%d-%H%M%S") + f"{committed.microsecond // 1000:03d}.csv"
    key = last.relative_to(landing_folder).parent.parent.parent.parent / committed.strftime("%Y/%m/%d") / name
    return str(key), out.getvalue().encode()


def freshness(work: Path, days: int, scale: float) -> None:
    import boto3

    from foodbank_platform import query, services, settings

    with services.in_background(work / "stand_ins", _env()) as env:
        _foodbank(env, "simulate", "--days", str(days), "--scale", str(scale))
        _, first = _foodbank(env, "run", "--no-nightly")
        print(f"freshness on the stand-ins ({days} day(s) at scale {scale} loaded first: {first:.1f} s)")
        key, body = _change_file(work / "stand_ins" / "simulated-landing")
        s = settings.load(env)
        s3 = boto3.client(
            "s3",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_DEFAULT_REGION"],
        )
        landed = time.perf_counter()
        s3.put_object(Bucket=services.s3_bucket_of(s.landing_uri), Key=key, Body=body)
        done, _ = _foodbank(env, "run", "--no-nightly")
        con = query.connect(s)
        try:
            cur = con.cursor()
            cur.execute(
                "SELECT count(*) FROM canonical.inventory_events "
                f"WHERE source_system = 'wms' AND source_record_id = '{FRESH_TXN_ID}'"
            )
            (found,) = cur.fetchone()
        finally:
            con.close()
        in_canonical = time.perf_counter() - landed
        if not found:
            raise RuntimeError(f"transaction {FRESH_TXN_ID} is not in canonical.inventory_events:\n{done.stdout}")
        print(f"  landing -> canonical.inventory_events: {in_canonical:.1f} s (one `foodbank run --no-nightly`)")
        for line in done.stdout.splitlines():
            if line.startswith("  ") or "run OK" in line:
                print(f"    {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--scale", type=float, default=0.02)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-freshness", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="foodbank-snowflake-path-", dir=args.workdir) as tmp:
        work = Path(tmp)
        if not args.skip_load:
            load_rates(work, args.days, args.scale, args.rounds)
        if not args.skip_freshness:
            freshness(work, args.days, args.scale)


if __name__ == "__main__":
    main()
