"""deploy/dagster.yaml loads as a real Dagster instance: Postgres storage, EcsRunLauncher, limits.

Real PostgreSQL (127.0.0.1:5432, a throw-away database) for run/event storage; ECS is moto's server on
loopback (nothing runnable offline plays ECS better), holding the run task definition the launcher
checks at start.
"""

from __future__ import annotations

import shutil
import tomllib
import uuid

import boto3
import psycopg2
import pytest
import yaml
from deploy_tools import ROOT

PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def dagster_database():
    name = f"dagster_deploy_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG)
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    yield name
    admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
    admin.close()


@pytest.fixture
def run_task_definition(s3_endpoint):  # moto's server serves ECS too
    ecs = boto3.client("ecs", endpoint_url=s3_endpoint)
    arn = ecs.register_task_definition(
        family="foodbank-dagster-run",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="1024",
        memory="4096",
        containerDefinitions=[{"name": "run", "image": "foodbank-platform:test", "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def test_production_instance_config_loads(tmp_path, monkeypatch, dagster_database, run_task_definition, s3_endpoint):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_DB": dagster_database,
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "unused-trust-auth",
        "DAGSTER_RUN_TASK_DEFINITION": run_task_definition,
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)

    from dagster import DagsterInstance
    from dagster_aws.ecs import EcsRunLauncher
    from dagster_postgres import PostgresRunStorage

    with DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert instance.get_runs_count() == 0  # the schema was created in the real database
        launcher = instance.run_launcher
        assert isinstance(launcher, EcsRunLauncher)
        assert launcher.task_definition == run_task_definition and launcher.container_name == "run"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "foodbank/raw_table", "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits


def test_image_workspace_loads_the_code_location_named_in_pyproject():
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    dagster_tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["dagster"]
    assert entry["python_module"]["module_name"] == dagster_tool["module_name"]
    assert entry["python_module"]["location_name"] == dagster_tool["code_location_name"]
    assert (ROOT / entry["python_module"]["module_name"].replace(".", "/")).with_suffix(".py").exists()


def test_dockerfile_is_slim_non_root_and_prepares_the_dbt_manifest():
    text = (ROOT / "Dockerfile").read_text()
    froms = [line.split()[1] for line in text.splitlines() if line.startswith("FROM ")]
    assert froms and all(f.startswith("python:3.11-slim") for f in froms)
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert "foodbank_platform.cli manifest" in text and "dbt_project/target/manifest.json" in text
    assert "deploy/dagster.yaml" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", ".foodbank"} <= {i.strip("/") for i in ignored}


def test_entrypoint_turns_the_sftp_secrets_into_private_files(tmp_path):
    import subprocess

    env = {
        "PATH": "/usr/bin:/bin",
        "TMPDIR": str(tmp_path),
        "FOODBANK_SFTP_PRIVATE_KEY": "-----KEY-----",
        "FOODBANK_SFTP_KNOWN_HOSTS_LINE": "[sftp.example.org]:22 ssh-ed25519 AAAA",
    }
    probe = (
        'cat "$FOODBANK_SFTP_KEY"; cat "$FOODBANK_SFTP_KNOWN_HOSTS"; stat -c %a "$FOODBANK_SFTP_KEY"; '
        'echo "left:${FOODBANK_SFTP_PRIVATE_KEY:-none}"'
    )
    out = subprocess.run(
        ["sh", str(ROOT / "deploy" / "entrypoint.sh"), "sh", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["-----KEY-----", "[sftp.example.org]:22 ssh-ed25519 AAAA", "600", "left:none"]
    # without a pinned host key the container refuses to start rather than trust any host
    env.pop("FOODBANK_SFTP_KNOWN_HOSTS_LINE")
    refused = subprocess.run(
        ["sh", str(ROOT / "deploy" / "entrypoint.sh"), "true"], env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode != 0 and "pinned host key" in refused.stderr
