"""Authorization with jupyter_server's own machinery: a user allowed only to read
gets 200 on every read and 403 on every write, and nothing changes on disk."""

from __future__ import annotations

import re
import venv
from pathlib import Path

import pytest
from jupyter_server.auth.authorizer import Authorizer

from jupyter_envmod import history
from jupyter_envmod.handlers import ROUTES
from jupyter_envmod.history import Snapshot
from tests.handlers.api import Api, api_config
from tests.handlers.test_auth import verbs_of


class ReadOnly(Authorizer):
    """Allows the "read" action only (what GET maps to)."""

    def is_authorized(self, handler, user, action, resource):
        return action == "read"


@pytest.fixture
def envmod_config(tmp_path):
    venv.EnvBuilder(with_pip=False, symlinks=True).create(tmp_path / "envs" / "existing")
    return api_config(tmp_path)


@pytest.fixture
def jp_server_config(envmod_config):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}, "authorizer_class": ReadOnly},
        "EnvMod": envmod_config,
    }


def snapshot(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


async def test_reads_200_and_writes_403(jp_fetch, jp_serverapp, tmp_path):
    api = Api(jp_fetch)
    env = (await api.get("environments")).body[0]
    manager = jp_serverapp.web_app.settings["envmod_manager"]
    task = manager.environments.remove_outputs(manager.environments.find(env_id=env["id"]), "kernel")
    await task.wait()
    history.record(Path(env["path"]), "baseline", Snapshot())  # a revision to read (and to refuse restoring)
    ids = {"env_id": env["id"], "tid": task.id, "rev": "0"}
    queries = {
        "/packages/search": {"q": "six", "engine": "venv"},
        "/environments/(?P<env_id>[^/]+)/export": {"format": "requirements"},
    }
    before = snapshot(tmp_path)
    reads = writes = 0
    for pattern, handler in ROUTES:
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: ids[m.group(1)], pattern).lstrip("/")
        for verb in verbs_of(handler):
            if verb == "GET":
                answer = await api.get(path, **queries.get(pattern, {}))
                assert answer.code == 200, (pattern, answer.body)
                reads += 1
            else:
                answer = await api.call(verb, path, body={} if verb in ("POST", "PUT") else None)
                assert answer.code == 403, (verb, pattern, answer.body)
                assert answer.body["reason"] == "forbidden"
                writes += 1
    assert snapshot(tmp_path) == before
    assert (reads, writes) == (16, 13)
