"""`foodbank services`: the local stand-ins for production's S3, Snowflake and SFTP, on loopback.

- S3: moto's S3 API server, with the landing bucket (and the archive bucket, Object Lock on, as
  production's) created;
- Snowflake: the emulator (fakesnow's HTTP server) with every migration of deploy/snowflake applied
  (`deploy.snowflake.migrate.apply_to_emulator`, what the tests use). All sessions share the server's
  one in-memory instance, so every process that connects sees the same data; it lasts as long as the
  server does (as does moto's bucket);
- SFTP: asyncssh serving `$FOODBANK_HOME/sftp/outbound` read-only as `/outbound`, with a host key and
  a client key generated under `$FOODBANK_HOME/services/` and a known-hosts file that pins the host key.

`run_services` writes the `export` lines that point the other commands at them, then runs until SIGINT
or SIGTERM and stops everything. The tests' fixtures (tests/fixtures_services.py) start their servers
with the same functions. No Dagster here; moto, fakesnow and asyncssh are the `test` extra's packages,
imported only when a server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
# moto accepts any credentials; boto3 needs some. Production's are the task role's.
MOTO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
LANDING_URI = "s3://foodbank-landing"
ARCHIVE_URI = "s3://foodbank-archive/warehouse/"
SFTP_USER = "feeds"
# What the emulator accepts (it checks no password); role and warehouse are production's names
# (deploy/snowflake/migrations V1.2, V1.13: the runs' role), which the emulator ignores.
EMULATOR_LOGIN = {
    "SNOWFLAKE_ACCOUNT": "fakesnow",
    "SNOWFLAKE_USER": "fake",
    "SNOWFLAKE_PASSWORD": "snow",
    "SNOWFLAKE_ROLE": "runner",
    "SNOWFLAKE_WAREHOUSE": "ops_wh",
}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


# --- S3 -------------------------------------------------------------------------------------------


@dataclass
class S3Service:
    endpoint: str
    port: int
    server: object  # moto.server.ThreadedMotoServer

    def stop(self) -> None:
        self.server.stop()


def start_s3(host: str = "127.0.0.1") -> S3Service:
    """moto's S3 API server on a free loopback port (clients need MOTO_CREDENTIALS or any others)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per request otherwise
    port = free_port(host)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return S3Service(f"http://{host}:{port}", port, server)


def s3_bucket_of(uri: str) -> str:
    return uri[len("s3://") :].partition("/")[0]


# --- Snowflake (fakesnow) -------------------------------------------------------------------------


