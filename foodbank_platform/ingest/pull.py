"""Copy ready SFTP files into landing, never touching the server.

The SFTP account is read-only and the legacy tools re-upload the same names, so the puller keeps
every distinct version: the first bytes of a name land at `sftp/<feed>/<name>`, later different
bytes beside them at `sftp/<feed>/_versions/<sha16>/<name>`. A small state object per feed
(`_state/sftp/<feed>.json`: name → size, mtime, sha256 of what was last pulled) lets a 10-minute
cycle skip unchanged files without downloading them. The state is written after the copies, so a
crash in between only costs a re-download whose hash is then recognised.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from pathlib import Path

from ..landing.store import LandingStore
from ..sources.catalog import SourceTable
from . import ledger


def state_key(table: SourceTable) -> str:
    return f"_state/{table.landing_prefix}.json"


def landing_key_for(table: SourceTable, name: str, checksum: str, first: bool) -> str:
    base = table.landing_prefix
    return f"{base}/{name}" if first else ledger.versioned_key(base, name, checksum)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pull_feed(source, store: LandingStore, table: SourceTable, now: float | None = None) -> list[str]:
    """Pull the feed's ready files that are new or changed; return the landing keys written."""
    from ..sources.sftp import ready_files

    now = time.time() if now is None else now
    state: dict[str, dict] = json.loads(store.read_bytes(state_key(table))) if store.exists(state_key(table)) else {}
    listing = source.list(table.sftp_folder)
    written: list[str] = []
    for f in ready_files(listing, table.readiness, table.pattern, now=now):
        seen = state.get(f.name)
        if seen and seen["size"] == f.size and seen["mtime"] == f.mtime:
            continue
        with tempfile.TemporaryDirectory(prefix="foodbank-pull-") as tmp:
            local = Path(tmp) / "file"
            source.download(f"{table.sftp_folder}/{f.name}", local)
            checksum = _sha256(local)
            shas = set(seen.get("versions", [])) if seen else set()
            if checksum not in shas:
                key = landing_key_for(table, f.name, checksum, first=not shas)
                if not store.exists(key):
                    store.put_file(key, local)
                written.append(key)
                shas.add(checksum)
        state[f.name] = {"size": f.size, "mtime": f.mtime, "sha256": checksum, "versions": sorted(shas)}
    if written or listing:
        store.write_bytes(state_key(table), json.dumps(state, sort_keys=True, indent=1).encode())
    return written
