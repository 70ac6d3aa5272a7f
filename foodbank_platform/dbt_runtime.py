"""Where the dbt project is, which dbt runs it, and how its manifest is prepared.

dbt is the one installed beside this interpreter, never one found on PATH: `make demo` runs without the
virtual environment on PATH, and another dbt would build with another version. The manifest is an explicit
step (`foodbank manifest`, README "Quick start"); importing the code location only reads it and writes no
environment: each dbt command gets the warehouse and its DuckDB bounds from `dbt_env(settings)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sysconfig
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_shared.record import replace

from . import settings as fb_settings
from . import warehouse

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
PARTIAL_PARSE = "partial_parse.msgpack"


class ManifestMissing(RuntimeError):
    """The dbt manifest has not been prepared (a fresh clone before `make manifest`)."""


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv's `bin/`, the image's `/opt/venv/bin`)."""
    path = Path(sysconfig.get_path("scripts")) / "dbt"
    if not path.exists():
        raise FileNotFoundError(
            f"dbt is not installed in this Python environment ({path} is missing): "
            f"install the project with `make install`"
        )
    return str(path)


class VenvDbtPreparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparer (`dbt parse`), with this environment's dbt instead of PATH's. `dagster dev`
    uses it to re-parse on every code reload."""

    def _cli(self, project: DbtProject) -> DbtCliResource:
        return DbtCliResource(project_dir=project, dbt_executable=dbt_executable())

    def _prepare_packages(self, project: DbtProject) -> None:
        self._cli(project).cli(["deps", "--quiet"], target_path=project.target_path).wait()

    def _prepare_manifest(self, project: DbtProject) -> None:
        self._cli(project).cli(["parse", "--quiet"], target_path=project.target_path).wait()
        self._invalidate_seeds_in_partial_parse(project)


def dbt_env(s: fb_settings.Settings) -> dict[str, str]:
    """The variables profiles.yml reads that come from our settings: the DuckDB warehouse and its bounds
    (target local), and with FOODBANK_WAREHOUSE=snowflake the Snowflake connection's values as the Python
    side resolved them (target snowflake; those set, the password and the key text excepted: secrets stay out of
    this mapping, and profiles.yml reads them from the SNOWFLAKE_PASSWORD and SNOWFLAKE_PRIVATE_KEY settings read
    too)."""
    bounds = warehouse.duckdb_settings(s)
    env = {
        "FOODBANK_DUCKDB_PATH": str(s.duckdb_path),
        "FOODBANK_DUCKDB_MEMORY_LIMIT": bounds["memory_limit"],
        "FOODBANK_DUCKDB_TEMP_DIR": bounds["temp_directory"],
    }
    if s.warehouse == "snowflake":
        sf = s.snowflake
        values = {
            "SNOWFLAKE_ACCOUNT": sf.account,
            "SNOWFLAKE_USER": sf.user,
            "SNOWFLAKE_PRIVATE_KEY_PATH": sf.private_key_path,
            "SNOWFLAKE_ROLE": sf.role,
            "SNOWFLAKE_WAREHOUSE": sf.warehouse,
            "SNOWFLAKE_DATABASE": sf.database,
            "SNOWFLAKE_HOST": sf.host,
            "SNOWFLAKE_PORT": str(sf.port) if sf.port else None,
            "SNOWFLAKE_PROTOCOL": sf.protocol,
        }
        env.update({name: value for name, value in values.items() if value})
    return env


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` in os.environ for the duration of the block, then as they were."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class FoodbankDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource, with the environment profiles.yml reads (`dbt_env`) given to each dbt
    command it starts. dagster-dbt builds both the dbt subprocess's environment and its own in-process
    adapter (row counts, column types) from os.environ when `cli` is called, so the values are in place
    for exactly that call.

    Each command starts from the partial parse of the last command with the same profile values and
    vars (`keep_parse` saves it): dbt re-parses the whole project when either differs from the parse it
    is given, and dagster-dbt only offers the one `foodbank manifest` wrote, whose warehouse path and
    bounds are rarely a run's. Measured: a full parse costs 8-30 s of every 10-minute run here."""

    env: dict[str, str] = {}

    def cli(
        self,
        args: Sequence[str],
        *,
        extra_env: Mapping[str, str] | None = None,
        context: Any = None,
        target_path: Path | None = None,
        **kwargs: Any,
    ):
        """dagster-dbt's `cli`; `extra_env` adds variables for this command only."""
        target_path = target_path or self._get_unique_target_path(context=context)
        remembered = self._parse_cache(args)
        if remembered.exists():
            folder = target_path if target_path.is_absolute() else Path(self.project_dir) / target_path
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(remembered, folder / PARTIAL_PARSE)
        with _environment({**self.env, **(extra_env or {})}):
            return super().cli(args, context=context, target_path=target_path, **kwargs)

    def keep_parse(self, invocation: DbtCliInvocation) -> None:
        """Remember the finished command's partial parse for the next command like it."""
        parsed = invocation.target_path / PARTIAL_PARSE
        if parsed.exists():
            remembered = self._parse_cache(invocation.process.args[1:])
            remembered.parent.mkdir(parents=True, exist_ok=True)
            staged = remembered.with_suffix(f".{os.getpid()}.tmp")
            shutil.copy(parsed, staged)
            os.replace(staged, remembered)  # a concurrent command reads the old or the new one, whole

    def _parse_cache(self, args: Sequence[str]) -> Path:
        vars_given = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--vars"]
        key = hashlib.sha256(json.dumps([sorted(self.env.items()), vars_given]).encode()).hexdigest()[:16]
        return Path(self.project_dir) / "target" / "partial_parse" / f"{key}.msgpack"


def dbt_project(s: fb_settings.Settings | None = None) -> DbtProject:
    """The dbt project for these settings' target; building it writes nothing (no environment, no files)."""
    s = s or fb_settings.load()
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target=s.dbt_target)
    return replace(project, preparer=VenvDbtPreparer())


def manifest_path(s: fb_settings.Settings | None = None) -> Path:
    """The prepared manifest (re-parsed first under `dagster dev`); a clear error when there is none."""
    project = dbt_project(s)
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        raise ManifestMissing(
            f"no dbt manifest at {project.manifest_path}: prepare it with `make manifest` (or `foodbank manifest`)"
        )
    return project.manifest_path


def prepare_manifest(s: fb_settings.Settings | None = None) -> tuple[Path, float]:
    """Parse the dbt project into its manifest; returns the path and the seconds it took."""
    project = dbt_project(s)
    started = time.perf_counter()
    project.preparer.prepare(project)
    return project.manifest_path, time.perf_counter() - started


def dbt_resource(s: fb_settings.Settings | None = None) -> FoodbankDbtCliResource:
    s = s or fb_settings.load()
    return FoodbankDbtCliResource(project_dir=dbt_project(s), dbt_executable=dbt_executable(), env=dbt_env(s))


def release_adapter() -> None:
    """Let go of the dbt adapter that dagster-dbt opens in this process to fetch row counts and column
    types after a build. On DuckDB it keeps the warehouse file open (read-only), which would shut every
    other connection of this process, and every writer in another, out until the process ends."""
    from dbt.adapters.factory import reset_adapters

    reset_adapters()  # closes the adapter's connections
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # dbt-snowflake only
        return
    DuckDBConnectionManager.close_all_connections()  # and drops the DuckDB database it kept
