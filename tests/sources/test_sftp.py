"""The SFTP client against a real SFTP server on loopback (asyncssh, chrooted to a temp folder).

Covers what goes wrong with the legacy server in real life: a host key that is not the pinned one
(refused, with host and fingerprint), a connection dropped in the middle of a file (the client
reconnects and resumes; landing gets the exact bytes), and files that are not complete yet.
"""

from __future__ import annotations

import os
import tempfile
import time

import asyncssh
import pytest
from fixtures_services import known_hosts_line

from foodbank_platform.ingest.pull import pull_feed
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import catalog
from foodbank_platform.sources.sftp import (
    HostKeyRejected,
    LocalSource,
    RemoteFile,
    SftpSource,
    backoff_delays,
    open_source,
    ready_files,
)

SHIPMENTS = catalog.table("legacy_warehouse__shipments")
NOW = 1_800_000_000.0


# --- readiness rules (pure) ---------------------------------------------------------------------


def test_done_marker_feed_is_ready_only_with_its_marker():
    listing = [
        RemoteFile("shipments_20261102_1000.csv", 10, NOW),
        RemoteFile("shipments_20261102_1000.csv.done", 0, NOW),
        RemoteFile("shipments_20261102_1015.csv", 10, NOW - 3600),
        RemoteFile("notes.txt", 1, NOW - 3600),
    ]
    ready = ready_files(listing, "done_marker", "shipments_*.csv", now=NOW)
    assert [f.name for f in ready] == ["shipments_20261102_1000.csv"]


def test_quiet_minute_feed_waits_until_the_file_is_a_minute_old():
    listing = [RemoteFile("a.csv", 5, NOW - 61), RemoteFile("b.csv", 5, NOW - 59), RemoteFile("c.csv", 5, NOW - 60)]
    assert [f.name for f in ready_files(listing, "quiet_minute", "*.csv", now=NOW)] == ["a.csv"]
    assert [f.name for f in ready_files(listing, "quiet_minute", "*.csv", now=NOW + 2)] == ["a.csv", "b.csv", "c.csv"]


def test_unknown_readiness_rule_is_an_error():
    with pytest.raises(ValueError):
        ready_files([RemoteFile("a", 1, 0)], "sometimes", now=NOW)


def test_backoff_grows_and_is_capped():
    assert backoff_delays(5, 0.5, cap=3) == [0.5, 1.0, 2.0, 3]


def test_open_source_picks_by_uri(tmp_path):
    assert isinstance(open_source(tmp_path.as_uri()), LocalSource)
    src = open_source("sftp://feeds@sftp.example.org:2222/outbound", "/k", "/kh")
    assert (src.host, src.port, src.user, src.root) == ("sftp.example.org", 2222, "feeds", "/outbound")
    with pytest.raises(ValueError, match="known-hosts"):
        open_source("sftp://feeds@sftp.example.org/outbound")


# --- against the real server --------------------------------------------------------------------


def _drop(server, folder: str, name: str, data: bytes, age: float = 0) -> None:
    path = server.root / "outbound" / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if age:
        os.utime(path, (time.time() - age, time.time() - age))


def _source(server, **kw) -> SftpSource:
    return SftpSource.from_uri(server.uri, str(server.client_key), str(server.known_hosts), first_delay=0.05, **kw)


def test_list_and_download(sftp_server, tmp_path):
    body = "shipment_line_id,agency_name\r\nSL-1,Despensa Peña\r\n".encode("cp1252")
    _drop(sftp_server, "legacy_warehouse/shipments", "shipments_20261102_1000.csv", body, age=120)
    with _source(sftp_server) as src:
        listing = src.list("legacy_warehouse/shipments")
        got = {f.name: f for f in listing}
        assert got["shipments_20261102_1000.csv"].size == len(body)
        assert abs(got["shipments_20261102_1000.csv"].mtime - (time.time() - 120)) < 5
        assert src.list("no/such/feed") == []
        src.download("legacy_warehouse/shipments/shipments_20261102_1000.csv", tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_bytes() == body
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]  # no temp file left behind


def test_pull_lands_only_complete_files(sftp_server, tmp_path):
    folder = SHIPMENTS.sftp_folder
    _drop(sftp_server, folder, "shipments_20261103_0900.csv", b"a,b\r\n1,2\r\n")
    _drop(sftp_server, folder, "shipments_20261103_0900.csv.done", b"")
    _drop(sftp_server, folder, "shipments_20261103_0915.csv", b"a,b\r\n3,")  # still being written
    store = LocalStore(tmp_path / "landing")
    with _source(sftp_server) as src:
        written = pull_feed(src, store, SHIPMENTS)
    assert written == ["sftp/legacy_warehouse/shipments/shipments_20261103_0900.csv"]
    assert store.read_bytes(written[0]) == b"a,b\r\n1,2\r\n"


def test_unknown_host_key_is_refused_naming_host_and_fingerprint(sftp_server, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    src = SftpSource.from_uri(sftp_server.uri, str(sftp_server.client_key), str(empty))
    with pytest.raises(HostKeyRejected) as err:
        src.list("legacy_warehouse")
    msg = str(err.value)
    assert f"[127.0.0.1]:{sftp_server.port}" in msg and sftp_server.host_key_fingerprint in msg
    assert src.reconnects == 0  # not retried: a wrong key is not a network blip


def test_changed_host_key_is_refused(sftp_server, tmp_path):
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    pinned = tmp_path / "known_hosts"
    pinned.write_text(known_hosts_line("127.0.0.1", sftp_server.port, impostor.export_public_key().decode()))
    src = SftpSource.from_uri(sftp_server.uri, str(sftp_server.client_key), str(pinned))
    with pytest.raises(HostKeyRejected, match="CHANGED") as err:
        src.list("legacy_warehouse")
    assert sftp_server.host_key_fingerprint in str(err.value)
    assert impostor.get_fingerprint("sha256") in str(err.value)


def test_dropped_connection_mid_transfer_resumes_byte_identical(sftp_server, tmp_path, monkeypatch):
    body = os.urandom(3 * 1024 * 1024 + 17)
    name = "shipments_20261104_1000.csv"
    _drop(sftp_server, SHIPMENTS.sftp_folder, name, body)
    _drop(sftp_server, SHIPMENTS.sftp_folder, name + ".done", b"")
    store = LocalStore(tmp_path / "landing")
    # The pull downloads into a temporary folder; keep it in tmp_path so the server can wait, before
    # it drops the link, until the client has landed part of the file (a busy machine reads late).
    pulls = tmp_path / "pulls"
    pulls.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(pulls))

    def landed() -> int:
        return max((p.stat().st_size for p in pulls.glob("*/.tmp-*.part")), default=0)

    sftp_server.arm_drop(after_bytes=1024 * 1024, until=lambda: landed() > 0, landed=landed)
    with _source(sftp_server) as src:
        written = pull_feed(src, store, SHIPMENTS)
        assert src.reconnects >= 1  # the drop really happened and was survived
    assert sftp_server.drops["after_bytes"] is None
    # Resumed, not restarted: the new connection's first read starts where the landed bytes ended
    # (on a busy machine the client may have landed nothing before the drop; then 0 is right).
    drops = sftp_server.drops
    assert drops["resumed_at"] == drops["landed_at_resume"] <= 1024 * 1024, drops
    assert drops["resumed_at"] > 0 or drops["landed_at_drop"] == 0, drops  # landed bytes are kept
    assert store.read_bytes(f"sftp/legacy_warehouse/shipments/{name}") == body
    assert f"sftp/legacy_warehouse/shipments/{name}" in written
