"""Reading the legacy SFTP server: pinned host key, key authentication, resumable downloads.

The account is read-only and another team's, so this client only lists, stats and reads. A host key that is
unknown or has changed is refused, never added: that is what a man in the middle looks like. The server drops
connections now and then, so every operation retries on a fresh connection and a download resumes at the byte
it reached, lands in a temp file, is size-checked, then renamed into place. `LocalSource` is the same interface
over a local folder (`open_source` picks by URI). More: docs/real_sources.md, "How the pieces behave".
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import shutil
import socket
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, TypeVar
from urllib.parse import unquote, urlparse

import paramiko

QUIET_SECONDS = 60
DONE_SUFFIX = ".done"
T = TypeVar("T")


@dataclass(frozen=True)
class RemoteFile:
    name: str
    size: int
    mtime: float


class HostKeyRejected(paramiko.SSHException):
    """The server's host key is not the pinned one: we refuse to talk to it."""


class TransferIncomplete(IOError):
    """A download ended with a different size than the server reported."""


# --- readiness (pure) ---------------------------------------------------------------------------


def is_ready(f: RemoteFile, readiness: str, names: set[str], now: float) -> bool:
    """The contract's rule per feed: `done_marker` feeds are complete once `<name>.done` exists,
    `quiet_minute` feeds once their modification time is more than a minute old."""
    if readiness == "done_marker":
        return f.name + DONE_SUFFIX in names
    if readiness == "quiet_minute":
        return f.mtime < now - QUIET_SECONDS
    if readiness == "always":
        return True
    raise ValueError(f"unknown readiness rule {readiness!r}")


def ready_files(
    listing: Iterable[RemoteFile], readiness: str, pattern: str = "*", now: float | None = None
) -> list[RemoteFile]:
    """The data files of a feed folder listing that are complete by the feed's rule, by name."""
    listing = list(listing)
    now = time.time() if now is None else now
    names = {f.name for f in listing}
    return sorted(
        (
            f
            for f in listing
            if fnmatch.fnmatch(f.name, pattern)
            and not f.name.endswith(DONE_SUFFIX)
            and is_ready(f, readiness, names, now)
        ),
        key=lambda f: f.name,
    )


# --- host key pinning ---------------------------------------------------------------------------


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH-style `SHA256:…` fingerprint, the form an operator compares with `ssh-keyscan`."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class PinnedHostKeys(paramiko.RejectPolicy):
    """RejectPolicy that says which host and which key it refused."""

    def missing_host_key(self, client, hostname, key):
        raise HostKeyRejected(
            f"SFTP host {hostname} offered {key.get_name()} key {fingerprint(key)}, which is not in the "
            f"pinned known-hosts file; refusing to connect. Verify the fingerprint with the server's "
            f"owner and add it to the known-hosts file if it is genuine."
        )


def _host_key_changed(hostname: str, e: paramiko.BadHostKeyException) -> HostKeyRejected:
    return HostKeyRejected(
        f"SFTP host {hostname} offered {e.key.get_name()} key {fingerprint(e.key)}, but the known-hosts file "
        f"pins {fingerprint(e.expected_key)}: the host key CHANGED; refusing to connect."
    )


# --- retries ------------------------------------------------------------------------------------

# Network trouble worth a new connection; authentication and host-key failures are not.
TRANSIENT = (socket.error, EOFError, paramiko.ssh_exception.NoValidConnectionsError, TransferIncomplete)


def is_transient(e: BaseException) -> bool:
    if isinstance(e, (HostKeyRejected, paramiko.AuthenticationException, FileNotFoundError, PermissionError)):
        return False
    return isinstance(e, TRANSIENT) or (
        isinstance(e, paramiko.SSHException) and not isinstance(e, paramiko.BadHostKeyException)
    )


def backoff_delays(attempts: int, first: float = 0.5, cap: float = 30.0) -> list[float]:
    return [min(first * 2**i, cap) for i in range(attempts - 1)]


# --- the SFTP server ----------------------------------------------------------------------------


