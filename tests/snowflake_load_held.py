"""A Snowflake raw load in a process of its own, held at one statement of a batch's commit so that a test
can SIGKILL it there (tests/ingest/test_loader_snowflake.py).

    python tests/snowflake_load_held.py LANDING STATEMENT N SIGNAL_FILE

loads LANDING into the Snowflake of the `SNOWFLAKE_*` environment (`loader.load_new_files` with
`SnowflakeTarget`), one table at a time. In this process only, the connector's cursor is wrapped: the
first N-1 batches run `STATEMENT` (`BEGIN`: every PUT of the batch done, no transaction open; `COMMIT`:
every COPY done inside the open transaction), and the N-th waits there, once the earlier ones have
returned, after writing SIGNAL_FILE (JSON: the PUTs run so far and the batches past the statement). It
then waits to be killed. Product code knows nothing of this.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path


def main(landing: str, statement: str, n: int, signal_file: str) -> None:
    from snowflake.connector.cursor import SnowflakeCursor

    from foodbank_platform import settings
    from foodbank_platform.ingest.loader import load_new_files
    from foodbank_platform.ingest.snowflake_load import SnowflakeTarget
    from foodbank_platform.landing.store import LocalStore

    lock = threading.Lock()
    seen = {"puts": 0, "reached": 0, "passed": 0}
    execute = SnowflakeCursor.execute

    def held_execute(self, command, *args, **kwargs):
        word = command.strip().split(None, 1)[0].upper() if command.strip() else ""
        if word == statement:
            with lock:
                seen["reached"] += 1
                mine = seen["reached"]
            if mine >= n:
                if mine == n:
                    while seen["passed"] < n - 1:  # the earlier batches' statements have returned
                        time.sleep(0.01)
                    Path(signal_file + ".tmp").write_text(json.dumps({"puts": seen["puts"], "passed": n - 1}))
                    Path(signal_file + ".tmp").rename(signal_file)
                while True:
                    time.sleep(60)
        result = execute(self, command, *args, **kwargs)
        with lock:
            seen["puts"] += word == "PUT"
            seen["passed"] += word == statement
        return result

    SnowflakeCursor.execute = held_execute
    target = SnowflakeTarget(settings.load().snowflake)
    load_new_files(LocalStore(landing), target, concurrency=1)
    raise SystemExit(f"the load ended without reaching {statement} #{n}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2].upper(), int(sys.argv[3]), sys.argv[4])
