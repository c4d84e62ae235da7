"""With an invalid site configuration the server keeps running and the panel shows
the server's message naming the trait and the value."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .conftest import RESULTS, open_page

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def envmod_site_config() -> dict:
    return {"default_engine": "pip"}


async def test_panel_shows_configuration_error(lab_server):
    async with open_page() as page:
        await page.goto(lab_server.lab_url(), wait_until="domcontentloaded")
        tab = page.get_by_role("tab", name="Environments")
        await expect(tab).to_be_visible(timeout=60_000)
        await tab.click()
        alert = page.locator("#jp-envmod-panel .jp-EnvMod-site").get_by_role("alert")
        await expect(alert).to_contain_text("Could not read the site information", timeout=30_000)
        await expect(alert).to_contain_text("EnvMod.default_engine = 'pip'")
        await expect(alert).to_contain_text("expected any of ['rattler', 'conda', 'venv']")
        # the environments section says the same problem stops the listing
        await expect(page.locator("#jp-envmod-panel .jp-EnvMod-environments").get_by_role("alert")).to_contain_text(
            "EnvMod.default_engine"
        )
        await page.screenshot(path=str(RESULTS / "environments-panel-invalid-config.png"))