class SftpSource:
    def __init__(
        self,
        host: str,
        port: int,
        user: str,
        root: str,
        key_path: str,
        known_hosts_path: str,
        attempts: int = 6,
        first_delay: float = 0.5,
        timeout: float = 30.0,
    ):
        if not key_path or not known_hosts_path:
            raise ValueError(
                "SFTP needs a private key and a pinned known-hosts file (FOODBANK_SFTP_KEY, FOODBANK_SFTP_KNOWN_HOSTS)"
            )
        self.host, self.port, self.user, self.root = host, port, user, root.rstrip("/") or "/"
        self.key_path, self.known_hosts_path = key_path, known_hosts_path
        self.attempts, self.first_delay, self.timeout = attempts, first_delay, timeout
        self.uri = f"sftp://{user}@{host}:{port}{self.root}"
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self.reconnects = 0  # visible to tests and progress logs

    @classmethod
    def from_uri(cls, uri: str, key_path: str | None, known_hosts_path: str | None, **kwargs) -> "SftpSource":
        u = urlparse(uri)
        if u.scheme != "sftp" or not u.hostname or not u.username:
            raise ValueError(f"not an sftp://user@host:port/folder URI: {uri}")
        return cls(
            u.hostname, u.port or 22, unquote(u.username), unquote(u.path) or "/", key_path, known_hosts_path, **kwargs
        )

    # connection ---------------------------------------------------------------------------------
    def _connect(self) -> paramiko.SFTPClient:
        if self._sftp is not None:
            return self._sftp
        ssh = paramiko.SSHClient()
        ssh.load_host_keys(self.known_hosts_path)  # only ours: never the system's, never saved back
        ssh.set_missing_host_key_policy(PinnedHostKeys())
        try:
            ssh.connect(
                self.host,
                self.port,
                username=self.user,
                key_filename=self.key_path,
                look_for_keys=False,
                allow_agent=False,
                timeout=self.timeout,
                banner_timeout=self.timeout,
                auth_timeout=self.timeout,
            )
        except paramiko.BadHostKeyException as e:
            ssh.close()
            raise _host_key_changed(f"[{self.host}]:{self.port}", e) from None
        except BaseException:
            ssh.close()
            raise
        self._ssh, self._sftp = ssh, ssh.open_sftp()
        self._sftp.get_channel().settimeout(self.timeout)
        return self._sftp

    def close(self) -> None:
        if self._ssh is not None:
            self._ssh.close()
        self._ssh = self._sftp = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _retrying(self, operation: Callable[[paramiko.SFTPClient], T]) -> T:
        delays = backoff_delays(self.attempts, self.first_delay)
        for attempt in range(self.attempts):
            try:
                return operation(self._connect())
            except BaseException as e:
                if not is_transient(e) or attempt == len(delays):
                    raise
                self.close()
                self.reconnects += 1
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")

    def _path(self, relative: str) -> str:
        return f"{self.root.rstrip('/')}/{relative.lstrip('/')}"

    # reading ------------------------------------------------------------------------------------
    def list(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        def ls(sftp: paramiko.SFTPClient) -> list[RemoteFile]:
            try:
                entries = sftp.listdir_attr(self._path(folder))
            except FileNotFoundError:
                return []
            return sorted(
                (
                    RemoteFile(a.filename, a.st_size or 0, float(a.st_mtime or 0))
                    for a in entries
                    if stat.S_ISREG(a.st_mode or 0) and fnmatch.fnmatch(a.filename, pattern)
                ),
                key=lambda f: f.name,
            )

        return self._retrying(ls)

    def download(self, remote: str, local_path: Path, chunk: int = 256 * 1024) -> int:
        """Copy `remote` (relative to the root) to `local_path`; resume after drops; return bytes."""
        local_path = Path(local_path)
        part = local_path.with_name(f".tmp-{local_path.name}.part")
        part.unlink(missing_ok=True)
        expected: dict = {}

        def fetch(sftp: paramiko.SFTPClient) -> int:
            st = sftp.stat(self._path(remote))
            if expected and (st.st_size, st.st_mtime) != (expected["size"], expected["mtime"]):
                part.unlink(missing_ok=True)  # re-uploaded while we were away: start over
            expected.update(size=st.st_size, mtime=st.st_mtime)
            offset = part.stat().st_size if part.exists() else 0
            with sftp.open(self._path(remote), "rb") as src, part.open("ab") as dst:
                src.seek(offset)
                src.prefetch(st.st_size)
                while block := src.read(chunk):
                    dst.write(block)
                dst.flush()
                os.fsync(dst.fileno())
            got = part.stat().st_size
            if got != st.st_size:
                raise TransferIncomplete(f"{remote}: got {got} bytes, the server says {st.st_size}")
            return got

        size = self._retrying(fetch)
        os.replace(part, local_path)
        return size


# --- a local folder laid out like the server ----------------------------------------------------


class LocalSource:
    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.uri = self.root.resolve().as_uri()

    def list(self, folder: str, pattern: str = "*") -> list[RemoteFile]:
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(
            (
                RemoteFile(e.name, e.stat().st_size, e.stat().st_mtime)
                for e in os.scandir(base)
                if e.is_file() and fnmatch.fnmatch(e.name, pattern)
            ),
            key=lambda f: f.name,
        )

    def download(self, remote: str, local_path: Path) -> int:
        local_path = Path(local_path)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=local_path.parent)
        os.close(fd)
        shutil.copyfile(self.root / remote, tmp)
        os.replace(tmp, local_path)
        return local_path.stat().st_size

    def close(self) -> None:
        pass


def open_source(uri: str, key_path: str | None = None, known_hosts_path: str | None = None):
    """`sftp://user@host:port/outbound` -> SftpSource; `file:///…` or a bare path -> LocalSource."""
    if uri.startswith("sftp://"):
        return SftpSource.from_uri(uri, key_path, known_hosts_path)
    from ..settings import uri_to_path

    return LocalSource(uri_to_path(uri))
