"""FOODBANK_* configuration: the only thing that differs between local, CI and production.

Every environment runs the same code path; this module turns environment variables into plain
values (paths and URIs). Nothing here imports Dagster, so the loader, simulator and CLI can use it
directly; `defs/resources.py` wraps these values as Dagster resources.

One setting picks the warehouse: `FOODBANK_WAREHOUSE=duckdb` (the default, the file at
`FOODBANK_DUCKDB_PATH`) or `snowflake`, reached with the `SNOWFLAKE_*` variables (`SnowflakeSettings`); it picks
dbt's target too (`Settings.dbt_target`), which reads the same variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# DuckDB's own default is 80% of the machine's memory, which let one 10-minute cycle take 14.5 GB.
# A cycle runs two DuckDB instances at most (the Dagster process's and dbt's), each bounded by this,
# beside ~0.6 GB of Python: 1 GB each keeps a cycle under 2 GB; what does not fit spills to disk.
DUCKDB_MEMORY_LIMIT = "1GB"
WAREHOUSES = ("duckdb", "snowflake")


def _file_uri(path: Path) -> str:
    return path.resolve().as_uri()


@dataclass(frozen=True)
class SnowflakeSettings:
    """The Snowflake connection, from SNOWFLAKE_ACCOUNT, SNOWFLAKE_USER, SNOWFLAKE_PASSWORD, or for key-pair
    auth (production's service users) SNOWFLAKE_PRIVATE_KEY (the unencrypted PEM text, as the foodbank/snowflake
    secret gives it to the ECS tasks) or SNOWFLAKE_PRIVATE_KEY_PATH (a key file), SNOWFLAKE_ROLE,
    SNOWFLAKE_WAREHOUSE, SNOWFLAKE_DATABASE (default FOODBANK); SNOWFLAKE_HOST, SNOWFLAKE_PORT and
    SNOWFLAKE_PROTOCOL point it at an emulator (fakesnow: `localhost`, its port, `http`)."""

    account: str = ""
    user: str = ""
    password: str | None = None
    private_key_path: str | None = None
    private_key: str | None = field(default=None, repr=False)  # PEM text: kept out of repr, hence out of logs
    role: str | None = None
    warehouse: str | None = None
    database: str = "FOODBANK"
    host: str | None = None
    port: int | None = None
    protocol: str | None = None

    def connect_args(self) -> dict:
        """Keyword arguments of `snowflake.connector.connect` (and of dagster-snowflake's resource)."""
        args = {
            "account": self.account,
            "user": self.user,
            "password": self.password,
            "private_key_file": self.private_key_path,
            "private_key": _der(self.private_key) if self.private_key else None,
            "role": self.role,
            "warehouse": self.warehouse,
            "database": self.database,
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
        }
        return {k: v for k, v in args.items() if v not in (None, "")}

    def where(self) -> str:
        """What an error names: the account and the host it was reached at."""
        host = self.host or f"{self.account}.snowflakecomputing.com"
        return f"Snowflake account {self.account or '(SNOWFLAKE_ACCOUNT unset)'} at {host}" + (
            f":{self.port}" if self.port else ""
        )


@dataclass(frozen=True)
class Settings:
    env: str  # FOODBANK_ENV: local | prod; prod runs steps in separate processes (definitions.py)
    home: Path
    landing_uri: str
    sftp_uri: str
    sftp_key: str | None
    sftp_known_hosts: str | None
    duckdb_path: Path
    first_business_day: date
    duckdb_memory_limit: str  # per DuckDB instance, in DuckDB's units ("1GB", "512MB")
    duckdb_temp_dir: Path  # where a DuckDB instance spills what its memory limit does not hold
    warehouse: str = "duckdb"  # FOODBANK_WAREHOUSE: duckdb | snowflake
    snowflake: SnowflakeSettings = SnowflakeSettings()
    # FOODBANK_ARCHIVE_URI: where retention exports raw partitions before deleting them (retention.py):
    # `s3://<archive bucket>/warehouse/` in production, a local folder otherwise.
    archive_uri: str = ""

    @property
    def dbt_target(self) -> str:
        """The dbt_project/profiles.yml target of the configured warehouse: `local` (DuckDB) or `snowflake`."""
        return "snowflake" if self.warehouse == "snowflake" else "local"


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
        first_business_day=date.fromisoformat(e.get("FOODBANK_FIRST_BUSINESS_DAY") or "2026-10-29"),
        duckdb_memory_limit=e.get("FOODBANK_DUCKDB_MEMORY_LIMIT") or DUCKDB_MEMORY_LIMIT,
        duckdb_temp_dir=Path(e.get("FOODBANK_DUCKDB_TEMP_DIR") or home / "duckdb_tmp").resolve(),
        warehouse=_warehouse(e.get("FOODBANK_WAREHOUSE") or "duckdb"),
        archive_uri=e.get("FOODBANK_ARCHIVE_URI") or _file_uri(home / "archive"),
        snowflake=SnowflakeSettings(
            account=e.get("SNOWFLAKE_ACCOUNT", ""),
            user=e.get("SNOWFLAKE_USER", ""),
            password=e.get("SNOWFLAKE_PASSWORD") or None,
            private_key_path=e.get("SNOWFLAKE_PRIVATE_KEY_PATH") or None,
            private_key=e.get("SNOWFLAKE_PRIVATE_KEY") or None,
            role=e.get("SNOWFLAKE_ROLE") or None,
            warehouse=e.get("SNOWFLAKE_WAREHOUSE") or None,
            database=e.get("SNOWFLAKE_DATABASE") or "FOODBANK",
            host=e.get("SNOWFLAKE_HOST") or None,
            port=int(e["SNOWFLAKE_PORT"]) if e.get("SNOWFLAKE_PORT") else None,
            protocol=e.get("SNOWFLAKE_PROTOCOL") or None,
        ),
    )


def _der(pem: str) -> bytes:
    """The connector takes a key as DER bytes; the secret holds it as PEM text (cryptography is the connector's
    own dependency, imported only when a connection's arguments are built)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _warehouse(name: str) -> str:
    if name.lower() not in WAREHOUSES:
        raise ValueError(f"FOODBANK_WAREHOUSE={name}: expected one of {', '.join(WAREHOUSES)}")
    return name.lower()


def uri_to_path(uri: str) -> Path:
    """`file:///x/y` or a bare path -> Path."""
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        raise ValueError(f"not a local folder URI: {uri}")
    return Path(uri)
