"""Every handler verb is authenticated and authorized with resource "envmod".

Two checks, after the extension template's check_auth idea:
1. A server with allow_unauthenticated_access=False raises no
   JupyterServerAuthWarning for our handlers (each verb has @web.authenticated).
2. With an authorizer that refuses the "envmod" resource, every verb of every
   route answers 403 and the authorizer was asked about "envmod" (each verb has
   @authorized and the base class's auth_resource).
"""

from __future__ import annotations

import re
import warnings

import pytest
from jupyter_server.auth.authorizer import Authorizer
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import JupyterServerAuthWarning
from tornado.httpclient import HTTPClientError
from tornado.web import RequestHandler

from jupyter_envmod.handlers import ROUTES

VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ASKED: list[tuple[str, str]] = []


class RefuseEnvMod(Authorizer):
    def is_authorized(self, handler, user, action, resource):
        ASKED.append((action, resource))
        return resource != "envmod"


def verbs_of(handler: type) -> list[str]:
    """The verbs a handler implements (tornado's defaults answer 405)."""
    return [v for v in VERBS if getattr(handler, v.lower()) is not getattr(RequestHandler, v.lower())]


def example_path(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>[^)]*\)", "x", pattern).lstrip("/")


def test_no_handler_lacks_authentication(jp_environ):
    ServerApp.clear_instance()
    app = ServerApp(
        allow_unauthenticated_access=False,
        jpserver_extensions={"jupyter_envmod": True},
        reraise_server_extension_failures=True,
        allow_root=True,
    )
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        app.initialize(argv=[], find_extensions=False, new_httpserver=False)
    problems = [str(r.message) for r in records if issubclass(r.category, JupyterServerAuthWarning)]
    ServerApp.clear_instance()
    assert problems == []
    assert any("envmod" in str(rule.matcher.regex.pattern) for rule in app.web_app.default_router.rules[0].target.rules)


@pytest.fixture
def jp_server_config(envmod_config):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}, "authorizer_class": RefuseEnvMod},
        "EnvMod": envmod_config,
    }


async def test_every_verb_is_authorized(jp_fetch):
    checked = 0
    for pattern, handler in ROUTES:
        for verb in verbs_of(handler):
            ASKED.clear()
            with pytest.raises(HTTPClientError) as excinfo:
                await jp_fetch(
                    "envmod",
                    example_path(pattern),
                    method=verb,
                    body=b"{}" if verb in ("POST", "PUT", "PATCH") else None,
                    allow_nonstandard_methods=True,
                )
            assert excinfo.value.code == 403, f"{verb} {pattern}"
            assert any(resource == "envmod" for _, resource in ASKED), f"{verb} {pattern} did not ask for 'envmod'"
            checked += 1
    assert checked >= len(ROUTES)
