"""jupyter_envmod under a real JupyterHub (PyPI) with configurable-http-proxy (npm) on
loopback, DummyAuthenticator and SimpleLocalProcessSpawner (tests/hub/conftest.py):

- the single-user servers load the extension because the package's jupyter-config is
  installed in ``<sys.prefix>/etc/jupyter`` — nothing in the hub's config enables it;
- a user's own token creates a venv environment with a kernel through the hub's URL,
  and the kernel is then in that user's kernelspecs (and not in another user's);
- another user's token cannot reach the first user's envmod API.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.handlers.api import check_schema
from tests.hub.conftest import ROOT, Hub

pytestmark = [pytest.mark.hub, pytest.mark.timeout(600)]

CONFIG_NAME = Path("jupyter_server_config.d", "jupyter_envmod.json")


def config_dirs(home: Path) -> list[Path]:
    """Where a single-user server of this Python reads Jupyter config (jupyter --paths)."""
    return [home / ".jupyter", Path(sys.prefix, "etc", "jupyter"), Path("/usr/local/etc/jupyter"), Path("/etc/jupyter")]


def test_installed_jupyter_config_alone_enables_the_extension(hub: Hub) -> None:
    installed = Path(sys.prefix, "etc", "jupyter") / CONFIG_NAME
    assert installed.is_file(), f"{installed} missing: the install did not place the package's jupyter-config"
    shipped = json.loads((ROOT / "jupyter-config" / "server-config" / "jupyter_envmod.json").read_text())
    assert (
        json.loads(installed.read_text()) == shipped == {"ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}}}
    )
    # that file is the only config that names the extension: not the hub's, not the users'
    assert "jupyter_envmod" not in hub.config.read_text()
    assert "jpserver_extensions" not in hub.config.read_text()
    for user in ("alice", "bob"):
        naming = [
            path
            for root in config_dirs(hub.homes[user])
            if root.is_dir()
            for path in root.rglob("*")
            if path.is_file() and "jupyter_envmod" in path.read_text(errors="replace")
        ]
        assert naming == [installed], naming

    log = hub.log_text()
    for user in ("alice", "bob"):
        assert f"jupyter_envmod: extension loaded at /user/{user}/envmod" in log

    site = hub.call("GET", "/user/alice/envmod/site", hub.tokens["alice"])
    assert site.status == 200, site.raw
    check_schema(site.body, "SiteInfo")
    assert site.body["user"] == "alice"
    assert site.body["engines"]["venv"]["available"] is True
    home = hub.homes["alice"]
    assert site.body["config"]["env_dirs"] == [str(home / ".conda" / "envs")]
    assert site.body["config"]["kernel_dir"] == str(home / ".local" / "share" / "jupyter" / "kernels")


def test_user_token_creates_venv_with_kernel_through_the_hub(hub: Hub) -> None:
    alice = hub.tokens["alice"]
    answer = hub.call(
        "POST",
        "/user/alice/envmod/environments",
        alice,
        body={"name": "hubvenv", "engine": "venv", "kernel": {"create": True, "display_name": "Hub venv «ü»"}},
    )
    assert answer.status == 202, hub.failure(f"create: {answer.status} {answer.raw!r}")
    check_schema(answer.body, "Task")
    location = answer.headers["Location"]
    assert location.endswith(f"/user/alice/envmod/tasks/{answer.body['id']}"), location

    task = hub.wait_task(location, alice)
    check_schema(task, "Task")
    log = "\n".join(line["line"] for line in task["log"])
    assert task["state"] == "succeeded", hub.failure(f"create task: {task['error']}\n{log}")
    kernel = task["result"]["kernel"]["name"]

    specs = hub.call("GET", "/user/alice/api/kernelspecs", alice)
    assert specs.status == 200, specs.raw
    assert specs.body["kernelspecs"][kernel]["spec"]["display_name"] == "Hub venv «ü»"
    env_path = hub.homes["alice"] / ".conda" / "envs" / "hubvenv"
    assert (env_path / "pyvenv.cfg").is_file()
    assert (hub.homes["alice"] / ".local" / "share" / "jupyter" / "kernels" / kernel / "kernel.json").is_file()
    listed = hub.call("GET", "/user/alice/envmod/environments", alice)
    assert listed.status == 200, listed.raw
    assert [env["path"] for env in listed.body if env["name"] == "hubvenv"] == [str(env_path)]

    # bob's server, with bob's own HOME, knows nothing of alice's kernel
    theirs = hub.call("GET", "/user/bob/api/kernelspecs", hub.tokens["bob"])
    assert theirs.status == 200, theirs.raw
    assert kernel not in theirs.body["kernelspecs"]


def test_another_users_token_cannot_reach_the_envmod_api(hub: Hub) -> None:
    alice, bob = hub.tokens["alice"], hub.tokens["bob"]
    # bob's token is good: it reaches bob's own server
    own = hub.call("GET", "/user/bob/envmod/site", bob)
    assert own.status == 200, own.raw
    assert own.body["user"] == "bob"

    for method, path, body in [
        ("GET", "/user/alice/envmod/site", None),
        ("GET", "/user/alice/envmod/environments", None),
        ("POST", "/user/alice/envmod/environments", {"name": "intruder", "engine": "venv"}),
    ]:
        reply = hub.call(method, path, bob, body=body)
        assert reply.status == 403, hub.failure(f"{method} {path} with bob's token: {reply.status} {reply.raw!r}")
        check_schema(reply.body, "Error")  # refused by alice's server itself, in the API's error shape
    assert not (hub.homes["alice"] / ".conda" / "envs" / "intruder").exists()
    names = [env["name"] for env in hub.call("GET", "/user/alice/envmod/environments", alice).body]
    assert "intruder" not in names

    # and the other way round
    reply = hub.call("GET", "/user/bob/envmod/site", alice)
    assert reply.status == 403, reply.raw
