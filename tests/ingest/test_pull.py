"""SFTP feeds → landing: only ready files, every distinct version kept, the source never touched."""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from foodbank_platform.ingest.pull import pull_feed
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.sources import catalog
from foodbank_platform.sources.sftp import LocalSource


def tree_digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def pull_all(src, store, now=None):
    return {t.raw_table: pull_feed(src, store, t, now=now) for t in catalog.sftp_tables()}


def test_pull_rules_and_versions(tmp_path, samples_dir):
    sftp = tmp_path / "sftp"
    shutil.copytree(samples_dir / "sftp" / "outbound", sftp)
    (sftp / "legacy_warehouse/shipments/shipments_20261102_0930.csv").write_bytes(b"still being written")
    young = sftp / "usda_tefap/tefap_receipts_20261102.txt"
    young.write_bytes(b"bol_number|line_number\n")  # modified just now: may still be growing
    before = tree_digest(sftp)
    src, store = LocalSource(sftp), LocalStore(tmp_path / "landing")

    first = pull_all(src, store)
    assert first["legacy_warehouse__shipments"] == ["sftp/legacy_warehouse/shipments/shipments_20261102_0915.csv"]
    assert first["usda_tefap__receipts"] == ["sftp/usda_tefap/tefap_receipts_20261101.txt"]
    assert first["manual_adjustments__adjustments"] == ["sftp/manual_adjustments/Nov week 1 adjustments.csv"]
    assert all(v == [] for v in pull_all(src, store).values())  # nothing new: nothing pulled

    # the marker arrives; the young file ages past a minute; a name is re-sent with new bytes
    (sftp / "legacy_warehouse/shipments/shipments_20261102_0930.csv.done").write_bytes(b"")
    adj = sftp / "manual_adjustments/Nov week 1 adjustments.csv"
    adj.write_bytes(adj.read_bytes().replace(b"tkim,\n", b"tkim,rpatel\n"))
    old = time.time() - 120
    os.utime(adj, (old, old))
    third = pull_all(src, store, now=time.time() + 120)
    assert third["legacy_warehouse__shipments"] == ["sftp/legacy_warehouse/shipments/shipments_20261102_0930.csv"]
    assert third["usda_tefap__receipts"] == ["sftp/usda_tefap/tefap_receipts_20261102.txt"]
    [corrected] = third["manual_adjustments__adjustments"]
    assert corrected.startswith("sftp/manual_adjustments/_versions/") and corrected.endswith(
        "/Nov week 1 adjustments.csv"
    )
    assert store.read_bytes("sftp/manual_adjustments/Nov week 1 adjustments.csv") != store.read_bytes(corrected)

    # the source tree changed only by what the test itself did: the puller wrote nothing there
    after = tree_digest(sftp)
    assert set(after) - set(before) == {"legacy_warehouse/shipments/shipments_20261102_0930.csv.done"}
