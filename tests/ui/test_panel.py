"""Open JupyterLab in Chromium, open the Environments panel, and see the server's
version and engines."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.async_api import expect

from jupyter_envmod import __version__

from .conftest import RESULTS, open_page

pytestmark = pytest.mark.ui


async def test_environments_panel_shows_site_information(lab_server):
    with urllib.request.urlopen(f"{lab_server.url}envmod/site?token={lab_server.token}") as response:
        site = json.load(response)

    async with open_page() as page:
        await page.goto(lab_server.lab_url(), wait_until="domcontentloaded")
        tab = page.get_by_role("tab", name="Environments")
        await expect(tab).to_be_visible(timeout=60_000)
        await tab.click()

        panel = page.locator("#jp-envmod-panel")
        await expect(panel).to_be_visible()
        await expect(panel.locator(".jp-EnvMod-serverVersion")).to_contain_text(__version__, timeout=30_000)
        for name, engine in site["engines"].items():
            row = panel.locator(f'[data-engine="{name}"]')
            await expect(row).to_be_visible()
            await expect(row).to_have_attribute("data-available", "true" if engine["available"] else "false")
        await expect(panel.locator('[data-engine="rattler"]')).to_contain_text("(default)")
        await expect(panel.get_by_role("heading", name="Engines")).to_be_visible()
        await expect(panel).to_contain_text(site["config"]["env_dirs"][0])
        await expect(panel.get_by_role("button", name="Refresh site information")).to_be_visible()
        await page.screenshot(path=str(RESULTS / "environments-panel.png"))
