"""The warehouse resource on Snowflake (`FOODBANK_WAREHOUSE=snowflake`), through dagster-snowflake's
`SnowflakeResource`, whose configuration is built from the `SNOWFLAKE_*` settings.

Imported by `resources.build_resources` only when Snowflake is configured: dagster-snowflake imports
Snowpark, several seconds that a DuckDB code location does not pay.

Everything of the code location that touches the warehouse goes through these methods: the raw load
(`raw_target`: the loader's batch committed in one Snowflake transaction, `ingest/snowflake_load.py`),
retention (`retention_side`), the data-quality checks with their `audit.dq_*` tables and the finance
close's per-day metadata (`dbapi`: a Snowflake connector connection, on which `quality.py` and `closing.py`
run the same SQL as on DuckDB), the sensors' ledger and raw queries (`read_dbapi`, the same, `watch.py`),
and before dbt builds, the check that the migrations made every source dbt reads (`ensure_dbt_sources`).
The DuckDB resource's own connections (`connect`, `read`) have no meaning here: nothing calls them on
Snowflake, and they raise rather than open a local DuckDB file.

A session that cannot open (Snowflake unreachable, a login refused) fails with `SnowflakeUnreachable`,
whose message names the account and the host (and port): the connector's own ("Could not connect to
Snowflake backend after 2 attempt(s)") names neither. Each login attempt is bounded by
`LOGIN_TIMEOUT_SECONDS`; the raw assets retry a failed load with exponential backoff (their
`RetryPolicy`, `INGEST_RETRY`).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from dagster_snowflake import SnowflakeResource

from .. import retention, warehouse
from ..ingest.snowflake_load import SnowflakeTarget
from ..settings import SnowflakeSettings
from ..snowflake_warehouse import LOGIN_TIMEOUT_SECONDS, SnowflakeUnreachable
from .resources_warehouse import WarehouseResource, secret

NO_DUCKDB = (
    "FOODBANK_WAREHOUSE=snowflake has no DuckDB warehouse file; what runs on either warehouse uses dbapi(), "
    "read_dbapi(), raw_target(), retention_side() or ensure_dbt_sources()"
)


class MissingDbtSources(Exception):
    """A raw or audit table (or a raw column) dbt reads is not in Snowflake: a migration was not applied."""


def snowflake_resource(sf: SnowflakeSettings) -> SnowflakeResource:
    """dagster-snowflake's resource with the settings' connection; an emulator's host, port and
    protocol go through `additional_snowflake_connection_args`. A key is a file (`private_key_path`) or its PEM
    text (`private_key`, from SNOWFLAKE_PRIVATE_KEY), which the resource turns into what the connector takes.
    A login attempt gives up after `LOGIN_TIMEOUT_SECONDS` (the connector's default is 120). The password
    and the key text go in as the environment variables they came from (`secret`), never as values."""
    extra = {k: v for k, v in {"host": sf.host, "port": sf.port, "protocol": sf.protocol}.items() if v}
    return SnowflakeResource(
        account=sf.account,
        user=sf.user,
        password=secret("SNOWFLAKE_PASSWORD", sf.password),
        private_key_path=sf.private_key_path,
        private_key=secret("SNOWFLAKE_PRIVATE_KEY", sf.private_key),
        role=sf.role,
        warehouse=sf.warehouse,
        database=sf.database,
        login_timeout=LOGIN_TIMEOUT_SECONDS,
        additional_snowflake_connection_args=extra or None,
    )


class SnowflakeWarehouseResource(WarehouseResource):
    """The warehouse on Snowflake. The DuckDB bounds (memory limit, spill folder) still bound the
    loader's scratch DuckDB, where a batch is typed before it goes to Snowflake."""

    snowflake: SnowflakeResource

    def ensure_dbt_sources(self) -> None:
        """The migrations create the raw and audit tables (deploy/snowflake, V1.6 and V1.7, a catalog change a
        later one), and the runs' role (RUNNER, V1.13: LOADER and TRANSFORMER) may not create tables in raw: here
        they are verified, and what is missing fails the run by name rather than dbt by a compilation error."""
        with self.dbapi() as con:
            missing = warehouse.missing_dbt_sources(con)
        if missing:
            raise MissingDbtSources(
                f"Snowflake database {self.snowflake.database} lacks what dbt reads as sources: {', '.join(missing)}; "
                "apply the migrations in deploy/snowflake/migrations (deploy/README.md, step 3)"
            )

    def where(self) -> str:
        """The account and the host (and port) this resource reaches, as `SnowflakeSettings.where` says them."""
        extra = self.snowflake.additional_snowflake_connection_args or {}
        return SnowflakeSettings(account=self.snowflake.account, host=extra.get("host"), port=extra.get("port")).where()

    @contextlib.contextmanager
    def _connection(self):
        """dagster-snowflake's connection; one that cannot open fails naming the account and the host.
        Errors of the statements run on it pass through unchanged."""
        from snowflake.connector.errors import DatabaseError

        with contextlib.ExitStack() as stack:
            try:
                con = stack.enter_context(self.snowflake.get_connection())
            except DatabaseError as e:
                raise SnowflakeUnreachable(f"{self.where()}: {e}") from e
            yield con

    @contextlib.contextmanager
    def raw_target(self) -> Iterator[SnowflakeTarget]:
        with self._connection() as con:
            yield SnowflakeTarget(connection=con, bounds=self.bounds())

    @contextlib.contextmanager
    def retention_side(self) -> Iterator[retention.SnowflakeSide]:
        with self._connection() as con:
            yield retention.SnowflakeSide(con)

    @contextlib.contextmanager
    def dbapi(self):
        """A Snowflake connector connection (dagster-snowflake's), for SQL written to run on either warehouse."""
        with self._connection() as con:
            yield con

    @contextlib.contextmanager
    def read_dbapi(self):
        """The sensors' connection for SQL written to run on either warehouse: Snowflake's, as `dbapi()`."""
        with self.dbapi() as con:
            yield con

    # The DuckDB resource's own connections: inherited, they would open a local DuckDB file (in production,
    # inside a task that loses it when it ends). Nothing calls them on Snowflake; a caller that did is told.
    @contextlib.contextmanager
    def connect(self):
        raise NotImplementedError(f"connect(): {NO_DUCKDB}")
        yield  # pragma: no cover

    @contextlib.contextmanager
    def read(self):
        raise NotImplementedError(f"read(): {NO_DUCKDB}")
        yield  # pragma: no cover
