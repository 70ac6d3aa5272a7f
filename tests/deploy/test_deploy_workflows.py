"""CI/CD: the workflows do what the issue asks, and deploy waits for CI and a person."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from deploy_tools import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def commands(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_ci_lints_tests_builds_dbt_infra_and_image():
    ci = load("ci.yml")
    jobs = ci["jobs"]
    assert "make lint" in commands(jobs["lint"])
    # The test job is .ci/run: the README's two commands, the demo with no virtual environment on PATH.
    assert ".ci/run" in commands(jobs["test"])
    ci_run = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if not line.startswith("#")]
    assert "make test" in ci_run
    assert any(
        line.startswith("env -i ") and "PATH=/usr/local/bin:/usr/bin:/bin" in line and line.endswith("make demo")
        for line in ci_run
    )
    assert set(jobs["dbt"]["strategy"]["matrix"]["target"]) == {"local", "snowflake"}
    dbt = commands(jobs["dbt"])
    assert "dbt parse" in dbt and "dbt compile" in dbt and "--target snowflake" in dbt
    infra = commands(jobs["infrastructure"])
    assert "synth" in infra and "cfn-lint" in infra and "checkov" in infra
    assert any("docker/build-push-action" in s.get("uses", "") for s in jobs["image"]["steps"])
    assert "workflow_call" in ci["on"]


def test_deploy_runs_on_main_after_ci_with_manual_approval():
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    assert deploy["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    job = deploy["jobs"]["deploy"]
    assert job["needs"] == "ci" and job["environment"] == "production"
    assert job["permissions"]["id-token"] == "write"
    run = commands(job)
    assert "cdk" in run and "deploy" in run and "schemachange deploy" in run
    assert "deploy/snowflake/migrations" in run


def test_make_lint_passes_with_ruff_check_and_format_and_sqlfluff():
    """The target CI's lint job and pre-commit run: the repository is clean as committed."""
    ruff = Path(sys.executable).with_name("ruff")
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    done = subprocess.run(
        ["make", "--no-print-directory", "lint", f"RUFF={ruff}", f"SQLFLUFF={sqlfluff}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        # sqlfluff over every model takes minutes on two cores that the other test worker shares
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"{ruff} check ." in done.stdout and f"{ruff} format --check ." in done.stdout
    assert f"{sqlfluff} lint" in done.stdout and "dbt_project/models" in done.stdout
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert {h["id"] for h in hooks} == {"ruff-check", "ruff-format", "sqlfluff-lint"}
