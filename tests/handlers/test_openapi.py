"""The shipped OpenAPI file describes every route, and real answers match it."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import jsonschema
import pytest
from ruamel.yaml import YAML
from tornado.httpclient import HTTPClientError

from jupyter_envmod.handlers import ROUTES
from tests.handlers.test_auth import verbs_of

SPEC = YAML(typ="safe").load(files("jupyter_envmod").joinpath("openapi.yaml").read_text())


def validate(body: dict, schema_name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


def test_every_route_is_described():
    described = set(SPEC["paths"])
    routes = {re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern) for pattern, _ in ROUTES}
    assert routes == described


def test_every_verb_is_described_with_its_errors():
    """Each handler's verbs are the path's operations, and every operation documents
    403 and 500 (every endpoint can answer them) and 400 when it takes a body."""
    for pattern, handler in ROUTES:
        path = SPEC["paths"][re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)]
        operations = {k for k in path if k in ("get", "post", "put", "delete", "patch")}
        assert operations == {v.lower() for v in verbs_of(handler)}, pattern
        for verb in operations:
            responses = path[verb]["responses"]
            assert {"403", "500"} <= set(responses), (verb, pattern)
            if "requestBody" in path[verb]:
                assert "400" in responses, (verb, pattern)


async def test_site_answer_matches_the_spec(jp_fetch):
    validate(json.loads((await jp_fetch("envmod", "site")).body), "SiteInfo")


async def test_error_answer_matches_the_spec(jp_fetch):
    with pytest.raises(HTTPClientError) as excinfo:
        await jp_fetch("envmod", "site", headers={"Authorization": ""})
    validate(json.loads(excinfo.value.response.body), "Error")
