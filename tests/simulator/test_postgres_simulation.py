"""The simulator replayed into real PostgreSQL, captured by the DMS stand-in, equals itself in the warehouse.

`foodbank simulate --postgres` must leave the source databases exactly as the simulation's manifest
says, through the small transactions an app makes, and what `foodbank cdc` captures from them must
reach staging unchanged: a PostgreSQL (private instance, `wal_level=logical`) → capture → DMS files
in S3 (moto server) → loader → dbt staging views, compared table by table with PostgreSQL on counts,
key sets and a per-column profile (sums, text lengths, true counts, epoch sums). Tiny scale: one day.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import psycopg2
import pytest
from dbt_support import run_dbt
from fixtures_services import capture_in_background

from foodbank_platform import warehouse
from foodbank_platform.cdc.capture import lsn_to_int
from foodbank_platform.cdc.dms_layout import load_key
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.s3 import S3Store
from foodbank_platform.simulator import Manifest, SimulationConfig, simulate
from foodbank_platform.simulator.postgres import simulate_to_postgres, source_row_counts
from foodbank_platform.sources import catalog

pytestmark = pytest.mark.slow  # one dbt invocation
FOODBANK = Path(sys.executable).with_name("foodbank")
DMS = catalog.dms_tables()
DAY = date(2026, 10, 29)
SCALE = 0.005
# Staging's names for source columns it renames; source columns staging leaves out (donor personal data)
# are not compared.
STAGING_NAMES = {
    "wms__items": {"description": "item_description"},
    "intake__donations": {"id": "donation_pk"},
    "intake__donation_lines": {"line_id": "donation_line_id", "gross_lbs": "lbs"},
}
# One figure per column that changes if any row's value does; same meaning in both dialects.
PROFILE = {
    "postgres": {
        "numeric": "sum({c})",
        "bigint": "sum({c})",
        "text": "sum(length({c}))",
        "boolean": "count(*) FILTER (WHERE {c})",
        "date": "sum({c} - DATE '1970-01-01')",
        "timestamptz": "sum(extract(epoch FROM {c}) * 1000000)",
    },
    "duckdb": {
        "numeric": "sum({c})",
        "bigint": "sum({c})",
        "text": "sum(length({c}))",
        "boolean": "count(*) FILTER (WHERE {c})",
        "date": "sum({c} - DATE '1970-01-01')",
        "timestamptz": "sum(epoch_us({c}))",
    },
}


def _pg(dsn: str, sql: str, *args) -> list[tuple]:
    con = psycopg2.connect(dsn)
    with con.cursor() as cur:
        cur.execute(sql, args)
        rows = cur.fetchall()
    con.close()
    return rows


def _compared(t: catalog.SourceTable, staging_columns: set[str]) -> list[tuple[str, str, str]]:
    """(source column, staging column, contract type) for the columns staging keeps."""
    names = STAGING_NAMES.get(t.raw_table, {})
    return [
        (c.name, names.get(c.name, c.name), c.type) for c in t.columns if names.get(c.name, c.name) in staging_columns
    ]


def _profile_sql(dialect: str, relation: str, columns: list[tuple[str, str]], where: str = "") -> str:
    figures = ", ".join(PROFILE[dialect][typ].format(c=f'"{col}"') for col, typ in columns)
    return f"SELECT count(*), {figures} FROM {relation} {where}"


def _wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_simulation_in_postgres_reaches_staging_unchanged(source_dsn, s3_bucket, s3_endpoint, tmp_path):
    store = S3Store(s3_bucket, "landing", endpoint_url=s3_endpoint)
    stop, result, capture = capture_in_background(source_dsn, "sim_dms", "sim_pub", store, file_seconds=1)
    # Simulate only once the (empty) full load is written, so every simulated row is a streamed change.
    _wait_for(lambda: all(store.exists(load_key(t, 1)) for t in DMS), "the full load")

    started = time.perf_counter()
    manifest = simulate_to_postgres(
        source_dsn,
        start_date=DAY,
        days=1,
        scale=SCALE,
        seed=11,
        sftp_root=tmp_path / "sftp",
        manifest_path=tmp_path / "manifest.json",
    )
    simulated = time.perf_counter() - started
    (last_lsn,) = _pg(source_dsn, "SELECT pg_current_wal_lsn()::text")[0]
    _wait_for(
        lambda: (
            lsn_to_int(
                _pg(
                    source_dsn, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'sim_dms'"
                )[0][0]
            )
            >= lsn_to_int(last_lsn)
            or not capture.is_alive()
        ),
        "the capture to acknowledge the last commit",
    )
    captured = time.perf_counter() - started
    stop.set()
    capture.join(30)
    report = result["report"]

    # --- PostgreSQL holds what the manifest says, reached through many small transactions ----------
    in_postgres = source_row_counts(source_dsn)
    assert in_postgres == {t.raw_table: manifest.tables[t.raw_table]["final_rows"] for t in DMS}
    assert Manifest.read(tmp_path / "manifest.json").tables == manifest.tables
    deleted = sum(manifest.tables[t.raw_table]["deleted"] for t in DMS)
    assert deleted > 0  # the day deletes rows, so the D path is exercised
    change_rows = sum(manifest.tables[t.raw_table]["change_rows"] for t in DMS)
    commits = manifest.config["postgres_commits"]
    # Every simulated row change became exactly one streamed change (no UPDATE/DELETE missed its row).
    assert sum(report.full_load_rows.values()) == 0
    assert sum(report.change_rows.values()) == change_rows
    sftp_files = [f for f in manifest.files if f["root"] == "sftp"]
    assert sftp_files and all((tmp_path / "sftp" / f["path"]).exists() for f in sftp_files)
    # The same activity as the file simulator's, bar the DMS task restarts only DMS files can have.
    as_files = simulate(SimulationConfig.in_folder(tmp_path / "files", start_date=DAY, days=1, scale=SCALE, seed=11))
    assert (manifest.tables, manifest.days) == (as_files.tables, as_files.days)
    assert {k: v for k, v in manifest.defects.items() if k != "replayed_dms_files"} == {
        k: v for k, v in as_files.defects.items() if k != "replayed_dms_files"
    }
    assert sftp_files == [f for f in as_files.files if f["root"] == "sftp"]

    # --- the files, through the loader and dbt staging, equal PostgreSQL -------------------------------
    duckdb_path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(duckdb_path)
    loaded = load_new_files(store, con, tables=DMS)
    ops = dict(
        con.execute(
            "SELECT op, count(*) FROM ("
            + " UNION ALL ".join(f"SELECT op FROM raw.{t.raw_table}" for t in DMS)
            + ") GROUP BY op"
        ).fetchall()
    )
    con.close()
    assert not loaded.failed_files() and loaded.rows_quarantined == 0
    assert ops.get("U", 0) > 0 and ops.get("D", 0) == deleted and sum(ops.values()) == change_rows
    built = run_dbt(
        ["run", "--select", *(f"path:models/staging/{system}" for system in ("wms", "intake", "ordering"))],
        tmp_path,
        {"FOODBANK_DUCKDB_PATH": str(duckdb_path), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    assert built.returncode == 0, built.stdout[-4000:]

    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        for t in DMS:
            view = f"staging.stg_{t.raw_table}"
            columns = _compared(t, {r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()})
            assert [src for src, _, _ in columns][: len(t.key)] == list(t.key), t.raw_table  # keys are compared
            expected = _pg(
                source_dsn,
                _profile_sql("postgres", f'"{t.location}"."{t.name}"', [(src, typ) for src, _, typ in columns]),
            )[0]
            got = con.execute(
                _profile_sql("duckdb", view, [(stg, typ) for _, stg, typ in columns], "WHERE NOT is_deleted")
            ).fetchone()
            assert got == expected, (t.raw_table, [c[0] for c in columns], got, expected)
            key_sql = ", ".join(stg for src, stg, _ in columns if src in t.key)
            pg_keys = set(_pg(source_dsn, f'SELECT {", ".join(t.key)} FROM "{t.location}"."{t.name}"'))
            assert set(con.execute(f"SELECT {key_sql} FROM {view} WHERE NOT is_deleted").fetchall()) == pg_keys
    finally:
        con.close()
    print(
        f"\nsimulate_to_postgres scale {SCALE}, 1 day: {change_rows} row changes in {commits} commits, "
        f"{simulated:.1f}s; captured and acknowledged after {captured:.1f}s; {len(report.files)} files; "
        f"rows per table {in_postgres}"
    )


# --- the commands ---------------------------------------------------------------------------------


def _env(home: Path) -> dict:
    return {
        **os.environ,
        "FOODBANK_HOME": str(home),
        "FOODBANK_LANDING_URI": str(home / "landing"),
        "FOODBANK_SFTP_URI": str(home / "sftp" / "outbound"),
    }


def _foodbank(args: list[str], home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(FOODBANK), *args], env=_env(home), capture_output=True, text=True, timeout=300, check=False
    )


def _cdc_args(dsn: str, file_seconds: int) -> list[str]:
    """`foodbank cdc` on the test's slot and publication (both runs below share them)."""
    return ["cdc", "--dsn", dsn, "--slot", "cli_slot", "--publication", "cli_pub", "--file-seconds", str(file_seconds)]


