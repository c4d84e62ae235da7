"""GET /envmod/site reports the site's configured (and expanded) values."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def envmod_config(tmp_path):
    return {"env_dirs": [str(tmp_path / "envs")], "default_engine": "venv", "module_app": "py-envs"}


async def test_site_reports_configured_values(jp_fetch, tmp_path):
    info = json.loads((await jp_fetch("envmod", "site")).body)
    assert info["config"]["env_dirs"] == [str(tmp_path / "envs")]
    assert info["config"]["default_engine"] == "venv"
    assert info["config"]["module_app"] == "py-envs"
