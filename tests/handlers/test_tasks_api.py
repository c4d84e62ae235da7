"""Tasks over HTTP: a running create holds its environment (a second write gets 409
naming the task), cancelling it over HTTP leaves nothing, and the server marks an
operation cut off by a previous server as interrupted when it starts."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

import pytest

from tests.handlers.api import Api, api_config


@pytest.fixture
def envmod_config(tmp_path, gate, local_channel):
    cache = tmp_path / "gated-cache"  # its own cache: slowpkg is really downloaded (and held)
    cache.mkdir(mode=0o700)
    interrupted = tmp_path / "envs" / "cutoff"
    (interrupted / ".envmod").mkdir(parents=True)
    (interrupted / "conda-meta").mkdir()
    state = {
        "format": 1,
        "engine": "rattler",
        "python": local_channel.python_version,
        # pid 1 runs, so only the free lock shows that nothing works on it any more
        "operation": {"kind": "install", "task": "gone", "pid": 1, "host": socket.gethostname(), "started": 1.0},
    }
    (interrupted / ".envmod" / "state.json").write_text(json.dumps(state))
    return api_config(
        tmp_path,
        channels=[gate.url],
        cache_dir=str(cache),
        default_engine="rattler",
        default_python=".".join(local_channel.python_version.split(".")[:2]),
    )


async def test_busy_environment_and_cancel_over_http(jp_fetch, gate, tmp_path):
    api = Api(jp_fetch)
    try:
        task = await api.accepted(await api.post("environments", body={"name": "slow", "packages": ["slowpkg"]}))
        await gate.held(1)
        listed = (await api.get("environments")).body
        slow = next(env for env in listed if env["name"] == "slow")
        assert slow["state"] == "busy"
        assert slow["operation"]["task"] == task["id"]

        for method, parts, body in (
            ("POST", ("environments", slow["id"], "packages"), {"install": ["alpha"]}),
            ("DELETE", ("environments", slow["id"]), None),
            ("PUT", ("environments", slow["id"], "kernel"), {}),
        ):
            answer = await api.call(method, *parts, body=body)
            assert answer.code == 409, (method, parts, answer.body)
            assert answer.body["reason"] == "environment-busy"
            assert answer.body["details"]["task"] == task["id"]
            assert task["id"] in answer.body["message"]

        running = (await api.get("tasks", task["id"])).body
        assert running["state"] == "running"
        cancel = await api.delete("tasks", task["id"])
        assert cancel.code == 202
        assert cancel.headers["Location"].endswith(f"/envmod/tasks/{task['id']}")
        ended = await api.wait(task)
        assert ended["state"] == "cancelled"
        assert ended["error"]["reason"] == "cancelled"
        assert not (tmp_path / "envs" / "slow").exists()
        assert [env["name"] for env in (await api.get("environments")).body] == ["cutoff"]
        # reading a finished task twice gives the same answer
        assert (await api.get("tasks", task["id"])).body == (await api.get("tasks", task["id"])).body
    finally:
        gate.open()


async def test_cut_off_operation_is_interrupted_after_start(jp_fetch, jp_serverapp, tmp_path):
    api = Api(jp_fetch)
    # what ServerApp.start does once its loop runs (pytest-jupyter's server does not start extensions)
    await jp_serverapp.extension_manager.start_all_extensions()
    deadline = time.monotonic() + 60
    while True:  # the check runs in a thread once the server started
        cutoff = next(env for env in (await api.get("environments")).body if env["name"] == "cutoff")
        if cutoff["state"] == "interrupted" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert cutoff["state"] == "interrupted"
    assert cutoff["operation"]["interrupted"] > 0
    state = json.loads((tmp_path / "envs" / "cutoff" / ".envmod" / "state.json").read_text())
    assert state["operation"]["interrupted"] > 0
    assert os.path.exists("/proc/1")  # its pid is alive: the lock told the truth
