"""Shared fixtures. Server tests use pytest-jupyter's fixtures (temp HOME, Jupyter
config/data/runtime dirs); ``jp_server_config`` enables this extension."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ("pytest_jupyter.jupyter_server",)


@pytest.fixture(scope="session")
def local_channel(tmp_path_factory):
    """A local file:// conda channel (tests/localchannel.py), built once per session."""
    from tests.localchannel import build_local_channel

    return build_local_channel(tmp_path_factory.mktemp("localchannel"))


@pytest.fixture(scope="session")
def ipykernel_channel(tmp_path_factory) -> str:
    """The URL of a file:// channel offering ``ipykernel`` as a conda package
    (tests/localchannel.py: the PyPI ipykernel packed for conda)."""
    from tests.localchannel import build_ipykernel_channel

    return build_ipykernel_channel(tmp_path_factory.mktemp("ipykernelchannel"))


@pytest.fixture
def gate(local_channel):
    """The local channel over http://, holding ``slowpkg`` downloads half way until
    ``gate.open()`` (tests/gate.py): cancel and crash tests act at an exact moment."""
    from tests.gate import serve_gated

    with serve_gated(local_channel.path) as gate:
        yield gate


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under the test command (ENVMOD_STRICT=1) a skipped test is a failure: a layer
    that could not run must not pass."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("ENVMOD_STRICT") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under ENVMOD_STRICT=1 (the test command): {report.longrepr}"