@dataclass
class SnowflakeService:
    host: str
    port: int
    server: object  # uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_snowflake(host: str = "127.0.0.1") -> SnowflakeService:
    """The emulator: fakesnow's app under uvicorn in a thread, as `fakesnow.server()` runs it. Run here,
    not through that function: fakesnow 0.12.1's server() imports its module fakesnow.server, which then
    shadows the function on the package, so a second call in one process would call a module."""
    import importlib
    import logging

    import uvicorn

    app = importlib.import_module("fakesnow.server").app  # which sets its logger to INFO: quieted after
    for name in ("fakesnow", "fakesnow.server", "uvicorn", "uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).setLevel(logging.WARNING)
    port = free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="fakesnow server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while thread.is_alive() and not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise RuntimeError(f"the Snowflake emulator did not start on {host}:{port}")
    return SnowflakeService(host, port, server, thread)


def snowflake_env(port: int, database: str, host: str = "127.0.0.1") -> dict[str, str]:
    """The environment `FOODBANK_WAREHOUSE=snowflake` reads (settings.SnowflakeSettings) for the emulator."""
    return {
        "FOODBANK_WAREHOUSE": "snowflake",
        **EMULATOR_LOGIN,
        "SNOWFLAKE_DATABASE": database,
        "SNOWFLAKE_HOST": host,
        "SNOWFLAKE_PORT": str(port),
        "SNOWFLAKE_PROTOCOL": "http",  # dbt's `snowflake` target (dbt_project/profiles.yml) reads the same
    }


def migrations():
    """deploy/snowflake/migrate.py: deploy/ is a folder of the checkout, not an installed package."""
    if not (REPO_ROOT / "deploy" / "snowflake" / "migrate.py").exists():
        raise RuntimeError(f"the Snowflake migrations are in a checkout's deploy/snowflake; none at {REPO_ROOT}")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from deploy.snowflake import migrate

    return migrate


def apply_migrations(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Every migration of deploy/snowflake the emulator runs, into the database `env` names (created);
    (statements run, statements skipped as emulator gaps)."""
    import snowflake.connector

    from . import settings

    s = settings.load(env)
    migrate = migrations()
    con = snowflake.connector.connect(**s.snowflake.connect_args())
    try:
        return migrate.apply_to_emulator(con.cursor(), {**migrate.EXAMPLE_VARS, "database": s.snowflake.database})
    finally:
        con.close()


# --- SFTP (asyncssh) ------------------------------------------------------------------------------


def write_keys(folder: Path):
    """A fresh host key (returned) and client key: `client_ed25519` (OpenSSH format, which paramiko
    reads) and the `authorized_keys` the server accepts it by."""
    import asyncssh

    folder.mkdir(parents=True, exist_ok=True)
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    client_path = folder / "client_ed25519"
    client_path.unlink(missing_ok=True)
    client_key.write_private_key(str(client_path), format_name="openssh")
    client_path.chmod(0o600)
    client_key.write_public_key(str(folder / "authorized_keys"))
    return host_key, client_path


def known_hosts_line(host: str, port: int, public_key_openssh: str) -> str:
    return f"[{host}]:{port} {public_key_openssh.strip()}\n"


def read_only_sftp_server(root: Path):
    """An asyncssh SFTP server class chrooted to `root` that refuses every write, as the feeds'
    read-only account does."""
    import asyncssh

    writes = asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC | asyncssh.FXF_APPEND

    def denied(*_args):
        raise asyncssh.SFTPPermissionDenied("read-only account")

    class ReadOnlySFTPServer(asyncssh.SFTPServer):
        def __init__(self, chan):
            super().__init__(chan, chroot=str(root).encode())

        def open(self, path, pflags, attrs):
            if pflags & writes:
                denied()
            return super().open(path, pflags, attrs)

        def open56(self, path, desired_access, flags, attrs):
            if desired_access & (asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA):
                denied()
            return super().open56(path, desired_access, flags, attrs)

        write = setstat = lsetstat = fsetstat = remove = mkdir = rmdir = rename = posix_rename = denied
        symlink = link = denied

    return ReadOnlySFTPServer


@dataclass
class SftpService:
    host: str
    port: int
    root: Path  # what the client sees as "/"
    user: str
    client_key: Path
    known_hosts: Path
    host_key_fingerprint: str
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _server: object = field(repr=False)

    @property
    def uri(self) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}/outbound"

    def stop(self) -> None:
        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def start_sftp(
    root: Path, keys: Path, sftp_factory: type | None = None, host: str = "127.0.0.1", user: str = SFTP_USER
) -> SftpService:
    """An SFTP server (asyncssh, in a thread) on a free loopback port, chrooted to `root` (its
    `outbound` is the feeds' folder), with keys and the pinned known_hosts written under `keys`.
    `sftp_factory` replaces the read-only server class (the tests' one drops connections on demand)."""
    import asyncssh

    (root / "outbound").mkdir(parents=True, exist_ok=True)
    host_key, client_path = write_keys(keys)
    loop = asyncio.new_event_loop()
    started: dict = {}
    ready = threading.Event()

    async def listen():
        try:
            started["server"] = await asyncssh.listen(
                host,
                0,
                server_host_keys=[host_key],
                authorized_client_keys=str(keys / "authorized_keys"),
                sftp_factory=sftp_factory or read_only_sftp_server(root),
                allow_scp=False,
            )
        except Exception as e:  # reported to the caller below
            started["error"] = e
        ready.set()

    thread = threading.Thread(
        target=lambda: (loop.run_until_complete(listen()), loop.run_forever()), name="sftp server", daemon=True
    )
    thread.start()
    if not ready.wait(15) or "error" in started:
        raise RuntimeError(f"the SFTP server did not start: {started.get('error', 'timed out')}")
    server = started["server"]
    port = server.sockets[0].getsockname()[1]
    known = keys / "known_hosts"
    known.write_text(known_hosts_line(host, port, host_key.export_public_key().decode()))
    return SftpService(
        host, port, root, user, client_path, known, host_key.get_fingerprint("sha256"), loop, thread, server
    )


# --- what `foodbank simulate` delivers into them -----------------------------------------------------


def simulation_folders(s: Settings) -> tuple[Path, Path]:
    """(landing, SFTP) folders the simulator writes. A local URI is its folder; an `s3://` landing is
    simulated into `$FOODBANK_HOME/simulated-landing` and uploaded after (`upload_landing`), and an
    `sftp://` feed account is the folder `foodbank services` serves, `$FOODBANK_HOME/sftp/outbound`."""
    from .settings import uri_to_path

    landing = s.home / "simulated-landing" if s.landing_uri.startswith("s3://") else uri_to_path(s.landing_uri)
    sftp = s.home / "sftp" / "outbound" if s.sftp_uri.startswith("sftp://") else uri_to_path(s.sftp_uri)
    return landing, sftp


def upload_landing(folder: Path, uri: str) -> int:
    """Put every file under `folder` into the landing store `uri` at the same relative key, as DMS
    writes into the bucket; a key that already holds as many bytes is skipped. Returns files uploaded."""
    from .landing.uri import open_store

    store = open_store(uri)
    there = {f.key: f.size for f in store.list()}
    uploaded = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")):
        key = path.relative_to(folder).as_posix()
        if there.get(key) != path.stat().st_size:
            store.put_file(key, path)
            uploaded += 1
    return uploaded


# --- all three, for `foodbank services` ------------------------------------------------------------


@dataclass
class Services:
    s3: S3Service
    snowflake: SnowflakeService
    sftp: SftpService
    env: dict[str, str]  # what the env file exports
    migrations_run: int
    migrations_skipped: int

    def stop(self) -> None:
        for service in (self.sftp, self.snowflake, self.s3):
            service.stop()


def start_all(s: Settings, environ: dict[str, str] | None = None) -> Services:
    """Start the three stand-ins for the settings `s` (its FOODBANK_HOME, and its landing and archive
    URIs where those already name S3 buckets; otherwise production's bucket names)."""
    import boto3

    environ = os.environ if environ is None else environ
    landing = s.landing_uri if s.landing_uri.startswith("s3://") else LANDING_URI
    archive = s.archive_uri if s.archive_uri.startswith("s3://") else ARCHIVE_URI
    credentials = {k: environ.get(k) or v for k, v in MOTO_CREDENTIALS.items()}
    started: list = []
    try:
        s3 = start_s3()
        started.append(s3)
        client = boto3.client(
            "s3",
            endpoint_url=s3.endpoint,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            region_name=credentials["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=s3_bucket_of(landing))
        # Retention writes its exports under Object Lock (retention.S3Archive), as in production.
        client.create_bucket(Bucket=s3_bucket_of(archive), ObjectLockEnabledForBucket=True)

        snowflake = start_snowflake()
        started.append(snowflake)
        sf_env = snowflake_env(snowflake.port, s.snowflake.database)
        ran, skipped = apply_migrations(sf_env)

        sftp = start_sftp(s.home / "sftp", s.home / "services")
        started.append(sftp)
    except BaseException:
        for service in reversed(started):
            service.stop()
        raise
    env = {
        "FOODBANK_HOME": str(s.home),
        **sf_env,
        "FOODBANK_LANDING_URI": landing,
        "FOODBANK_ARCHIVE_URI": archive,
        "AWS_ENDPOINT_URL": s3.endpoint,
        **credentials,
        "FOODBANK_SFTP_URI": sftp.uri,
        "FOODBANK_SFTP_KEY": str(sftp.client_key),
        "FOODBANK_SFTP_KNOWN_HOSTS": str(sftp.known_hosts),
    }
    return Services(s3, snowflake, sftp, env, len(ran), len(skipped))


def env_file_text(env: dict[str, str]) -> str:
    lines = ["# Written by `foodbank services` while it runs; `. this-file` points the other commands at it."]
    return "\n".join([*lines, *(f"export {k}={shlex.quote(v)}" for k, v in env.items())]) + "\n"


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of an env file `env_file_text` wrote (what sourcing it in a shell sets)."""
    env = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            name, _, value = line[len("export ") :].partition("=")
            env[name] = shlex.split(value)[0] if value else ""
    return env


def run_services(s: Settings, env_file: Path, say: Callable[[str], None] = print) -> None:
    """Start the stand-ins, write `env_file`, wait for SIGINT or SIGTERM, stop them, remove `env_file`."""
    import warnings

    # fakesnow answers each query through an Arrow table, and DuckDB warns about the copy every time.
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result", category=UserWarning)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    services = start_all(s)
    try:
        env_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = env_file.with_name(env_file.name + ".tmp")
        tmp.write_text(env_file_text(services.env))
        tmp.replace(env_file)  # whoever waits for the file sees all of it
        e = services.env
        say(
            f"S3 API (moto)        {e['AWS_ENDPOINT_URL']}  buckets: {e['FOODBANK_LANDING_URI']}, {e['FOODBANK_ARCHIVE_URI']}"
        )
        say(
            f"Snowflake emulator   {e['SNOWFLAKE_PROTOCOL']}://{e['SNOWFLAKE_HOST']}:{e['SNOWFLAKE_PORT']}  "
            f"database {e['SNOWFLAKE_DATABASE']}: {services.migrations_run} migration statements applied, "
            f"{services.migrations_skipped} account-level ones skipped (emulator gaps)"
        )
        say(
            f"SFTP (asyncssh)      {e['FOODBANK_SFTP_URI']}  serving {s.home / 'sftp' / 'outbound'} read-only, "
            f"host key {services.sftp.host_key_fingerprint}"
        )
        say(f"env file             {env_file}  (. {shlex.quote(str(env_file))}); Ctrl-C or SIGTERM stops")
        while not stop.wait(0.5):
            pass
    finally:
        say("stopping the services")
        services.stop()
        if env_file.exists() and read_env_file(env_file).get("AWS_ENDPOINT_URL") == services.env["AWS_ENDPOINT_URL"]:
            env_file.unlink()  # it pointed at ports nothing listens on any more


@contextlib.contextmanager
def in_background(home: Path, environ: dict[str, str], timeout: float = 180) -> Iterator[dict[str, str]]:
    """`foodbank services` in a separate process with FOODBANK_HOME=`home` (as `make demo-snowflake` runs it,
    for scripts and tests): the env file's variables while it runs, then SIGTERM and wait. `environ` is the
    process's environment without FOODBANK_HOME."""
    env_file = home / "services.env"
    env_file.unlink(missing_ok=True)
    log = home / "services.log"
    home.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "foodbank_platform.cli", "services", "--env-file", str(env_file)],
            env={**environ, "FOODBANK_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + timeout
        while not env_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"foodbank services wrote no {env_file}:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield read_env_file(env_file)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
