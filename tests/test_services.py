"""`foodbank services` as a user runs it: a separate process, its env file sourced, real clients.

boto3 against its S3 API, snowflake.connector against its emulator (the migrations applied), the
project's own SFTP client against its SFTP server with the pinned host key, and `foodbank sql`
through the env file; then SIGTERM stops everything, exits 0 and frees the ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from foodbank_platform.services import port_open, read_env_file

pytest.importorskip("fakesnow")
pytest.importorskip("moto")
pytest.importorskip("asyncssh")

# What the env file must set; none of it may leak in from the test's own environment.
OURS = ("FOODBANK_", "SNOWFLAKE_", "AWS_", "DAGSTER_")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OURS)}
    return {**env, **extra}


def _start(home: Path, env_file: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "foodbank_platform.cli", "services", "--env-file", str(env_file)],
        env=_clean_env(FOODBANK_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(env_file: Path, proc: subprocess.Popen, timeout: float = 180) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while not env_file.exists():
        if proc.poll() is not None:
            pytest.fail(f"foodbank services exited {proc.returncode} before writing {env_file}:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"no {env_file} after {timeout:.0f}s:\n{proc.stdout.read()}")
        time.sleep(0.2)
    return read_env_file(env_file)


def _ports(env: dict[str, str]) -> dict[str, int]:
    sftp_port = int(env["FOODBANK_SFTP_URI"].rsplit(":", 1)[1].split("/")[0])
    return {
        "s3": int(env["AWS_ENDPOINT_URL"].rsplit(":", 1)[1]),
        "snowflake": int(env["SNOWFLAKE_PORT"]),
        "sftp": sftp_port,
    }


def _s3(env: dict[str, str]):
    """boto3 as the env file configures it (endpoint and credentials), not as the test process is."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """One `foodbank services` for the module's tests: (its env file's values, FOODBANK_HOME, process)."""
    home = tmp_path_factory.mktemp("services-home")
    env_file = home / "elsewhere" / "stand-ins.env"
    proc = _start(home, env_file)
    env = _wait_for(env_file, proc)
    yield env, home, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_env_file_points_the_settings_at_the_stand_ins(running):
    from foodbank_platform import settings

    env, home, _ = running
    s = settings.load(env)
    assert s.warehouse == "snowflake" and s.home == home.resolve()
    assert s.snowflake.host == "127.0.0.1" and s.snowflake.protocol == "http"
    assert s.landing_uri.startswith("s3://") and s.archive_uri.startswith("s3://")
    assert s.sftp_uri.startswith("sftp://") and Path(s.sftp_key).is_file() and Path(s.sftp_known_hosts).is_file()
    assert Path(s.sftp_key).parent == home / "services"
    assert all(port_open(port) for port in _ports(env).values())


def test_s3_snowflake_and_sftp_answer_real_clients(running):
    import snowflake.connector

    from foodbank_platform import settings
    from foodbank_platform.landing.s3 import split_s3_uri
    from foodbank_platform.sources.sftp import SftpSource

    env, home, _ = running
    s = settings.load(env)

    # S3: an object put in the landing bucket is listed there.
    bucket, _ = split_s3_uri(s.landing_uri)
    s3 = _s3(env)
    key = f"client-test/{uuid.uuid4().hex}.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=b"a,b\n1,2\n")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="client-test/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [key]
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"a,b\n1,2\n"

    # Snowflake: the migrated audit ledger exists, and what one session writes the next one reads.
    con = snowflake.connector.connect(**s.snowflake.connect_args())
    try:
        cur = con.cursor()
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'AUDIT' ORDER BY table_name")
        assert {"FILE_LEDGER", "QUARANTINE", "RETENTION_LOG"} <= {r[0] for r in cur.fetchall()}
        cur.execute("SELECT count(*) FROM raw.wms__inventory_transactions")
        assert cur.fetchone()[0] == 0
    finally:
        con.close()

    # SFTP: the project's client, the pinned host key, a file placed in $FOODBANK_HOME/sftp/outbound.
    feed = home / "sftp" / "outbound" / "legacy_warehouse"
    feed.mkdir(parents=True, exist_ok=True)
    data = b"item,qty\nbeans,4\n"
    (feed / "onhand_20261029.csv").write_bytes(data)
    with SftpSource.from_uri(s.sftp_uri, s.sftp_key, s.sftp_known_hosts, attempts=1) as source:
        listed = source.list("legacy_warehouse")
        assert [(f.name, f.size) for f in listed] == [("onhand_20261029.csv", len(data))]
        pulled = home / "pulled.csv"
        assert source.download("legacy_warehouse/onhand_20261029.csv", pulled) == len(data)
        assert pulled.read_bytes() == data
        # The account is read-only: an upload is refused and nothing appears in the folder.
        with pytest.raises(PermissionError):
            source._connect().put(str(pulled), "/outbound/legacy_warehouse/uploaded.csv")
    assert not (feed / "uploaded.csv").exists()


def test_foodbank_sql_answers_from_the_emulator(running):
    import snowflake.connector

    from foodbank_platform import settings

    env, _, _ = running
    marker = f"sql-{uuid.uuid4().hex[:8]}"
    con = snowflake.connector.connect(**settings.load(env).snowflake.connect_args())
    try:
        con.cursor().execute(
            "INSERT INTO audit.retention_log VALUES ('raw.test', '2026-10-01', %s, 3, 'x', current_timestamp, 0)",
            (marker,),
        )
    finally:
        con.close()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "foodbank_platform.cli",
            "sql",
            f"select archive_uri, row_count from audit.retention_log where archive_uri = '{marker}'",
            "--format",
            "csv",
        ],
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().lower().splitlines() == ["archive_uri,row_count", f"{marker},3"]


def test_sigterm_stops_everything_and_exits_0(tmp_path):
    env_file = tmp_path / "services.env"
    proc = _start(tmp_path, env_file)
    try:
        env = _wait_for(env_file, proc)
        ports = _ports(env)
        assert all(port_open(p) for p in ports.values())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [name for name, port in ports.items() if port_open(port)] == []
    assert not env_file.exists()  # it would point at ports nothing listens on
    assert "stopping the services" in proc.stdout.read()


def test_foodbank_simulate_delivers_into_the_stand_ins(running):
    """With the env file sourced, DMS files reach the landing bucket and the SFTP drops the folder the
    SFTP server serves, where the project's SFTP client lists them."""

    from foodbank_platform import settings
    from foodbank_platform.landing.s3 import split_s3_uri
    from foodbank_platform.sources.sftp import SftpSource

    env, home, _ = running
    out = subprocess.run(
        [sys.executable, "-m", "foodbank_platform.cli", "simulate", "--days", "1", "--scale", "0.005"],
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    s = settings.load(env)
    bucket, _ = split_s3_uri(s.landing_uri)
    s3 = _s3(env)
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="dms/")
        for o in page.get("Contents", [])
    ]
    local = sorted(
        p.relative_to(home / "simulated-landing").as_posix()
        for p in (home / "simulated-landing").rglob("*")
        if p.is_file()
    )
    assert local and sorted(keys) == [k for k in local if k.startswith("dms/")]
    # The drops sit in a folder per feed (system/table); a small simulated day leaves some empty.
    outbound = home / "sftp" / "outbound"
    dropped = sorted(p for p in outbound.rglob("*") if p.is_file())
    assert dropped
    feed = dropped[0].parent
    with SftpSource.from_uri(s.sftp_uri, s.sftp_key, s.sftp_known_hosts, attempts=1) as source:
        listed = {f.name for f in source.list(feed.relative_to(outbound).as_posix())}
    assert listed and listed == {p.name for p in feed.iterdir() if p.is_file()}
