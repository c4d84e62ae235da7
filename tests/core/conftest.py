"""Fixtures shared by the core tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary HOME, and none of the variables that point conda, venv or the module
    system at the real user's files."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in (
        *("CONDA_ENVS_PATH", "CONDARC", "CONDA_ROOT", "CONDA_PREFIX", "CONDA_EXE", "MAMBA_EXE"),
        *("VIRTUAL_ENV", "XDG_CONFIG_HOME", "LOADEDMODULES", "MODULEPATH"),
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One private package cache per test module: repeated installs are quick."""
    path = tmp_path_factory.mktemp("cache")
    path.chmod(0o700)
    return path
