"""Where the deploy tests find the repo root and the CLIs they run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".venv-tools" / "bin"


def tool(name: str) -> str:
    """A CLI from the project's venvs: .venv (cfn-lint) or .venv-tools (checkov, `make tools`)."""
    for folder in (ROOT / ".venv" / "bin", TOOLS_BIN):
        if (folder / name).exists():
            return str(folder / name)
    raise AssertionError(f"{name} not found in .venv or .venv-tools: run `make tools`")
