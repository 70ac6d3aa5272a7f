"""What the 10-minute path costs with N days of history in the warehouse: seconds, peak memory, dbt's time by model.

    python benchmarks/cycle.py --history-days N [--scale 1.0] [--simulated-days 7] [--workdir DIR] [--skip-first-build]
        [--slice-days 30]

1. The simulator writes min(N, --simulated-days) + 1 days of all six systems from START (seed 7) into
   <workdir>/source; its manifest says when each file is delivered.
2. The history: every file delivered before 10:00 Pacific of the last simulated day goes into the
   platform's landing and SFTP folders (its own FOODBANK_HOME, <workdir>/home). When N is more than the
   simulated days, the days before them are synthesised (`history.py`): the simulated days, loaded by the
   platform's loader into a template warehouse, are copied back in time straight into raw and the ledger.
3. The first build: `operations_refresh` (pull, load, dbt staging, canonical and operations marts, their
   checks) as `new_files_sensor` asks for it (its assets and checks), executed in process. With
   --skip-first-build (long histories, whose first build is not a target), the history's files are
   pulled and loaded by the platform's loader alone and step 4 builds everything.
4. The history gets the load times it would have in production (`age_history`: else all of it would sit
   inside the incremental models' reprocessing overlap, as only the hour after a backfill does), and is
   built again the way a platform that ran through it did (`build_in_load_order`, not timed): raw's rows
   arrive --slice-days at a time, each slice followed by an incremental dbt build. Then a cycle with the
   next 10 minutes of files (DMS CDC and SFTP drops delivered 10:00-10:10), a cycle with no new file,
   and the nightly close of the last simulated day (`nightly_close`, one partition).
Each run is a process of its own, as a Dagster run is; its peak memory is the highest sum of the resident
memory of it and its children (dbt), sampled every 0.1 s. dbt's time by model is from run_results.json
(node times; with two dbt threads they add up to more than dbt's wall time).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

START = date(2026, 11, 2)
CYCLE_AT = 10  # the 10-minute cycles run at 10:00 Pacific of the last simulated day
PAGE = os.sysconf("SC_PAGE_SIZE")

RUN = """
import json, sys, time
started = time.perf_counter()
from foodbank_platform import settings as fb_settings
from foodbank_platform.cli import _dagster_home
_dagster_home(fb_settings.load())
from dagster import DagsterInstance
from foodbank_platform.definitions import defs
from foodbank_platform.defs.sensors import files_run_request
from foodbank_platform.sources import catalog
day = sys.argv[1] if len(sys.argv) > 1 else None
if day:  # the nightly close of one business day, as the nightly schedule launches it
    job, tags = defs.resolve_job_def("nightly_close"), {"dagster/partition": day}
else:  # what new_files_sensor asks for when every table has new files: the assets and the checks it selects
    request = files_run_request({t.raw_table: [] for t in catalog.TABLES})
    job = defs.resolve_job_def("operations_refresh").get_subset(
        asset_selection=set(request.asset_selection), asset_check_selection=set(request.asset_check_keys))
    tags = request.tags