def test_cdc_command_help_lists_its_options(tmp_path):
    done = _foodbank(["cdc", "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    for option in ("--dsn", "--slot", "--publication", "--file-seconds", "--stop-after", "FOODBANK_CDC_DSN"):
        assert option in done.stdout


def test_simulate_postgres_then_cdc_commands(source_dsn, tmp_path):
    home = tmp_path / "home"
    done = _foodbank(["simulate", "--postgres", source_dsn, "--days", "1", "--scale", "0.002", "--seed", "5"], home)
    assert done.returncode == 0, done.stderr[-4000:]
    manifest = Manifest.read(home / "manifest.json")
    counts = source_row_counts(source_dsn)
    assert counts == {t.raw_table: manifest.tables[t.raw_table]["final_rows"] for t in DMS}
    assert all((home / "sftp" / "outbound" / f["path"]).exists() for f in manifest.files if f["root"] == "sftp")

    # Started after the activity, the capture's full load copies the end state into local landing.
    done = _foodbank([*_cdc_args(source_dsn, file_seconds=1), "--stop-after", "3"], home)
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"full load rows: {sum(counts.values())}," in done.stdout
    for t in DMS:
        lines = (home / "landing" / load_key(t, 1)).read_bytes().count(b"\n")
        assert lines >= counts[t.raw_table] + 1, t.raw_table  # header + rows (text may hold newlines)
    assert _pg(source_dsn, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'cli_slot'")[0][0] == 1

    # Restarted, it continues from the slot; Ctrl-C writes the buffered change, acknowledges it, exits 0.
    running = subprocess.Popen(
        [str(FOODBANK), *_cdc_args(source_dsn, file_seconds=3600)],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(
            lambda: _pg(source_dsn, "SELECT active FROM pg_replication_slots WHERE slot_name = 'cli_slot'")[0][0],
            "the capture to stream",
            timeout=60,
        )
        con = psycopg2.connect(source_dsn)
        with con, con.cursor() as cur:
            cur.execute(
                "UPDATE ordering.agencies SET status = 'CLOSED' WHERE agency_id = "
                "(SELECT min(agency_id) FROM ordering.agencies)"
            )
        con.close()
        (last_lsn,) = _pg(source_dsn, "SELECT pg_current_wal_lsn()::text")[0]
        # Sent to the capture (loopback: in its socket at once); no file before an hour, so only Ctrl-C writes it.
        _wait_for(
            lambda: (
                lsn_to_int(
                    _pg(
                        source_dsn,
                        "SELECT r.sent_lsn::text FROM pg_stat_replication r JOIN "
                        "pg_replication_slots s ON s.active_pid = r.pid "
                        "WHERE s.slot_name = 'cli_slot'",
                    )[0][0]
                )
                >= lsn_to_int(last_lsn)
            ),
            "the change to be sent",
            timeout=60,
        )
        time.sleep(0.2)
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=30)
    finally:
        running.kill()
    assert running.returncode == 0, err[-4000:]
    assert "full load rows: 0, change rows: 1," in out
    changes = list((home / "landing" / catalog.table("ordering__agencies").landing_prefix).glob("*/*/*/*.csv"))
    assert len(changes) == 1 and b"\nU," in changes[0].read_bytes() and b"CLOSED" in changes[0].read_bytes()
    (acknowledged,) = _pg(
        source_dsn, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'cli_slot'"
    )[0]
    assert lsn_to_int(acknowledged) >= lsn_to_int(last_lsn)
