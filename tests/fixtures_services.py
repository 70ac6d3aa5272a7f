"""Real services on loopback for the tests: S3 (moto's server), SFTP (asyncssh), a throw-away
PostgreSQL with logical replication, and an HTTP server that records webhook posts.

A pytest plugin (`pytest_plugins` in tests/conftest.py): test modules just name the fixtures. The
servers are session-scoped (so, under xdist, one per worker) because each costs seconds to start;
every one binds 127.0.0.1 on a free port so parallel workers and sessions do not collide. What a test
sees of them is its own: a fresh bucket, an emptied SFTP folder, a fresh database.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

# The servers start as `foodbank services` starts them: one implementation of each.
from foodbank_platform.services import (
    MOTO_CREDENTIALS,
    SftpService,
    apply_migrations,
    free_port,
    known_hosts_line,
    read_only_sftp_server,
    snowflake_env,
    start_s3,
    start_sftp,
    start_snowflake,
)

__all__ = ["known_hosts_line"]  # tests/sources/test_sftp.py imports it from here


# --- S3 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """An S3 API server (moto) on loopback; credentials are moto's dummies, set for boto3."""
    env = pytest.MonkeyPatch()  # set while the server lives, restored after it
    for name, value in MOTO_CREDENTIALS.items():
        if name not in os.environ:
            env.setenv(name, value)
    server = start_s3()
    yield server.endpoint
    server.stop()
    env.undo()


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A fresh bucket per test, so tests never see each other's objects."""
    import boto3

    name = f"landing-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return name


# --- SFTP ---------------------------------------------------------------------------------------


@dataclass
class SftpServer(SftpService):
    """The server `foodbank services` starts, plus the drops a test arms."""

    drops: dict = field(
        default_factory=dict
    )  # arm_drop(n) arms one dropped connection mid-read; resumed_at tells where the retry began

    def arm_drop(
        self, after_bytes: int, until: Callable[[], bool] | None = None, landed: Callable[[], int] | None = None
    ) -> None:
        """Drop the connection at the read that crosses `after_bytes`, once `until()` holds (say, the
        client has landed some bytes); `landed()`, read at the new connection's first read, tells how
        many bytes the client held then (`landed_at_resume`)."""
        self.drops.update(
            after_bytes=after_bytes,
            until=until,
            landed=landed,
            done=0,
            dropped=None,
            aborted=False,
            resumed_at=None,
            landed_at_resume=None,
        )


def _sftp_factory(root: Path, drops: dict):
    import asyncssh

    class DroppingSFTPServer(read_only_sftp_server(root)):
        """The read-only server chrooted to `root`; when armed, aborts the whole SSH connection once after N bytes read."""

        async def read(self, file_obj, offset, size):
            limit = drops.get("after_bytes")
            if drops.get("dropped") is self.connection:
                # Reads the client pipelined past the drop point are never answered: what reaches the
                # client is the contiguous bytes before it, as on a real dropped link.
                while not drops.get("aborted"):
                    await asyncio.sleep(0.05)
                raise asyncssh.SFTPConnectionLost("dropped by the test")
            if limit is not None and drops["done"] + size > limit:
                drops.update(after_bytes=None, dropped=self.connection)
                # abort() discards what is still buffered, and the kernel drops what the client has
                # not read yet: wait until the client has taken some of the replies already served.
                until = drops.get("until") or (lambda: True)
                for _ in range(600):
                    if until():
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.2)
                landed = drops.get("landed")
                drops["landed_at_drop"] = landed() if landed else None
                self.connection.abort()
                drops["aborted"] = True
                raise asyncssh.SFTPConnectionLost("dropped by the test")
            if limit is not None:
                drops["done"] += size
            elif drops.get("dropped") not in (None, self.connection) and drops.get("resumed_at") is None:
                drops["resumed_at"] = offset  # the first read on the new connection
                landed = drops.get("landed")
                drops["landed_at_resume"] = landed() if landed else None
            return super().read(file_obj, offset, size)

    return DroppingSFTPServer


@pytest.fixture(scope="session")
def sftp_service():
    """A real SFTP server (asyncssh) on loopback, chrooted to a temp folder with `/outbound`."""
    tmp = Path(tempfile.mkdtemp(prefix="foodbank-sftp-"))
    root = tmp / "root"
    drops: dict = {"after_bytes": None}
    server = start_sftp(root, tmp, sftp_factory=_sftp_factory(root, drops))
    yield SftpServer(**vars(server), drops=drops)
    server.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def sftp_server(sftp_service):
    """The session's SFTP server with `/outbound` emptied and no drop armed: a test sees only its own files."""
    outbound = sftp_service.root / "outbound"
    shutil.rmtree(outbound)
    outbound.mkdir()
    sftp_service.drops.clear()
    sftp_service.drops["after_bytes"] = None
    return sftp_service


