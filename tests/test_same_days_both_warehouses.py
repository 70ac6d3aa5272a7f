"""The same simulated days through the real commands, once on DuckDB and local folders and once on the
stand-ins (`foodbank services`: the S3 API server, the SFTP server, the Snowflake emulator), give the same
warehouse (issue 12's first test).

Each side runs as a user would: `foodbank simulate --days 2 --scale 0.005` then `foodbank run` (the
10-minute path, then the nightly close of every business day), the stand-ins' side with their env file's
variables. Then every table and view of canonical, reconciliation and marts, the file ledger and the
quarantine are compared by content fingerprints (tests/fingerprint.py: each table's columns and sorted
rows, numbers to 6 decimals, read through `query.connect`, the reporting commands' connection to either
warehouse). Left out: what records when or by which run something happened (fingerprint.VOLATILE and
STAMPS below; of those, which are NULL is compared), and where a file was kept (PLACE).

Emulator gaps, named where they are handled:
- FLOAT_SUMS: fakesnow 0.12 sums NUMBER(14,2) as DOUBLE (Snowflake keeps NUMBER), so a reconciliation
  whose sides are equal can differ by 1e-12 and read `variance` on the emulator; such a row (every variance
  0 to 6 decimals) counts as `matched` there.
- EPOCH_FOR_NULL: the emulator's HTTP API returns a NULL TIMESTAMP_NTZ as 1970-01-01 00:00:00 (the value
  stored is NULL: `IS NULL` is true there), so finance_close's `<system>_loaded_at` of a system with no file
  dated that day (manual_adjustments here: its files are dated by when they were seen) reads 1970 on the
  stand-ins; counted as NULL among the stamps.

Cost: one `foodbank run` per warehouse (its three dbt builds: operations, reconciliation, finance), about
four minutes in all on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fingerprint import content, digest, tables

from foodbank_platform import query, services, settings

pytest.importorskip("fakesnow")
pytest.importorskip("moto")
pytest.importorskip("asyncssh")

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SIMULATION = ["--days", "2", "--scale", "0.005", "--seed", "42"]
LAYERS = ("canonical", "reconciliation", "marts")
OURS = ("FOODBANK_", "SNOWFLAKE_", "AWS_", "DAGSTER_")
# Where a file was kept differs by design: a path under the local landing folder against an s3:// key of the
# bucket (file_identity, the landing key without `_versions/`, is compared).
PLACE = {"landing_key"}
# When or by which run something was loaded or published (the runs' clocks and ids): compared as NULL or not.
STAMPS = {"_source_loaded_at", "published_at", "published_by_run", "restated_at", "restated_by_run"} | {
    f"{system}_loaded_at"
    for system in ("wms", "intake", "ordering", "legacy_warehouse", "manual_adjustments", "usda_tefap")
}
EPOCH_FOR_NULL = "1970-01-01T00:00:00"


def _clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(OURS)}, **extra}


def _foodbank(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "foodbank_platform.cli", *args],
        env=_clean_env(**env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def _simulate_and_run(env: dict[str, str]) -> int:
    simulated = _foodbank(env, "simulate", *SIMULATION)
    assert simulated.returncode == 0, simulated.stdout[-3000:] + simulated.stderr[-3000:]
    ran = _foodbank(env, "run")
    # 3: the runs succeeded and the finance close held a day (the platform doing its job)
    assert ran.returncode in (0, 3), ran.stdout[-5000:] + ran.stderr[-3000:]
    return ran.returncode


def _read(env: dict[str, str], emulator: bool = False) -> dict:
    """Every compared table's content (and which of its STAMPS are NULL), through the reporting commands'
    connection (query.connect)."""
    con = query.connect(settings.load(env))
    try:
        found, stamped = {}, {}
        for name in tables(con, LAYERS):
            found[name] = content(con, name, exclude=STAMPS)
            names, rows = content(con, name)
            kept = [i for i, n in enumerate(names) if n in STAMPS]
            stamped[name] = sorted(tuple(row[i] in (None, EPOCH_FOR_NULL) for i in kept) for row in rows)
            if emulator and name.startswith("reconciliation."):
                found[name] = _float_sums(found[name])
        for name in ("audit.file_ledger", "audit.quarantine"):
            found[name] = content(con, name, exclude=PLACE)
        return {"content": found, "fingerprints": {n: digest(c) for n, c in found.items()}, "stamped": stamped}
    finally:
        con.close()


def _float_sums(table_content):
    """FLOAT_SUMS: a reconciliation row the emulator calls `variance` with every variance 0 is `matched`."""
    names, rows = table_content
    if "status" not in names:
        return table_content
    status = names.index("status")
    variances = [i for i, n in enumerate(names) if n.endswith("_variance")]
    fixed = [
        row[:status] + ("matched",) + row[status + 1 :]
        if row[status] == "variance" and all(row[i] in ("0", None) for i in variances)
        else row
        for row in rows
    ]
    return names, sorted(fixed, key=repr)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    home = tmp_path_factory.mktemp("duckdb")
    duck_env = {"FOODBANK_HOME": str(home)}
    duck_status = _simulate_and_run(duck_env)
    duck = _read(duck_env)

    home = tmp_path_factory.mktemp("stand_ins")
    with services.in_background(home, _clean_env()) as stand_in_env:
        assert stand_in_env["FOODBANK_WAREHOUSE"] == "snowflake"
        assert stand_in_env["FOODBANK_LANDING_URI"].startswith("s3://")
        assert stand_in_env["FOODBANK_SFTP_URI"].startswith("sftp://")
        stand_in_status = _simulate_and_run(stand_in_env)
        stand_ins = _read(stand_in_env, emulator=True)  # the emulator's database lasts as long as the services run
    # nothing of the Snowflake path opened a DuckDB warehouse file
    assert not (home / "warehouse.duckdb").exists()
    return {"duckdb": (duck_status, duck), "stand_ins": (stand_in_status, stand_ins)}


def test_both_runs_end_alike(both):
    assert both["duckdb"][0] == both["stand_ins"][0]


def test_the_same_tables_in_every_layer(both):
    duck, stand_ins = both["duckdb"][1]["content"], both["stand_ins"][1]["content"]
    assert sorted(duck) == sorted(stand_ins)
    for layer in LAYERS:
        assert any(name.startswith(f"{layer}.") for name in duck), layer


def test_canonical_reconciliation_and_marts_are_identical_by_content(both):
    duck, stand_ins = both["duckdb"][1], both["stand_ins"][1]
    differ = {}
    for name, fingerprint in duck["fingerprints"].items():
        if name.split(".")[0] in LAYERS and stand_ins["fingerprints"].get(name) != fingerprint:
            differ[name] = _first_difference(duck["content"][name], stand_ins["content"].get(name))
    assert differ == {}
    rows = {name: n for name, (n, _) in duck["fingerprints"].items() if name.split(".")[0] in LAYERS}
    assert rows["canonical.inventory_events"] > 0 and rows["marts.finance_close"] == 2  # the two simulated days


def test_what_is_stamped_is_stamped_alike(both):
    """The load and publication stamps are set (or NULL) in the same rows on both."""
    assert both["stand_ins"][1]["stamped"] == both["duckdb"][1]["stamped"]


def test_the_file_ledger_and_the_quarantine_are_identical_by_content(both):
    duck, stand_ins = both["duckdb"][1], both["stand_ins"][1]
    for name in ("audit.file_ledger", "audit.quarantine"):
        assert stand_ins["fingerprints"][name] == duck["fingerprints"][name], _first_difference(
            duck["content"][name], stand_ins["content"][name]
        )
    assert duck["fingerprints"]["audit.file_ledger"][0] > 0


def _first_difference(duck, stand_ins) -> str:
    """What a failure shows: the columns if they differ, else the first rows only one side has."""
    if stand_ins is None:
        return "missing on the stand-ins"
    if duck[0] != stand_ins[0]:
        return f"columns: duckdb {duck[0]} / stand-ins {stand_ins[0]}"
    only_duck = [r for r in duck[1] if r not in set(stand_ins[1])][:2]
    only_stand_ins = [r for r in stand_ins[1] if r not in set(duck[1])][:2]
    return f"{len(duck[1])} / {len(stand_ins[1])} rows; only duckdb: {only_duck}; only stand-ins: {only_stand_ins}"
