"""Shared fixtures: the contract samples laid out as a landing zone, and a loaded warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "contracts" / "samples"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    assert SAMPLES.exists(), f"contract samples not found at {SAMPLES}"
    return SAMPLES


@pytest.fixture(scope="session")
def lay_out_samples(samples_dir):
    """DMS samples go to landing/dms as DMS writes them; SFTP samples as the puller would land them."""

    def lay(landing: Path) -> Path:
        shutil.copytree(samples_dir / "dms", landing / "dms")
        shutil.copytree(samples_dir / "sftp" / "outbound", landing / "sftp",
                        ignore=shutil.ignore_patterns("*.done"))
        return landing

    return lay
