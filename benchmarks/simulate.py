"""How fast the simulator generates and writes a production-scale day (`--scale 1.0`).

Prints rows/s for generation alone and for generation + writing every file, so a regression in
either shows. Usage: `python benchmarks/simulate.py [--scale 1.0] [--days 1] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from foodbank_platform.simulator import Defects, SimulationConfig, generate, simulate


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--start", default="2026-11-02")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="foodbank-sim-"))
    config = SimulationConfig.in_folder(
        out, start_date=date.fromisoformat(args.start), days=args.days, scale=args.scale, seed=42
    )

    started = time.perf_counter()
    activity = generate(config, Defects())
    rows = sum(len(f) for day in activity.days for f in day.changes.values())
    generated = time.perf_counter() - started

    started = time.perf_counter()
    manifest = simulate(config)
    total = time.perf_counter() - started
    written = sum(f["rows"] for f in manifest.files)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scale {args.scale}, {args.days} day(s): {rows:,} change rows")
    print(f"generate only:     {generated:6.1f} s  {rows / generated:10,.0f} rows/s")
    print(
        f"generate + write:  {total:6.1f} s  {written / total:10,.0f} rows/s "
        f"({written:,} rows in {len(manifest.files):,} files, {size / 1e6:,.0f} MB)"
    )
    print(f"peak memory: {peak:,.0f} MB")
    if args.out is None:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