# --- a webhook receiver -------------------------------------------------------------------------


@pytest.fixture
def webhook_server():
    """(URL, list of received posts): an HTTP server on loopback that records each JSON POST."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/foodbank", received
    server.shutdown()
    server.server_close()


# --- PostgreSQL with logical replication --------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the server packages create the `postgres` user.
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class PgInstance:
    port: int
    socket_dir: Path

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"


@pytest.fixture(scope="session")
def pg_logical():
    """A private PostgreSQL (wal_level=logical) in a temp folder on a free port; stopped afterwards."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql); see docs/real_sources.md")
    tmp = Path(tempfile.mkdtemp(prefix="foodbank-pg-"))
    data, sockets = tmp / "data", tmp / "sock"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        shutil.chown(sockets, "postgres")
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    opts = (
        f"-c wal_level=logical -c port={port} -c listen_addresses=127.0.0.1 "
        f"-c unix_socket_directories={sockets} -c max_replication_slots=10 -c max_wal_senders=10 "
        f"-c fsync=off -c timezone=UTC"
    )
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "server.log"), "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        _wait_for_port(port)
        yield PgInstance(port, sockets)
    finally:
        subprocess.run(
            _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"PostgreSQL did not open port {port}")


@pytest.fixture
def source_dsn(pg_logical):
    """A fresh database with the three source schemas (slots and publications are per database)."""
    import psycopg2

    from foodbank_platform.simulator.postgres import ensure_schemas

    name = f"src_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_logical.dsn())
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    ensure_schemas(pg_logical.dsn(name))
    yield pg_logical.dsn(name)
    with admin.cursor() as cur:
        # A walsender can outlive its client for a moment; end it before dropping its slot.
        cur.execute(
            "SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots "
            "WHERE database = %s AND active_pid IS NOT NULL",
            (name,),
        )
        cur.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = %s", (name,))
        cur.execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


# --- CDC capture ---------------------------------------------------------------------------------


def capture_in_background(dsn: str, slot: str, publication: str, store, file_seconds: int):
    """The CDC capture (cdc/capture.run_capture) in a thread of its own, as DMS runs beside the source:
    (stop event, a dict that holds its `report` once it ends, the started thread)."""
    from foodbank_platform.cdc.capture import run_capture

    stop, result = threading.Event(), {}
    thread = threading.Thread(
        target=lambda: result.update(
            report=run_capture(dsn, slot, publication, store, file_seconds=file_seconds, stop=stop)
        ),
        daemon=True,
    )
    thread.start()
    return stop, result, thread


# --- Snowflake (fakesnow) -------------------------------------------------------------------------

try:
    # fakesnow 0.12.1's server() imports its module fakesnow.server, which then shadows the function on
    # the package: a second fakesnow.server() in the same process calls a module. Kept before any call
    # (tests/dbt/test_dbt_snowflake.py calls it; services.start_snowflake does not go through it).
    from fakesnow import server as fakesnow_server
except ImportError:  # the emulator's tests skip (pytest.importorskip)
    fakesnow_server = None


@dataclass
class SnowflakeDatabase:
    """One test's database on the emulator, with every migration of deploy/snowflake applied."""

    port: int
    database: str

    @property
    def env(self) -> dict[str, str]:
        """The environment `FOODBANK_WAREHOUSE=snowflake` reads (settings.SnowflakeSettings)."""
        return snowflake_env(self.port, self.database)

    def settings(self, **environ: str):
        from foodbank_platform import settings

        return settings.load({**self.env, **environ})

    def connect(self):
        import snowflake.connector

        return snowflake.connector.connect(**self.settings().snowflake.connect_args())


@pytest.fixture(scope="session")
def snowflake_service():
    """The Snowflake emulator (a fakesnow server on loopback, reached over HTTP like Snowflake): its port."""
    pytest.importorskip("fakesnow")
    server = start_snowflake()
    yield server.port
    server.stop()


@pytest.fixture
def snowflake_db(snowflake_service) -> SnowflakeDatabase:
    """A fresh database on the emulator (the server shares one in-memory instance), migrated as production is."""
    db = SnowflakeDatabase(snowflake_service, f"FOODBANK_{uuid.uuid4().hex[:8].upper()}")
    apply_migrations(db.env)
    return db
