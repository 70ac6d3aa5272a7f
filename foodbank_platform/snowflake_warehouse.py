"""The Snowflake side of the warehouse (`FOODBANK_WAREHOUSE=snowflake`): the connection from the
`SNOWFLAKE_*` settings (`settings.SnowflakeSettings`), the same values dagster-snowflake's
`SnowflakeResource` gets in `defs/resources.py`.

Nothing here imports Dagster, and the connector (about a second to import) only when a connection
opens, so `foodbank sql` and the loader's tests use it directly.
"""

from __future__ import annotations

import time

from .settings import SnowflakeSettings

# How long one login attempt may take, and how many attempts (2 s, then 4 s apart) before giving up.
LOGIN_TIMEOUT_SECONDS = 30
CONNECT_ATTEMPTS = 3


class SnowflakeUnreachable(Exception):
    """No session could be opened: the message names the account and the host."""


def connect(sf: SnowflakeSettings, attempts: int = CONNECT_ATTEMPTS, first_delay: float = 2.0):
    """A `snowflake.connector` connection, retried with backoff on network errors; a refused login is
    not retried. Either way the error names the account and the host (`SnowflakeSettings.where`)."""
    import snowflake.connector
    from snowflake.connector.errors import DatabaseError, OperationalError

    for attempt in range(max(1, attempts)):
        try:
            return snowflake.connector.connect(**sf.connect_args(), login_timeout=LOGIN_TIMEOUT_SECONDS)
        except OperationalError as e:
            if attempt == max(1, attempts) - 1:
                raise SnowflakeUnreachable(f"{sf.where()}: {e}") from e
            time.sleep(first_delay * 2**attempt)
        except DatabaseError as e:
            raise SnowflakeUnreachable(f"{sf.where()}: {e}") from e
    raise AssertionError("unreachable")
