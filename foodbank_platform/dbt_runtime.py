"""Where the dbt project is, which dbt runs it, and how its manifest is prepared.

dbt is the one installed beside this interpreter, never a `dbt` looked up on PATH: `make demo` runs
without the virtual environment on PATH, and a different dbt there would build with another
version. The manifest that the dbt assets load is prepared by an explicit step (`foodbank manifest`,
run by `make manifest` and the Dockerfile); importing the code location only reads it.
"""

from __future__ import annotations

import os
import sysconfig
import time
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_shared.record import replace

from . import settings as fb_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


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


def dbt_project(s: fb_settings.Settings | None = None) -> DbtProject:
    s = s or fb_settings.load()
    # dbt reads the warehouse path from the environment (profiles.yml), like every FOODBANK_* value.
    os.environ.setdefault("FOODBANK_DUCKDB_PATH", str(s.duckdb_path))
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


def dbt_resource(s: fb_settings.Settings | None = None) -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project(s), dbt_executable=dbt_executable())


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
