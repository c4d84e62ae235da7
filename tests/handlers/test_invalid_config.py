"""A bad site configuration is logged at start and every endpoint answers with a
JSON error naming the trait and value (so the panel can show it)."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture
def envmod_config():
    return {"default_engine": "pip", "module_app": "conda-env"}


async def test_invalid_configuration_is_reported(jp_fetch, caplog):
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_fetch("envmod", "site")
    assert excinfo.value.code == 500
    body = json.loads(excinfo.value.response.body)
    assert body["reason"] == "invalid-configuration"
    assert "EnvMod.default_engine = 'pip'" in body["message"]
    assert body["details"]["problems"][0]["trait"] == "default_engine"
    assert any("EnvMod.default_engine" in r.getMessage() for r in caplog.records)
