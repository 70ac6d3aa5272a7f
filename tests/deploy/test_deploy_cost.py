"""The cost model: under the $18K/month ceiling, and its printed table adds up."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace

import pytest
from deploy_tools import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from deploy import cost

CEILING = 18_000


def printed(command: list[str]) -> str:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout


def money(cell: str) -> float:
    return float(cell.strip().replace(",", ""))


def test_monthly_total_is_under_the_ceiling():
    items = cost.lines()
    assert 0 < cost.total(items) < CEILING
    assert {line.area for line in items} >= {"DMS", "S3", "ECS Fargate", "RDS", "Snowflake"}


@pytest.mark.parametrize("command", [["-m", "deploy.cost"], ["deploy/cost.py"]])
def test_printed_table_adds_up(command):
    out = printed([sys.executable, *command])
    rows = [r.split("|")[1:-1] for r in out.splitlines() if r.startswith("| ")]
    header, body, (foot,) = rows[0], rows[1:-1], rows[-1:]
    assert header[0].strip() == "area" and foot[0].strip() == "TOTAL"
    for row in body:
        quantity, price, amount = money(row[2]), money(row[4]), money(row[5])
        assert amount == pytest.approx(quantity * price, abs=0.01 + quantity * price * 1e-4), row[1]
    assert money(foot[5]) == pytest.approx(sum(money(r[5]) for r in body), abs=0.01)
    assert money(foot[5]) == cost.total(cost.lines())
    stated = re.search(r"Monthly total: \$([\d,.]+)", out).group(1)
    assert money(stated) == money(foot[5]) < CEILING


def test_auto_suspend_billing():
    assert cost.billed_seconds_per_run(90, 60, 600) == 150
    assert cost.billed_seconds_per_run(10, 0, None) == 60  # Snowflake's minimum per resume
    assert cost.billed_seconds_per_run(700, 60, 600) == 600  # never suspends between runs


def test_the_model_follows_volumes_and_schedules():
    base = cost.total(cost.lines())
    busier = cost.Volumes(inventory_rows=80_000_000)
    assert cost.total(cost.lines(volumes=busier)) > base
    always_on = replace(cost.Schedule(), bi_hours_per_day=24)
    extra = 12 * cost.DAYS_PER_MONTH * cost.PRICES["snowflake_credit_enterprise"]
    assert cost.total(cost.lines(schedule=always_on)) == pytest.approx(base + extra, abs=0.02)
    top = cost.largest(cost.lines())
    assert [t.cost for t in top] == sorted((t.cost for t in cost.lines()), reverse=True)[:3]


def test_readme_shows_the_current_table():
    readme = (ROOT / "deploy" / "README.md").read_text()
    assert cost.render(cost.lines()) in readme, "regenerate the table in deploy/README.md: python -m deploy.cost"
