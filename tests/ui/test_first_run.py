"""First run: the setup card offers the site's roots and module directory, saves the
choice in the user settings, does not come back, and the New environment dialog
starts from it. Also the panel in the dark theme, for people to look at."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.async_api import expect

from .conftest import RESULTS, open_page, show_panel, widen_side_panel

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def envmod_site_config(tmp_path_factory) -> dict:
    shared = tmp_path_factory.mktemp("shared-envs")
    return {"shared_roots": [str(shared)], "allowed_roots": [str(shared), "~"]}


def user_settings(lab) -> dict:
    url = f"{lab.url}lab/api/settings/jupyter-envmod:plugin?token={lab.token}"
    with urllib.request.urlopen(url) as response:
        return json.load(response)["settings"]


async def test_first_run_card_saves_the_choice(lab_server):
    with urllib.request.urlopen(f"{lab_server.url}envmod/site?token={lab_server.token}") as response:
        site = json.load(response)
    shared = site["config"]["shared_roots"][0]

    async with open_page() as page:
        await page.goto(lab_server.lab_url(), wait_until="domcontentloaded")
        await show_panel(page)
        await widen_side_panel(page)
        card = page.locator(".jp-EnvMod-firstRun")
        await expect(card.get_by_role("heading", name="Set up Environments")).to_be_visible(timeout=30_000)
        await expect(card).to_contain_text(site["config"]["env_dirs"][0])
        await expect(card).to_contain_text(site["config"]["module_dir"])
        await page.locator("#jp-envmod-panel").screenshot(path=str(RESULTS / "first-run.png"))

        await card.get_by_role("radio", name=shared).check()
        await card.get_by_role("checkbox", name="Create module files for new environments").check()
        await card.get_by_role("button", name="Save").click()
        await expect(card).to_have_count(0)
        # the settings are written one key after the other: wait for the last one
        for _ in range(50):
            saved = user_settings(lab_server)
            if saved.get("firstRunDone"):
                break
            await page.wait_for_timeout(200)
        assert saved["environmentRoot"] == shared
        assert saved["createModules"] is True
        assert saved["firstRunDone"] is True

        # the dialog starts from the choice
        await page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        await expect(dialog.get_by_label("Location", exact=True)).to_have_value(shared)
        await expect(dialog.get_by_label("Create module files")).to_be_checked()
        await dialog.get_by_role("button", name="Cancel").click()

        # a reload does not show the card again
        await page.reload(wait_until="domcontentloaded")
        await show_panel(page)
        new = page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True)
        await expect(new).to_be_visible(timeout=30_000)
        await expect(page.locator(".jp-EnvMod-firstRun")).to_have_count(0)

        # the dark theme: same panel, for people to look at
        request = urllib.request.Request(
            f"{lab_server.url}lab/api/settings/@jupyterlab/apputils-extension:themes",
            data=json.dumps({"raw": json.dumps({"theme": "JupyterLab Dark"})}).encode(),
            method="PUT",
            headers={"Authorization": f"token {lab_server.token}", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(request).close()
        await page.reload(wait_until="domcontentloaded")
        await show_panel(page)
        await expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1, timeout=30_000)
        await expect(new).to_be_visible(timeout=30_000)
        await page.locator("#jp-envmod-panel").screenshot(path=str(RESULTS / "panel-dark.png"))