with DagsterInstance.get() as instance:
    ran = time.perf_counter()
    result = job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    finished = time.perf_counter()
    steps, began = {}, {}
    for entry in instance.all_logs(result.run_id):
        kind = entry.dagster_event.event_type_value if entry.dagster_event else None
        if kind == "STEP_START":
            began[entry.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in began:
            steps[entry.step_key] = entry.timestamp - began[entry.step_key]
print(json.dumps({"run_id": result.run_id, "success": result.success, "job_seconds": finished - ran,
                  "startup_seconds": ran - started, "steps": steps}))
"""


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants now."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
            except (OSError, ValueError):
                continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [child for child, parent in parents.items() if parent == pid and child not in tree]
    total = 0
    for pid in tree:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError):
            continue
    return total


def run_job(env: dict[str, str], close_day: str | None = None) -> dict:
    """`operations_refresh` (or with `close_day`, `nightly_close` of that business day) in a process of
    its own: its result, wall seconds and the tree's peak memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", RUN, *([close_day] if close_day else [])],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"the run process failed ({proc.returncode}):\n{err[-4000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(seconds=time.perf_counter() - started, peak_mb=peak / 2**20, dbt=_dbt_times(result["run_id"]))
    return result


def _dbt_times(run_id: str) -> dict:
    """dbt's node times of the run (run_results.json of its dbt invocations, which are then removed),
    and from each invocation's dbt.log (JSON lines) where dbt's own time went: from its first log line
    to the end of parsing ("Found … models"), to the start of the execution ("Concurrency:"), to its
    last line. What the Dagster step takes beyond the log's span is dbt's interpreter start before its
    first line and dagster-dbt's work around the command (events, row counts)."""
    from foodbank_platform.dbt_runtime import DBT_PROJECT_DIR

    nodes: dict[str, float] = {}
    elapsed, phases = 0.0, {"parse": 0.0, "to_execution": 0.0, "execution_and_after": 0.0}
    for results in (DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*/run_results.json"):
        data = json.loads(results.read_text())
        elapsed += data.get("elapsed_time", 0.0)
        for r in data["results"]:
            nodes[r["unique_id"]] = nodes.get(r["unique_id"], 0.0) + r["execution_time"]
        marks = _log_marks(results.parent / "dbt.log")
        if marks:
            phases["parse"] += marks["found"] - marks["first"]
            phases["to_execution"] += marks["concurrency"] - marks["found"]
            phases["execution_and_after"] += marks["last"] - marks["concurrency"]
        shutil.rmtree(results.parent, ignore_errors=True)
    return {"elapsed": elapsed, "nodes": nodes, "phases": phases}


def _log_marks(log: Path) -> dict[str, float] | None:
    """Epoch seconds of a dbt.log's first line, "Found …", "Concurrency: …" and last line (None if absent)."""
    marks: dict[str, float] = {}
    if not log.exists():
        return None
    for line in log.read_text().splitlines():
        try:
            info = json.loads(line)["info"]
        except (ValueError, KeyError):
            continue
        ts = datetime.fromisoformat(info["ts"].replace("Z", "+00:00")).timestamp()
        marks.setdefault("first", ts)
        marks["last"] = ts
        msg = info.get("msg", "")
        if msg.startswith("Found ") and "found" not in marks:
            marks["found"] = ts
        elif msg.startswith("Concurrency:") and "concurrency" not in marks:
            marks["concurrency"] = ts
    return marks if {"first", "found", "concurrency", "last"} <= marks.keys() else None


def _utc(day: date, hour: int) -> str:
    """`hour`:00 Pacific of `day` as the manifest writes delivery times (naive UTC)."""
    from foodbank_platform.business_day import PACIFIC

    local = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(PACIFIC))
    return local.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


def simulate_source(work: Path, days: int, scale: float) -> list[dict]:
    """`days` simulated days in <work>/source (reused when already there for the same days and scale)."""
    from foodbank_platform.simulator import SimulationConfig, simulate

    source = work / "source"
    stamp = {"days": days, "scale": scale, "start": START.isoformat()}
    if (source / "stamp.json").exists() and json.loads((source / "stamp.json").read_text()) == stamp:
        return json.loads((source / "manifest.json").read_text())["files"]
    shutil.rmtree(source, ignore_errors=True)
    t = time.perf_counter()
    manifest = simulate(SimulationConfig.in_folder(source, start_date=START, days=days, scale=scale, seed=7))
    (source / "stamp.json").write_text(json.dumps(stamp))
    print(f"simulated {days} day(s) at scale {scale} in {time.perf_counter() - t:.0f} s")
    return manifest.files


def deliver(work: Path, home: Path, files: list[dict], since: str, until: str) -> int:
    """Files the manifest delivers in [since, until) into the platform's landing and SFTP folders, a
    minute old (the SFTP feeds' readiness wants a quiet minute)."""
    targets = {"landing": home / "landing", "sftp": home / "sftp" / "outbound"}
    stamp = time.time() - 120
    count = 0
    for f in files:
        if not since <= f["delivered_at"] < until:
            continue
        src, dst = work / "source" / f["root"] / f["path"], targets[f["root"]] / f["path"]
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.unlink(missing_ok=True)
        shutil.copyfile(src, dst)
        os.utime(dst, (stamp, stamp))
        count += 1
    return count


def synthesise(work: Path, home: Path, simulated: int, history_days: int) -> dict[str, int]:
    """The days before the simulated ones (history.py), from a template warehouse that the platform's
    loader fills with the simulated days' files."""
    import history

    from foodbank_platform import warehouse
    from foodbank_platform.ingest.loader import load_new_files
    from foodbank_platform.ingest.pull import pull_feed
    from foodbank_platform.landing.store import LocalStore
    from foodbank_platform.sources import catalog
    from foodbank_platform.sources.sftp import LocalSource

    t = time.perf_counter()
    template, landing = work / "template.duckdb", work / "template_landing"
    template.unlink(missing_ok=True)
    shutil.rmtree(landing, ignore_errors=True)
    shutil.copytree(home / "landing", landing, copy_function=os.link)
    for table in catalog.sftp_tables():
        pull_feed(LocalSource(home / "sftp" / "outbound"), LocalStore(landing), table, now=time.time() + 3600)
    con = warehouse.connect(template)
    load_new_files(LocalStore(landing), con)
    con.close()
    copies = math.ceil((history_days - simulated) / simulated)
    first_day = START - timedelta(days=history_days - simulated)
    added = history.tile(template, home / "warehouse.duckdb", copies, simulated, first_day)
    print(
        f"synthesised {history_days - simulated} day(s) before {START} ({first_day} on): "
        f"{sum(added.values()):,} raw rows in {time.perf_counter() - t:.0f} s"
    )
    return added


def load_history(home: Path) -> int:
    """What the first build's pull and load steps do, without Dagster and dbt: the SFTP feeds pulled
    into landing (the pull's state recorded, so the cycles' pulls see them as taken) and every landed
    file loaded into raw. Returns the files loaded; a file that fails to load stops the benchmark."""
    from foodbank_platform import warehouse
    from foodbank_platform.ingest.loader import load_new_files
    from foodbank_platform.ingest.pull import pull_feed
    from foodbank_platform.landing.store import LocalStore
    from foodbank_platform.sources import catalog
    from foodbank_platform.sources.sftp import LocalSource

    landing = LocalStore(home / "landing")
    for table in catalog.sftp_tables():
        pull_feed(LocalSource(home / "sftp" / "outbound"), landing, table)
    con = warehouse.connect(home / "warehouse.duckdb", warehouse.duckdb_settings())
    try:
        loaded = load_new_files(landing, con)
    finally:
        con.close()
    if loaded.failed_files():
        raise RuntimeError(f"the history's files did not all load: {loaded.failed_files()[:3]}")
    return sum(len(t.files) for t in loaded.tables)


def age_history(db: Path, cutoff: str) -> None:
    """Give the history the load times it would have in production. Loaded by the first build (or the
    synthesis), every history row carries one load time, so all of it would sit inside the incremental
    models' reprocessing overlap (var reprocess_overlap_minutes) and every cycle would recompute the
    history, as only the hour after a backfill does. Here a DMS change was loaded when it was committed,
    shifted so the history's last commit (the cutoff) was loaded 10 minutes ago; the DMS full loads
    (one load generation) before the first change; an SFTP file the morning after the date in its name
    (same shift), and no later than two hours ago (also a file with no date in its name)."""
    from foodbank_platform import warehouse
    from foodbank_platform.sources import catalog

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    shift = f"INTERVAL {int((now - timedelta(minutes=10) - datetime.fromisoformat(cutoff)).total_seconds())} SECOND"
    recent = f"TIMESTAMP '{now - timedelta(hours=2):%Y-%m-%d %H:%M:%S}'"
    con = warehouse.connect(db)
    try:
        first_change = min(
            con.execute(
                f"SELECT min(dms_commit_ts) FROM raw.{t.raw_table} WHERE dms_change_seq IS NOT NULL"
            ).fetchone()[0]
            or datetime.max
            for t in catalog.dms_tables()
        )
        full_load = f"TIMESTAMP '{first_change:%Y-%m-%d %H:%M:%S}' + {shift} - INTERVAL 1 MINUTE"
        dated = r"try_strptime(replace(regexp_extract(_file, '(\d{4}-?\d{2}-?\d{2})[^/]*$', 1), '-', ''), '%Y%m%d')"
        for table in catalog.TABLES:
            loaded = (
                f"CASE WHEN dms_change_seq IS NULL THEN {full_load} ELSE dms_commit_ts + {shift} END"
                if table.is_dms
                else f"least({recent}, coalesce(CAST({dated} AS TIMESTAMP) + INTERVAL 1 DAY + {shift}, {recent}))"
            )
            con.execute(f"UPDATE raw.{table.raw_table} SET _loaded_at = {loaded}")
    finally:
        con.close()


def build_in_load_order(db: Path, env: dict[str, str], slice_days: int) -> list[tuple[str, float]]:
    """Build staging, canonical and the operations marts (dbt, no tests) as a platform that has run
    for the whole history did: raw's rows arrive in load order, `slice_days` of them at a time, each
    slice followed by an incremental build (the first a full one). One build over a year of raw would
    take what no 10-minute run ever takes (45 GB of spill seen at 365 days). Returns (slice, seconds)."""
    from foodbank_platform import settings, warehouse
    from foodbank_platform.dbt_runtime import DBT_PROJECT_DIR, dbt_env, dbt_executable
    from foodbank_platform.sources import catalog

    tables = [t.raw_table for t in catalog.TABLES]
    con = warehouse.connect(db)
    try:
        first, last = con.execute(
            "SELECT min(lo), max(hi) FROM ("
            + " UNION ALL ".join(f"SELECT min(_loaded_at) AS lo, max(_loaded_at) AS hi FROM raw.{t}" for t in tables)
            + ")"
        ).fetchone()
        for t in tables:
            con.execute(f"ALTER TABLE raw.{t} RENAME TO {t}__history")
        warehouse.ensure_raw_tables(con)
    finally:
        con.close()
    bounds = []
    upto = first + timedelta(days=slice_days)
    while upto <= last:
        bounds.append(upto)
        upto += timedelta(days=slice_days)
    bounds.append(None)  # the rest
    timings, since = [], None
    for i, upto in enumerate(bounds):
        t = time.perf_counter()
        where = (
            " AND ".join(
                ([f"_loaded_at >= TIMESTAMP '{since}'"] if since else [])
                + ([f"_loaded_at < TIMESTAMP '{upto}'"] if upto else [])
            )
            or "TRUE"
        )
        con = warehouse.connect(db)
        try:
            for table in tables:
                con.execute(f"INSERT INTO raw.{table} SELECT * FROM raw.{table}__history WHERE {where}")
        finally:
            con.close()
        args = ["--full-refresh"] if i == 0 else []
        done = subprocess.run(
            [
                dbt_executable(),
                "build",
                "--select",
                "tag:ops_10min",
                *args,
                "--exclude-resource-type",
                "test",
                "unit_test",
                "--project-dir",
                str(DBT_PROJECT_DIR),
                "--profiles-dir",
                str(DBT_PROJECT_DIR),
                "--target-path",
                str(db.parent / "dbt-history"),
                "--log-path",
                str(db.parent / "dbt-history"),
            ],
            env={**env, **dbt_env(settings.load(env))},
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"building the history's slice to {upto or 'the end'} failed:\n{done.stdout[-4000:]}")
        label = f"to {upto:%Y-%m-%d %H:%M}" if upto else "the rest"
        timings.append((label, time.perf_counter() - t))
        print(f"    history built {label}: {timings[-1][1]:.0f} s")
        since = upto
    con = warehouse.connect(db)
    try:
        for table in tables:
            con.execute(f"DROP TABLE raw.{table}__history")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return timings


def raw_rows(db: Path) -> int:
    from foodbank_platform import warehouse

    con = warehouse.connect_read_only(db)
    try:
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        return sum(con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for (t,) in tables)
    finally:
        con.close()


def report(label: str, r: dict, top: int) -> None:
    status = "" if r["success"] else "  (the run FAILED: see its log in the Dagster instance)"
    print(
        f"{label:<34}{r['seconds']:>8.1f}{r['job_seconds']:>8.1f}{r['dbt']['elapsed']:>8.1f}{r['peak_mb']:>9,.0f}{status}"
    )
    stages: dict[str, float] = {}
    for step, secs in r["steps"].items():
        stage = "dbt" if step.startswith("dbt") else step.split("__")[0]
        stages[stage] = stages.get(stage, 0.0) + secs
    parts = ", ".join(f"{name} {secs:.1f}" for name, secs in sorted(stages.items(), key=lambda kv: -kv[1]))
    print(f"    process start + code location {r['startup_seconds']:.1f} s; steps (s): {parts}")
    dbt_step = sum(secs for step, secs in r["steps"].items() if step.startswith("dbt"))
    ph = r["dbt"]["phases"]
    if any(ph.values()):
        print(
            f"    dbt step {dbt_step:.1f} s: dbt's log from its first line to parsed {ph['parse']:.1f} s, to executing "
            f"{ph['to_execution']:.1f} s, executing to its last line {ph['execution_and_after']:.1f} s; before and "
            f"after dbt's log (interpreter start, dagster-dbt) {dbt_step - sum(ph.values()):.1f} s"
        )
    nodes = r["dbt"]["nodes"]
    total = sum(nodes.values()) or 1.0
    for node, secs in sorted(nodes.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {secs:6.1f} s {100 * secs / total:5.1f}%  {node}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history-days", type=int, required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--simulated-days", type=int, default=7, help="days simulated as files; more are synthesised")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--slice-days", type=int, default=30, help="days of raw per incremental build of the history (load order)"
    )
    parser.add_argument("--top", type=int, default=8, help="dbt nodes listed per run, by time")
    parser.add_argument(
        "--skip-first-build",
        action="store_true",
        help="load the history's files with the loader and leave the build to the build in load order "
        "(a long history's first build is not a target, and that build builds everything again anyway)",
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure as soon as it is measured, also into a file
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="foodbank-cycle-"))).resolve()
    simulated = min(args.history_days, args.simulated_days)
    files = simulate_source(work, simulated + 1, args.scale)

    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    # The platform's defaults, but for the DuckDB memory limit when one is given (to measure another).
    keep = ("FOODBANK_DUCKDB_MEMORY_LIMIT",)
    env = {k: v for k, v in os.environ.items() if k in keep or not k.startswith(("FOODBANK_", "DAGSTER_"))}
    env.update(FOODBANK_HOME=str(home), DAGSTER_HOME=str(home / "dagster"))
    os.environ.update(FOODBANK_HOME=str(home))  # this process's own connections (synthesis, counts) too
    cutoff = _utc(START + timedelta(days=simulated), CYCLE_AT)
    delivered = deliver(work, home, files, "", cutoff)
    print(f"history: {delivered:,} files of {simulated} simulated day(s) and the morning after, to {cutoff} UTC")
    if args.history_days > simulated:
        synthesise(work, home, simulated, args.history_days)

    rows = raw_rows(home / "warehouse.duckdb") if (home / "warehouse.duckdb").exists() else 0
    print(
        f"\n{args.history_days} day(s) of history at scale {args.scale}: {rows:,} raw rows synthesised before the "
        f"first build; DuckDB memory limit {env.get('FOODBANK_DUCKDB_MEMORY_LIMIT', 'default')} per instance"
    )
    print(
        f"{'run (own process)':<34}{'wall s':>8}{'job s':>8}{'dbt s':>8}{'peak MB':>9}   dbt nodes by time (share of node time)",
    )
    if args.skip_first_build:
        first = None
        loaded = load_history(home)
        print(f"first build skipped: the history's {loaded:,} files loaded by the platform's loader (not timed)")
    else:
        first = run_job(env)
        report("first build (operations_refresh)", first, args.top)
    age_history(home / "warehouse.duckdb", cutoff)
    built_history = build_in_load_order(home / "warehouse.duckdb", env, args.slice_days)
    print(
        f"    (history given production load times, then built in load order: {len(built_history)} slice(s), "
        f"{sum(secs for _, secs in built_history):.0f} s, not timed as a cycle)"
    )
    rows = raw_rows(home / "warehouse.duckdb")
    later = (datetime.fromisoformat(cutoff) + timedelta(minutes=10)).isoformat(sep=" ")
    new = deliver(work, home, files, cutoff, later)
    cycle = run_job(env)
    report(f"cycle, 10 minutes of new files ({new})", cycle, args.top)
    idle = run_job(env)
    report("run with no new file (sensor: none)", idle, args.top)
    close_day = (START + timedelta(days=simulated - 1)).isoformat()
    nightly = run_job(env, close_day)
    report(f"nightly close of {close_day}", nightly, args.top)
    built = f"{first['seconds']:.0f} s (peak {first['peak_mb'] / 1024:.1f} GB)" if first else "not run"
    print(
        f"\n| {args.history_days} days ({rows / 1e6:.1f}M raw rows) | {built} | {cycle['seconds']:.0f} s "
        f"| {idle['seconds']:.0f} s "
        f"| {max(cycle['peak_mb'], idle['peak_mb']) / 1024:.2f} GB | {nightly['seconds']:.0f} s |"
    )


if __name__ == "__main__":
    main()
