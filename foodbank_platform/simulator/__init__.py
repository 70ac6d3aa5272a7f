"""Synthetic, deterministic source activity for all six systems (`foodbank simulate`).

    from foodbank_platform.simulator import SimulationConfig, DefectRates, simulate
    manifest = simulate(SimulationConfig(landing_root=..., sftp_root=..., days=7, scale=0.02, seed=42))

`generate(config, Defects())` gives the same activity without writing files (an `Activity`: full
load frames and per-day change frames in change-sequence order), for other sinks such as a
PostgreSQL replay; the file sinks are in `sinks.py`.
"""

from .config import DefectRates, SimulationConfig
from .frames import Defects
from .manifest import DEFECTS, Manifest
from .run import Activity, generate, simulate

__all__ = ["Activity", "DEFECTS", "DefectRates", "Defects", "Manifest", "SimulationConfig", "generate", "simulate"]
