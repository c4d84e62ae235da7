"""The "Check my setup" (doctor) section of the Environments panel in real Chromium
against a real JupyterLab with this extension: a kernelspec written the way
jupyter_envmod writes them, whose environment does not exist, shows as an orphan;
"Fix…" asks first (Cancel changes nothing), and "Fix" removes it from disk.

Screenshots go to test-results/; the good ones are copied into docs/_static/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Request, expect

from tests.kernelspecs import orphan_kernelspec

from .conftest import RESULTS, LabServer, open_page, show_panel, widen_side_panel

pytestmark = pytest.mark.ui

#: the checks size caches and may run `quota`: a few seconds on a busy machine
CHECKS_TIMEOUT = 60_000


def api(lab: LabServer, path: str) -> Any:
    with urllib.request.urlopen(f"{lab.url}{path}?token={lab.token}") as response:
        return json.load(response)


async def open_lab(page: Page, lab: LabServer) -> None:
    await page.goto(lab.lab_url(), wait_until="domcontentloaded")
    await show_panel(page)
    await widen_side_panel(page)
    new = page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True)
    await expect(new).to_be_visible(timeout=30_000)
    card = page.locator(".jp-EnvMod-firstRun")
    if await card.count():
        await card.get_by_role("button", name="Skip").click()
        await expect(card).to_have_count(0)


async def test_doctor_finds_and_fixes_an_orphan_kernel(lab_server: LabServer) -> None:
    site = api(lab_server, "envmod/site")
    kernel_dir = Path(site["config"]["kernel_dir"])
    env_path = Path(site["config"]["env_dirs"][0]) / "vanished"
    assert not env_path.exists()
    spec_dir = orphan_kernelspec(kernel_dir, env_path)

    doctor_requests: list[Request] = []
    async with open_page() as page:
        page.on("request", lambda r: doctor_requests.append(r) if "/envmod/doctor" in r.url else None)
        await open_lab(page, lab_server)
        panel = page.locator("#jp-envmod-panel")

        # collapsed at start, and nothing asked of the doctor until it is opened
        title = panel.locator(".lm-AccordionPanel-title", has_text="Check my setup")
        await expect(title).to_have_attribute("aria-expanded", "false")
        await page.wait_for_timeout(500)
        assert doctor_requests == []

        await title.click()
        await expect(title).to_have_attribute("aria-expanded", "true")
        section = panel.locator(".jp-EnvMod-doctor")
        row = section.locator('.jp-EnvMod-doctorCheck[data-check-id="orphan-kernels"]')
        await expect(row).to_have_attribute("data-status", re.compile("^(warning|problem)$"), timeout=CHECKS_TIMEOUT)
        assert [r.method for r in doctor_requests] == ["GET"]
        checks = section.get_by_role("list", name="Setup checks").locator(".jp-EnvMod-doctorCheck")
        await expect(checks).to_have_count(11)
        counts = section.locator(".jp-EnvMod-doctorCounts")
        await expect(counts).to_contain_text(re.compile(r"\d+ ok$"))

        # its findings name the kernel and the missing environment
        toggle = row.locator("button[aria-expanded]")
        await toggle.press("Enter")  # keyboard, as without a mouse
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(row).to_contain_text(str(spec_dir))
        await expect(row).to_contain_text(str(env_path))
        await toggle.blur()
        await panel.screenshot(path=str(RESULTS / "doctor-panel.png"))
        # the section alone, with the room of the other sections (collapsed)
        for other in ("Environments", "Site"):
            await panel.locator(".lm-AccordionPanel-title", has_text=re.compile(f"^{other}$")).click()
        await expect(section).to_be_visible()
        await section.screenshot(path=str(RESULTS / "doctor.png"))

        # "Fix…" shows the fix exactly and asks; Cancel changes nothing
        expected_fix = next(c["fix"] for c in api(lab_server, "envmod/doctor")["checks"] if c["id"] == "orphan-kernels")
        assert str(spec_dir) in expected_fix
        fix_button = row.get_by_role("button", name="Fix Orphan kernels…")
        await fix_button.click()
        dialog = page.locator(".jp-Dialog")
        await expect(dialog.locator(".jp-Dialog-header")).to_contain_text("Fix Orphan kernels?")
        await expect(dialog.locator(".jp-EnvMod-fixText")).to_have_text(expected_fix)
        await dialog.screenshot(path=str(RESULTS / "doctor-fix-dialog.png"))
        await dialog.get_by_role("button", name="Cancel", exact=True).click()
        await expect(dialog).to_have_count(0)
        await page.wait_for_timeout(300)
        assert [r.method for r in doctor_requests] == ["GET"]
        assert (spec_dir / "kernel.json").is_file()

        # "Fix" removes the kernelspec; the list is the one the server checked again
        await fix_button.click()
        await dialog.get_by_role("button", name="Fix", exact=True).click()
        await expect(dialog).to_have_count(0)
        await expect(row).to_have_attribute("data-status", "ok", timeout=CHECKS_TIMEOUT)
        await expect(row.get_by_role("button", name="Fix Orphan kernels…")).to_have_count(0)
        await expect(page.locator(".jp-toast-message", has_text="Removed 1 kernel").first).to_be_visible()
        await expect(section.locator('.jp-EnvMod-fixResult[data-check-id="orphan-kernels"]')).to_contain_text(
            str(spec_dir)
        )
        posts = [r for r in doctor_requests if r.method == "POST"]
        assert [r.url.split("?")[0].endswith("/envmod/doctor/fix") for r in posts] == [True]
        assert json.loads(posts[0].post_data or "{}") == {"checks": ["orphan-kernels"]}
        assert not spec_dir.exists()
        await section.screenshot(path=str(RESULTS / "doctor-fixed.png"))
