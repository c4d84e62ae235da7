"""The Environments panel in real Chromium against a real JupyterLab with this
extension: create environments from the dialog (venv from the pip index; rattler
from the local file:// channel, also from a file picked in the file browser), watch
the task, find the kernel in the Launcher, run it in a notebook, change packages
from the detail view, export, restore, delete with confirmation, cancel a running
create, reload during one, and refuse a bad name without a request.

Screenshots go to test-results/; the good ones are copied into docs/_static/.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from .conftest import RESULTS, LabServer, open_page, show_panel, widen_side_panel

pytestmark = pytest.mark.ui

#: a create with a kernel installs ipykernel: from the pip index (venv) or a local channel
CREATE_TIMEOUT = 240_000


@pytest.fixture(scope="module")
def envmod_site_config(local_channel, ipykernel_channel, tmp_path_factory) -> dict:
    return {
        "channels": [local_channel.url, ipykernel_channel],
        "default_engine": "venv",
        "default_python": ".".join(local_channel.python_version.split(".")[:2]),
        "cache_dir": str(tmp_path_factory.getbasetemp() / "ui-cache"),
        "module_formats": ["lua", "sh"],
    }


def api(lab: LabServer, path: str) -> object:
    with urllib.request.urlopen(f"{lab.url}{path}?token={lab.token}") as response:
        return json.load(response)


def env_by_name(lab: LabServer, name: str) -> dict | None:
    return next((e for e in api(lab, "envmod/environments") if e["name"] == name), None)  # type: ignore[union-attr]


async def open_lab(page: Page, lab: LabServer, *, skip_first_run: bool = True) -> None:
    await page.goto(lab.lab_url(), wait_until="domcontentloaded")
    await show_panel(page)
    await widen_side_panel(page)
    new = page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True)
    await expect(new).to_be_visible(timeout=30_000)
    if skip_first_run:
        card = page.locator(".jp-EnvMod-firstRun")
        if await card.count():
            await card.get_by_role("button", name="Skip").click()
            await expect(card).to_have_count(0)


async def fill_create_dialog(page: Page, name: str, *, engine: str, packages: str = "", pip: str = "") -> None:
    await page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    await expect(dialog.get_by_text("New environment").first).to_be_visible()
    await dialog.get_by_label("Name", exact=True).fill(name)
    await dialog.get_by_label("Engine", exact=True).select_option(engine)
    if packages:
        await dialog.get_by_label("Packages", exact=True).fill(packages)
    if pip:
        await dialog.get_by_label("pip packages", exact=True).fill(pip)


async def wait_task(page: Page, kind: str, name: str, state: str = "succeeded") -> None:
    task = page.locator(f'.jp-EnvMod-task[data-task-kind="{kind}"]', has_text=name).first
    await expect(task).to_have_attribute("data-state", state, timeout=CREATE_TIMEOUT)


async def launcher_tile(page: Page, display_name: str):
    return page.locator(".jp-Launcher-body:visible .jp-LauncherCard", has_text=display_name)


async def open_launcher(page: Page) -> None:
    """Show a Launcher: a new one (File > New Launcher) so that it is in front."""
    await page.get_by_role("menuitem", name="File").click()
    await page.get_by_role("menuitem", name="New Launcher").click()
    await expect(page.locator(".jp-Launcher-body:visible")).to_have_count(1)


async def test_venv_create_use_change_export_delete(lab_server):
    name, display = "uivenv", "UI venv"
    async with open_page() as page:
        await open_lab(page, lab_server)
        await page.screenshot(path=str(RESULTS / "panel-empty.png"))

        await fill_create_dialog(page, name, engine="venv", pip="six==1.16.0")
        dialog = page.locator(".jp-Dialog")
        await expect(dialog.get_by_label("Create Jupyter kernel")).to_be_checked()
        await dialog.get_by_label("Display name").fill(display)
        await dialog.screenshot(path=str(RESULTS / "create-dialog.png"))
        await dialog.get_by_role("button", name="Create", exact=True).click()
        await expect(dialog).to_have_count(0)

        task = page.locator('.jp-EnvMod-task[data-task-kind="create"]', has_text=name)
        await expect(task).to_be_visible()
        await expect(task.get_by_role("progressbar")).to_be_visible()
        await page.locator("#jp-envmod-panel").screenshot(path=str(RESULTS / "task-running.png"))
        await wait_task(page, "create", name)
        await expect(page.locator(".jp-toast-message", has_text=name).first).to_be_visible()

        env = env_by_name(lab_server, name)
        assert env is not None
        assert env["state"] == "ready", env
        assert env["kernel"], env
        item = page.locator(f'.jp-EnvMod-env[data-env-name="{name}"]')
        await expect(item.locator('[data-badge="kernel"]')).to_be_visible()

        # the new kernel's tile is in the Launcher without a reload
        await open_launcher(page)
        tile = await launcher_tile(page, display)
        await expect(tile.first).to_be_visible(timeout=30_000)

        # a notebook with it runs in the environment
        await tile.first.click()
        cell = page.locator(".jp-Notebook .jp-Cell .cm-content").first
        await expect(cell).to_be_visible(timeout=60_000)
        await expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(
            1, timeout=60_000
        )
        await expect(page.get_by_role("button", name=f"{display} | Idle")).to_be_visible(timeout=60_000)
        await cell.click()
        await expect(page.locator(".jp-Notebook.jp-mod-editMode")).to_have_count(1)
        await page.keyboard.insert_text("import sys; print(sys.prefix)")
        await expect(cell).to_have_text("import sys; print(sys.prefix)")
        await page.screenshot(path=str(RESULTS / "notebook-before-run.png"))
        await page.keyboard.press("Shift+Enter")
        output = page.locator(".jp-OutputArea-output").first
        await expect(output).to_contain_text(env["path"], timeout=60_000)
        await page.screenshot(path=str(RESULTS / "notebook-with-kernel.png"))

        # detail view: install a package with a preview first
        await show_panel(page)
        await item.get_by_role("button", name=f"Open environment {name}").click()
        detail = page.locator(".jp-EnvMod-detail")
        await expect(detail.get_by_role("heading", name=name)).to_be_visible()
        await detail.get_by_role("tab", name="Packages").click()
        await expect(detail.locator('tr[data-package="six"]')).to_be_visible(timeout=30_000)
        await detail.get_by_label("Packages to install").fill("packaging==24.1")
        await detail.get_by_role("button", name="Preview install").click()
        preview = page.locator(".jp-Dialog")
        await expect(preview).to_contain_text("packaging")
        await preview.get_by_role("button", name="Apply").click()
        await wait_task(page, "install", name)
        await expect(detail.locator('tr[data-package="packaging"]')).to_be_visible(timeout=30_000)
        dismiss = page.locator(".jp-EnvMod-task").get_by_role("button", name="Dismiss")
        while await dismiss.count():
            await dismiss.first.click()
        await expect(page.locator(".jp-EnvMod-task")).to_have_count(0)
        await detail.locator('tr[data-package="packaging"]').scroll_into_view_if_needed()
        await page.locator("#jp-envmod-panel").screenshot(path=str(RESULTS / "detail-packages.png"))

        # export environment.yml
        await detail.get_by_role("tab", name="Overview").click()
        async with page.expect_download() as download_info:
            await detail.get_by_role("button", name="Download environment.yml").click()
        download = await download_info.value
        exported = Path(await download.path()).read_text()
        assert download.suggested_filename.endswith(".yml")
        assert "six==1.16.0" in exported, exported
        assert "packaging==24.1" in exported, exported

        # history: create + install
        await detail.get_by_role("tab", name="History").click()
        await expect(detail.get_by_role("button", name="Restore revision 0")).to_be_visible(timeout=30_000)

        # delete with a confirmation that lists what goes
        await detail.get_by_role("tab", name="Overview").click()
        await detail.get_by_role("button", name=re.compile("^Delete environment")).click()
        confirm = page.locator(".jp-Dialog")
        await expect(confirm).to_contain_text(env["path"])
        await expect(confirm).to_contain_text(display)
        await confirm.screenshot(path=str(RESULTS / "delete-confirmation.png"))
        await confirm.get_by_role("button", name="Delete", exact=True).click()
        await wait_task(page, "delete", name)
        assert env_by_name(lab_server, name) is None
        assert not Path(env["path"]).exists()

        # the Launcher drops the tile
        await open_launcher(page)
        await expect(await launcher_tile(page, display)).to_have_count(0, timeout=30_000)


async def test_rattler_create_from_file_browser(lab_server):
    root = lab_server.root_dir
    (root / "environment.yml").write_text("name: fromfile\ndependencies:\n  - tinypy=1.0\n")
    async with open_page() as page:
        await open_lab(page, lab_server)
        await page.get_by_role("tab", name="File Browser").click()
        item = page.locator(".jp-DirListing-item", has_text="environment.yml")
        await item.click(button="right")
        await page.get_by_role("menuitem", name="Create environment from this file").click()
        dialog = page.locator(".jp-Dialog")
        await expect(dialog).to_contain_text("environment.yml")
        await dialog.get_by_label("Name", exact=True).fill("uiconda")
        await dialog.get_by_label("Engine", exact=True).select_option("rattler")
        await dialog.get_by_role("button", name="Create", exact=True).click()
        await show_panel(page)
        await wait_task(page, "create", "uiconda")
        env = env_by_name(lab_server, "uiconda")
        assert env is not None
        assert env["engine"] == "rattler", env
        assert env["kernel"], env

        await page.get_by_role("button", name="Open environment uiconda").click()
        detail = page.locator(".jp-EnvMod-detail")
        await detail.get_by_role("tab", name="Packages").click()
        await expect(detail.locator('tr[data-package="tinypy"]')).to_be_visible(timeout=30_000)
        await detail.get_by_role("button", name="Update tinypy").click()
        preview = page.locator(".jp-Dialog")
        await expect(preview).to_contain_text("1.1")
        await preview.get_by_role("button", name="Apply").click()
        await wait_task(page, "update", "uiconda")
        await detail.get_by_role("tab", name="History").click()
        await detail.get_by_role("button", name="Restore revision 0").click()
        preview = page.locator(".jp-Dialog")
        await expect(preview).to_contain_text("tinypy")
        await preview.get_by_role("button", name="Apply").click()
        await wait_task(page, "restore", "uiconda")
        packages = api(lab_server, f"envmod/environments/{env['id']}/packages")
        assert {p["name"]: p["version"] for p in packages}["tinypy"] == "1.0"  # type: ignore[index]
        await detail.get_by_role("tab", name="Share").click()
        await expect(detail).to_contain_text("tinypy", timeout=30_000)
        await page.locator("#jp-envmod-panel").screenshot(path=str(RESULTS / "detail-share.png"))


async def test_cancel_a_running_create_after_a_reload(lab_server, gate):
    async with open_page() as page:
        await open_lab(page, lab_server)
        await fill_create_dialog(page, "uicancel", engine="rattler", packages="slowpkg")
        dialog = page.locator(".jp-Dialog")
        await dialog.get_by_label("Create Jupyter kernel").uncheck()
        await dialog.get_by_text("Advanced").click()
        await dialog.get_by_label("Channels").fill(gate.url)
        await dialog.get_by_role("button", name="Create", exact=True).click()
        await gate.held(1)
        task = page.locator('.jp-EnvMod-task[data-task-kind="create"]', has_text="uicancel")
        await expect(task).to_have_attribute("data-state", "running", timeout=60_000)

        # a reload shows the running task again
        await page.reload(wait_until="domcontentloaded")
        await open_lab(page, lab_server)
        task = page.locator('.jp-EnvMod-task[data-task-kind="create"]', has_text="uicancel")
        await expect(task).to_have_attribute("data-state", "running", timeout=30_000)
        await task.get_by_role("button", name="Cancel").click()
        gate.open()
        await expect(task).to_have_attribute("data-state", "cancelled", timeout=60_000)
        assert env_by_name(lab_server, "uicancel") is None


async def test_bad_name_shows_an_inline_error_and_sends_nothing(lab_server):
    posts: list[str] = []
    async with open_page() as page:
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/envmod/" in r.url else None)
        await open_lab(page, lab_server)
        await page.locator("#jp-envmod-panel").get_by_role("button", name="New environment", exact=True).click()
        dialog = page.locator(".jp-Dialog")
        name = dialog.get_by_label("Name", exact=True)
        await name.fill("bad name!")
        await expect(name).to_have_attribute("aria-invalid", "true")
        await expect(dialog.get_by_role("alert").first).to_contain_text("letters, digits")
        create = dialog.get_by_role("button", name="Create", exact=True)
        await expect(create).to_be_disabled()
        await name.press("Enter")
        await dialog.screenshot(path=str(RESULTS / "create-dialog-error.png"))
        await expect(dialog).to_be_visible()
        assert posts == []
