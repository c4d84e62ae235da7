"""Browser tests: a real JupyterLab server (subprocess) and Debian's Chromium driven
by Playwright. Screenshots go to test-results/ for people to look at."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "test-results"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabServer:
    def __init__(self, url: str, token: str, proc: subprocess.Popen, log: Path, root_dir: Path):
        self.url, self.token, self.proc, self.log, self.root_dir = url, token, proc, log, root_dir

    def lab_url(self, path: str = "lab") -> str:
        return f"{self.url}{path}?token={self.token}"


@pytest.fixture(scope="module")
def envmod_site_config() -> dict:
    """Extra EnvMod traits for the module's JupyterLab server (override per module)."""
    return {}


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, envmod_site_config) -> LabServer:
    base = tmp_path_factory.mktemp("lab")
    dirs = {name: base / name for name in ("home", "config", "data", "runtime", "root", "envs")}
    for d in dirs.values():
        d.mkdir()
    (dirs["config"] / "jupyter_server_config.json").write_text(
        json.dumps(
            {"EnvMod": {"env_dirs": [str(dirs["envs"])], "module_dir": str(base / "modules"), **envmod_site_config}}
        )
    )
    # no "get notified about Jupyter news?" toast over the screenshots
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(
        HOME=str(dirs["home"]),
        JUPYTER_CONFIG_DIR=str(dirs["config"]),
        JUPYTER_DATA_DIR=str(dirs["data"]),
        JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
    )
    port, token = free_port(), secrets.token_hex(16)
    log = base / "lab.log"
    argv = [
        sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
        f"--ServerApp.root_dir={dirs['root']}",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    yield LabServer(url, token, proc, log, dirs["root"])
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@asynccontextmanager
async def open_page() -> AsyncIterator[Any]:
    """A fresh Chromium page. Playwright's async API, because pytest-jupyter runs
    async tests on its own event loop (the sync API would take that loop over)."""
    from playwright.async_api import async_playwright

    executable = os.environ.get("ENVMOD_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}: the test command installs Debian's chromium package")
    RESULTS.mkdir(exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            yield await context.new_page()
        finally:
            await browser.close()


async def show_panel(page: Page) -> None:
    """Open the Environments side panel (clicking its tab when open would close it)."""
    tab = page.get_by_role("tab", name="Environments")
    await expect(tab).to_be_visible(timeout=60_000)
    panel = page.locator("#jp-envmod-panel")
    # JupyterLab restores the last layout while it starts: try again if that hid it
    for _ in range(5):
        if await panel.is_hidden():
            await tab.click()
        try:
            await expect(panel).to_be_visible(timeout=2_000)
            await page.wait_for_timeout(300)
            if await panel.is_visible():
                return
        except AssertionError:
            pass
    await expect(panel).to_be_visible()


async def widen_side_panel(page: Page, by: int = 130) -> None:
    """Drag the split between the left side panel and the main area, as a user
    who works in the panel does (the default width is ~250 px)."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = await handle.bounding_box()
    if box is None:
        return
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + by, y, steps=5)
    await page.mouse.up()
