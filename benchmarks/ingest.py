"""How close the platform's raw load comes to DuckDB's own CSV reader, on a production-scale day.

    python benchmarks/ingest.py [--scale 1.0] [--days 1] [--workdir DIR]

Simulates the day (`foodbank simulate` at the given scale), then loads the same landing files twice,
each in its own process so peak memory is measured separately:
- the platform: `load_new_files` (ledger, checksums, per-file checks, typing, quarantine, lineage),
  with its tables side by side and again one table at a time (as the per-table Dagster assets run);
- DuckDB alone: one `read_csv` per table over the same files into a table, with the schema given
  (no sniffing): typed like raw (the like-for-like figure), and all text (a lower bound).
Prints rows/s for both, the ratio (target ≥ 0.7) and each side's peak memory (target < 2 GB), as the
median of several interleaved rounds (`--rounds`), since one run on a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from foodbank_platform.ingest.loader import TABLE_THREADS

# VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so a child would report its parent's peak.
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) / 1024"

PLATFORM = """
import json, sys, time
from foodbank_platform import warehouse
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore
con = warehouse.connect(sys.argv[2])
t = time.perf_counter()
r = load_new_files(LocalStore(sys.argv[1]), con, concurrency=int(sys.argv[3]))
secs = time.perf_counter() - t
print(json.dumps({"rows": r.rows_loaded + r.rows_quarantined, "seconds": secs,
                  "peak_mb": PEAK}))
"""

DUCKDB_ALONE = """
import json, sys, time, duckdb
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import catalog
from foodbank_platform.sources.catalog import DUCKDB_TYPES
store = LocalStore(sys.argv[1])
con = duckdb.connect(sys.argv[2])
typed = sys.argv[3] == "typed"
rows, t = 0, time.perf_counter()
for table in catalog.TABLES:
    files = [str(store.root / f.key) for f in store.list(table.landing_prefix,
             "*.csv" if table.is_dms else table.pattern)]
    if not files:
        continue
    header = open(files[0], "rb").readline().decode("latin-1").lstrip("\\ufeff").strip()
    delim = "|" if table.format == "tefap_pipe" else ","
    names = [h.strip().lower() for h in header.split(delim)]
    types = {c.name: DUCKDB_TYPES[c.type] for c in table.columns if typed and table.is_dms}
    types["dms_commit_ts"] = "TIMESTAMP" if typed else "VARCHAR"
    cols = "{" + ", ".join(f"'{n}': '{types.get(n, 'VARCHAR')}'" for n in names) + "}"
    opts = {"dms": "nullstr='\\\\N'", "legacy_csv": "encoding='latin-1'", "adjustments_csv": "",
            "tefap_pipe": "quote=''"}[table.format]
    opts = ", " + opts if opts else ""
    con.execute(f"CREATE TABLE {table.raw_table} AS SELECT * FROM read_csv({files!r}, header=true, "
                f"auto_detect=false, delim='{delim}', columns={cols}{opts})")
    rows += con.execute(f"SELECT count(*) FROM {table.raw_table}").fetchone()[0]
secs = time.perf_counter() - t
print(json.dumps({"rows": rows, "seconds": secs, "peak_mb": PEAK}))
"""


def run(code: str, landing: Path, db: Path, *args: str) -> dict:
    code = code.replace("PEAK", PEAK)
    out = subprocess.run(
        [sys.executable, "-c", code, str(landing), str(db), *args], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(results: list[dict]) -> dict:
    """The run with the median time (its own rows and peak memory, so the figures stay one run's)."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    return ordered[len(ordered) // 2]


def seconds(results: list[dict]) -> str:
    return " ".join(f"{r['seconds']:.2f}" for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved runs of each load; medians are reported")
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="foodbank-bench-"))
    landing = work / "landing"
    if not landing.exists():
        from foodbank_platform.simulator import SimulationConfig, simulate

        t = time.perf_counter()
        simulate(
            SimulationConfig(
                landing_root=landing,
                sftp_root=work / "sftp",
                manifest_path=work / "manifest.json",
                start_date=date(2026, 11, 2),
                days=args.days,
                scale=args.scale,
                seed=7,
            )
        )
        print(f"simulated {args.days} day(s) at scale {args.scale} in {time.perf_counter() - t:.1f}s")
        # SFTP feeds reach landing through the puller in production; here they are copied as it would.
        from foodbank_platform.ingest.pull import pull_feed
        from foodbank_platform.landing.store import LocalStore
        from foodbank_platform.sources import catalog
        from foodbank_platform.sources.sftp import LocalSource

        for table in catalog.sftp_tables():
            pull_feed(LocalSource(work / "sftp"), LocalStore(landing), table, now=time.time() + 3600)
    files = sum(1 for p in landing.rglob("*") if p.is_file() and not p.name.endswith(".json"))
    size_mb = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 2**20
    # Rounds interleave the three loads, each into a fresh database, and the median of each is
    # reported: on a shared 2-core machine one run of either side can be 30% off its usual time.
    rounds: dict[str, list[dict]] = {"platform": [], "sequential": [], "typed": [], "text": []}
    for _ in range(args.rounds):
        for name, code, extra in (
            ("platform", PLATFORM, (str(TABLE_THREADS),)),
            ("sequential", PLATFORM, ("1",)),
            ("typed", DUCKDB_ALONE, ("typed",)),
            ("text", DUCKDB_ALONE, ("text",)),
        ):
            db = work / f"{name}.duckdb"
            db.unlink(missing_ok=True)
            rounds[name].append(run(code, landing, db, *extra))
    platform, sequential, typed, text = (median(rounds[n]) for n in ("platform", "sequential", "typed", "text"))
    print(
        f"landing: {files} files, {size_mb:.1f} MB; median of {args.rounds} interleaved round(s); "
        f"seconds per round: platform {seconds(rounds['platform'])}, duckdb typed {seconds(rounds['typed'])}"
    )
    print(f"{'':<34}{'rows':>10}{'seconds':>9}{'rows/s':>11}{'peak MB':>9}")
    for label, r in (
        ("platform load (typed + lineage)", platform),
        ("  the same, one table at a time", sequential),
        ("duckdb read_csv, typed columns", typed),
        ("duckdb read_csv, all text", text),
    ):
        print(f"{label:<34}{r['rows']:>10,}{r['seconds']:>9.2f}{r['rows'] / r['seconds']:>11,.0f}{r['peak_mb']:>9.0f}")
    rate = platform["rows"] / platform["seconds"]
    one_at_a_time = sequential["rows"] / sequential["seconds"]
    print(
        f"ratio platform / duckdb typed: {rate / (typed['rows'] / typed['seconds']):.2f} (target >= 0.70); "
        f"one table at a time (as the Dagster raw assets load): "
        f"{one_at_a_time / (typed['rows'] / typed['seconds']):.2f}; "
        f"vs all-text read: {rate / (text['rows'] / text['seconds']):.2f}; "
        f"platform peak memory {platform['peak_mb']:.0f} MB (target < 2048 MB)"
    )


if __name__ == "__main__":
    main()
