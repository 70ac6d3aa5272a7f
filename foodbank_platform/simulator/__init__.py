"""Synthetic, deterministic source activity for all six systems (`foodbank simulate`).

    from foodbank_platform.simulator import SimulationConfig, DefectRates, simulate
    manifest = simulate(SimulationConfig(landing_root=..., sftp_root=..., days=7, scale=0.02, seed=42))

`generate(config, defects)` exposes the same activity without writing files, for other sinks.
"""

from .config import DefectRates, SimulationConfig
from .frames import Defects
from .manifest import DEFECTS, Manifest
from .run import generate, simulate

__all__ = ["DEFECTS", "DefectRates", "Defects", "Manifest", "SimulationConfig", "generate", "simulate"]
