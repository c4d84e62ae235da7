"""GET /envmod/site against a real Jupyter Server (pytest-jupyter)."""

from __future__ import annotations

import json
import platform

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_envmod import __version__


async def test_site_with_token(jp_fetch, jp_environ):
    response = await jp_fetch("envmod", "site")
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    info = json.loads(response.body)
    assert info["version"] == __version__
    assert info["arch"] == platform.machine()
    # Engines usable here: py-rattler and uv are dependencies, conda is not installed.
    assert info["engines"]["rattler"]["available"] is True
    assert info["engines"]["venv"]["available"] is True
    assert info["engines"]["venv"]["version"]
    assert info["engines"]["conda"]["available"] is False
    assert "not found" in info["engines"]["conda"]["detail"]
    config = info["config"]
    assert config["default_engine"] == "rattler"
    assert config["channels"] == ["conda-forge"]
    # Paths come expanded: the temp HOME of the test, no "~".
    assert all(not p.startswith("~") for p in config["env_dirs"] + [config["module_dir"], config["kernel_dir"]])
    assert info["module_system"]["kind"] in ("lmod", "environment-modules", None)


async def test_site_without_token_is_403(jp_fetch):
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_fetch("envmod", "site", headers={"Authorization": ""})
    assert excinfo.value.code == 403


async def test_site_refresh_redetects(jp_fetch):
    first = json.loads((await jp_fetch("envmod", "site")).body)
    again = json.loads((await jp_fetch("envmod", "site", params={"refresh": "1"})).body)
    assert first == again


async def test_http_errors_have_the_json_error_shape(jp_fetch):
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_fetch("envmod", "site", method="POST", body=b"{}")
    assert excinfo.value.code == 405
    body = json.loads(excinfo.value.response.body)
    assert set(body) == {"message", "reason", "details"}
    assert body["reason"] == "method-not-allowed"
