"""Helpers for the UI test: Debian's Chromium, a Dagster webserver on loopback, a headless page.

Chromium comes from Debian (`apt-get install chromium`), never from `playwright install` (which
downloads browsers and cannot run offline). `ensure_chromium()` installs it when it is missing, so
`make test` on a fresh machine needs no manual step.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def ensure_chromium() -> Path:
    if not CHROMIUM.exists():
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dagster-webserver exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def dagster_webserver(dagster_home: Path, env: dict[str, str], log_path: Path, timeout: float = 180) -> Iterator[str]:
    """`dagster-webserver -m foodbank_platform.definitions` on a free loopback port; yields its base URL."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = free_port()
    exe = Path(sys.executable).parent / "dagster-webserver"
    cmd = [
        str(exe if exe.exists() else shutil.which("dagster-webserver")),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        "foodbank_platform.definitions",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/server_info", proc, timeout)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def foodbank_dev(foodbank_home: Path, log_path: Path, timeout: float = 180) -> Iterator[str]:
    """`foodbank dev` (what `make dev` runs: webserver and daemon) in a bare shell on loopback, on the
    Dagster instance of `foodbank_home`; yields the base URL. Stops the whole process group after."""
    port = free_port()
    env = {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "FOODBANK_HOME": str(foodbank_home),
    }
    cmd = [str(Path(sys.executable).with_name("foodbank")), "dev", "-h", "127.0.0.1", "-p", str(port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base + "/server_info", proc, timeout)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def headless_page(width: int = 1600, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(ensure_chromium()), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def dismiss_welcome(page) -> None:
    """The first visit shows a 'join the community' dialog; it would cover the graph."""
    skip = page.get_by_role("button", name="Skip")
    with contextlib.suppress(Exception):
        skip.wait_for(timeout=5000)
        skip.click()
