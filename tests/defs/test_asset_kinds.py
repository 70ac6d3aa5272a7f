"""The tables the platform's Python writes (raw, the file ledger, the missing-files findings) show the
configured warehouse as their kind in the UI: duckdb by default, snowflake when FOODBANK_WAREHOUSE says so.
Each warehouse is read by a fresh interpreter, as a code location reads its settings when it loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PRINT_KINDS = """
import json
from foodbank_platform.defs.assets.raw import file_ledger_spec, raw_assets
from foodbank_platform.defs.checks import missing_files_findings_spec
kinds = {spec.key.to_user_string(): sorted(spec.kinds) for a in raw_assets for spec in a.specs}
kinds.update({s.key.to_user_string(): sorted(s.kinds) for s in (file_ledger_spec, missing_files_findings_spec)})
print(json.dumps(kinds))
"""


@pytest.mark.parametrize("warehouse", ["duckdb", "snowflake"])
def test_python_written_tables_show_the_configured_warehouse(warehouse, tmp_path):
    env = {**os.environ, "FOODBANK_HOME": str(tmp_path), "FOODBANK_WAREHOUSE": warehouse}
    done = subprocess.run([sys.executable, "-c", PRINT_KINDS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    kinds = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"raw/wms__inventory_transactions", "audit/file_ledger", "audit/dq_missing_files"} <= kinds.keys()
    assert all(k == [warehouse] for k in kinds.values()), kinds
