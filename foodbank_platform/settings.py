"""FOODBANK_* configuration: the only thing that differs between local, CI and production.

Every environment runs the same code path; this module turns environment variables into plain
values (paths and URIs). Nothing here imports Dagster, so the loader, simulator and CLI can use it
directly; `defs/resources.py` wraps these values as Dagster resources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path


def _file_uri(path: Path) -> str:
    return path.resolve().as_uri()


@dataclass(frozen=True)
class Settings:
    env: str
    home: Path
    landing_uri: str
    sftp_uri: str
    sftp_key: str | None
    sftp_known_hosts: str | None
    duckdb_path: Path
    first_business_day: date

    @property
    def dbt_target(self) -> str:
        return "prod" if self.env == "prod" else "local"


def load(environ: dict[str, str] | None = None) -> Settings:
    e = os.environ if environ is None else environ
    home = Path(e.get("FOODBANK_HOME", "./.foodbank")).resolve()
    return Settings(
        env=e.get("FOODBANK_ENV", "local"),
        home=home,
        landing_uri=e.get("FOODBANK_LANDING_URI") or _file_uri(home / "landing"),
        sftp_uri=e.get("FOODBANK_SFTP_URI") or _file_uri(home / "sftp" / "outbound"),
        sftp_key=e.get("FOODBANK_SFTP_KEY"),
        sftp_known_hosts=e.get("FOODBANK_SFTP_KNOWN_HOSTS"),
        duckdb_path=Path(e.get("FOODBANK_DUCKDB_PATH") or home / "warehouse.duckdb").resolve(),
        # The first day the platform closes (its partitions start here). The default is the demo's:
        # its week from 2026-10-29 opens with the stock of the 28th. Production sets its go-live day.
        first_business_day=date.fromisoformat(e.get("FOODBANK_FIRST_BUSINESS_DAY") or "2026-10-28"),
    )


def uri_to_path(uri: str) -> Path:
    """`file:///x/y` or a bare path -> Path."""
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        raise ValueError(f"not a local folder URI: {uri}")
    return Path(uri)
