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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- S3 -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """An S3 API server (moto) on loopback; credentials are moto's dummies, set for boto3."""
    from moto.server import ThreadedMotoServer

    env = pytest.MonkeyPatch()  # set while the server lives, restored after it
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        if name not in os.environ:
            env.setenv(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
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
class SftpServer:
    host: str
    port: int
    root: Path  # what the client sees as "/"
    user: str
    client_key: Path
    known_hosts: Path
    host_key_fingerprint: str
    drops: dict  # arm_drop(n) arms one dropped connection mid-read; resumed_at tells where the retry began

    @property
    def uri(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}/outbound"

    def arm_drop(self, after_bytes: int) -> None:
        self.drops.update(after_bytes=after_bytes, done=0, dropped=None, resumed_at=None)


def _write_keys(folder: Path):
    import asyncssh

    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_path = folder / "client_ed25519"
    # paramiko reads the OpenSSH private key format.
    client_key.write_private_key(str(client_path), format_name="openssh")
    client_key.write_public_key(str(folder / "authorized_keys"))
    return host_key, client_path


def known_hosts_line(host: str, port: int, public_key_openssh: str) -> str:
    return f"[{host}]:{port} {public_key_openssh.strip()}\n"


def _sftp_factory(root: Path, drops: dict):
    import asyncssh

    class DroppingSFTPServer(asyncssh.SFTPServer):
        """Chrooted to `root`; when armed, aborts the whole SSH connection once after N bytes read."""

        def __init__(self, chan):
            super().__init__(chan, chroot=str(root).encode())

        async def read(self, file_obj, offset, size):
            limit = drops.get("after_bytes")
            if limit is not None and drops["done"] + size > limit:
                drops.update(after_bytes=None, dropped=self.connection)
                # abort() discards what is still buffered: let the replies already served reach the
                # client first, so the drop lands mid-file (as a real one does) on a busy machine too.
                await asyncio.sleep(0.5)
                self.connection.abort()
                raise asyncssh.SFTPConnectionLost("dropped by the test")
            if limit is not None:
                drops["done"] += size
            elif drops.get("dropped") not in (None, self.connection) and drops.get("resumed_at") is None:
                drops["resumed_at"] = offset  # the first read on the new connection
            return super().read(file_obj, offset, size)

        # A read-only account, as the contract says: the client must never need these.
        def remove(self, path):
            raise asyncssh.SFTPPermissionDenied("read-only account")

        def rename(self, oldpath, newpath):
            raise asyncssh.SFTPPermissionDenied("read-only account")

    return DroppingSFTPServer


@pytest.fixture(scope="session")
def sftp_service():
    """A real SFTP server (asyncssh) on loopback, chrooted to a temp folder with `/outbound`."""
    import asyncssh

    tmp = Path(tempfile.mkdtemp(prefix="foodbank-sftp-"))
    root = tmp / "root"
    (root / "outbound").mkdir(parents=True)
    host_key, client_path = _write_keys(tmp)
    port = free_port()
    drops: dict = {"after_bytes": None}
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict = {}

    async def start():
        holder["server"] = await asyncssh.listen(
            "127.0.0.1",
            port,
            server_host_keys=[host_key],
            authorized_client_keys=str(tmp / "authorized_keys"),
            sftp_factory=_sftp_factory(root, drops),
            allow_scp=False,
        )
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert ready.wait(10), "SFTP server did not start"
    known = tmp / "known_hosts"
    known.write_text(known_hosts_line("127.0.0.1", port, host_key.export_public_key().decode()))
    fingerprint = host_key.get_fingerprint("sha256")
    yield SftpServer("127.0.0.1", port, root, "feeds", client_path, known, fingerprint, drops)

    async def stop():
        holder["server"].close()
        await holder["server"].wait_closed()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
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
