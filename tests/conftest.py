"""Shared fixtures. Server tests use pytest-jupyter's fixtures (temp HOME, Jupyter
config/data/runtime dirs); ``jp_server_config`` enables this extension."""

from __future__ import annotations

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture
def envmod_config() -> dict:
    """EnvMod traits for the test server; override in a test module to change them."""
    return {}


@pytest.fixture
def jp_server_config(envmod_config):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}},
        "EnvMod": envmod_config,
    }
