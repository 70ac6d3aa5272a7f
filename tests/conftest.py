"""Shared fixtures: the contract samples laid out as a landing zone; the loopback services of
`fixtures_services.py` are registered here as a plugin, so every test module can ask for them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest_plugins = ["fixtures_services"]


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The contract's sample files (copied from the source contract; layout `dms/...`, `sftp/outbound/...`)."""
    samples = Path(__file__).resolve().parent / "fixtures" / "contract_samples"
    assert samples.exists(), f"contract samples not found at {samples}"
    return samples


@pytest.fixture(scope="session")
def lay_out_samples(samples_dir):
    """DMS samples go to landing/dms as DMS writes them; SFTP samples as the puller would land them."""

    def lay(landing: Path) -> Path:
        shutil.copytree(samples_dir / "dms", landing / "dms")
        shutil.copytree(samples_dir / "sftp" / "outbound", landing / "sftp", ignore=shutil.ignore_patterns("*.done"))
        return landing

    return lay
