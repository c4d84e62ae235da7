"""Engine and module-system detection, against the real tools on this machine."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess

import pytest

from jupyter_envmod import __version__
from jupyter_envmod.config import EnvMod
from jupyter_envmod.siteinfo import (
    SiteInfoCache,
    detect_conda,
    detect_module_system,
    detect_rattler,
    detect_site,
    detect_uv,
)

ENV_MODULES_INIT = "/usr/share/modules/init/bash"
LMOD_INIT = "/opt/lmodroot/usr/share/lmod/lmod/init/bash"


def shell_environment(init: str) -> dict[str, str]:
    """The variables a login shell has after sourcing a module system's init."""
    if not os.path.exists(init):
        pytest.fail(f"{init} is missing: the test command installs Environment Modules and Lmod")
    out = subprocess.run(["bash", "-c", f'source "{init}" && env -0'], capture_output=True, check=True).stdout
    return dict(item.split("=", 1) for item in out.decode().split("\0") if "=" in item)


def test_rattler_and_uv_are_usable():
    rattler = detect_rattler()
    assert rattler.available
    assert rattler.version
    uv = detect_uv()
    assert uv.available
    assert uv.path
    assert os.path.exists(uv.path)
    assert uv.version
    assert uv.version[0].isdigit()


def test_conda_missing_is_explained():
    info = detect_conda("conda-envmod-does-not-exist")
    assert not info.available
    assert "'conda-envmod-does-not-exist' not found on PATH" in info.detail


def test_conda_executable_found_and_kind(tmp_path):
    # No conda/mamba/micromamba can be installed on this machine (no conda channel
    # reachable), so this one case uses a stand-in script that answers --version
    # like micromamba does.
    exe = tmp_path / "micromamba"
    exe.write_text("#!/bin/sh\necho 2.0.5\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    info = detect_conda(str(exe))
    assert info.available
    assert (info.kind, info.version, info.path) == ("micromamba", "2.0.5", str(exe))


def test_environment_modules_detected_from_its_init():
    info = detect_module_system(shell_environment(ENV_MODULES_INIT))
    assert info.kind == "environment-modules"
    assert info.version
    assert info.version.startswith("5.")
    assert "$MODULES_CMD" in info.detail


def test_lmod_detected_from_its_init():
    info = detect_module_system(shell_environment(LMOD_INIT))
    assert info.kind == "lmod"
    assert info.version
    assert info.version.startswith("8.")
    assert "$LMOD_CMD" in info.detail


def test_modulecmd_on_path():
    if not shutil.which("modulecmd"):
        pytest.fail("modulecmd is missing: the test command installs Environment Modules")
    info = detect_module_system({"PATH": os.path.dirname(shutil.which("modulecmd"))}, standard_locations=False)
    assert info.kind == "environment-modules"


def test_no_module_system():
    info = detect_module_system({"PATH": "/nonexistent"}, standard_locations=False)
    assert info.kind is None
    assert "No module system found" in info.detail


def test_detect_site_reports_everything(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    info = detect_site(EnvMod(env_dirs=[str(tmp_path / "envs")])).to_json()
    assert info["version"] == __version__
    assert set(info["engines"]) == {"rattler", "conda", "venv"}
    assert info["config"]["env_dirs"] == [str(tmp_path / "envs")]


def test_cache_detects_once_and_refreshes(tmp_path, monkeypatch):
    calls = []
    import jupyter_envmod.siteinfo as siteinfo

    real = siteinfo.detect_site

    def counting(envmod):
        calls.append(1)
        return real(envmod)

    monkeypatch.setattr(siteinfo, "detect_site", counting)
    cache = SiteInfoCache(EnvMod(env_dirs=[str(tmp_path)]))

    async def scenario():
        a, b = await asyncio.gather(cache.get(), cache.get())
        assert a is b
        await cache.get()
        assert len(calls) == 1
        await cache.get(refresh=True)
        assert len(calls) == 2

    asyncio.run(scenario())
