"""Each endpoint over HTTP on the venv engine (fast: uv, no packages unless needed):
success answers validated against the OpenAPI schemas, and each error class —
400 naming the field, 404, 409 naming the running task, 422 with the solver's
message, 500 with the failing command and its output."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from jupyter_envmod import kernels
from jupyter_envmod.config import EnvMod
from jupyter_envmod.templating import Target, Templates
from tests.handlers.api import Api, api_config, check_schema


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def envmod_config(tmp_path, local_channel, tmp_path_factory):
    # the pip index is a closed port: a pip install fails at once, its command and output in the error
    return api_config(
        tmp_path,
        channels=[local_channel.url],
        cache_dir=str(tmp_path_factory.getbasetemp() / "api-endpoints-cache"),
        pip_index_url=f"http://127.0.0.1:{closed_port()}/simple",
    )


@pytest.fixture
def api(jp_fetch) -> Api:
    return Api(jp_fetch)


async def new_venv(api: Api, name: str, **extra) -> dict:
    await api.succeeded(await api.post("environments", body={"name": name, "engine": "venv", **extra}))
    listed = (await api.get("environments")).body
    return next(env for env in listed if env["name"] == name)


# -- 400: validation names the field, writes nothing ------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "bad name!"}, "name"),
        ({"name": "x", "engine": "pip"}, "engine"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "packages": "numpy"}, "packages"),
        ({"name": "x", "packages": [1]}, "packages[0]"),
        ({"name": "x", "kernel": {"create": "yes"}}, "kernel.create"),
        ({"name": "x", "module": {"formats": ["bat"]}}, "module.formats[0]"),
        ({"name": "x", "module": {"dependencies": ["gcc/12; rm -rf /"]}}, "module.dependencies"),
        ({"name": "x", "kernel": {"display_name": " "}}, "kernel.display_name"),
        ({"path": "relative/dir"}, "path"),
        ({"path": "/etc/envmod-test"}, "path"),
        ({"name": "x", "python": "three"}, "python"),
        ({"name": "x", "spec": {"format": "environment.yml"}}, "spec.content"),
        ({}, "name"),
    ],
)
async def test_create_rejects_bad_fields(api, tmp_path, body, field):
    answer = await api.post("environments", body=body)
    assert answer.code == 400, answer.body
    assert answer.body["reason"] == "invalid-input"
    assert answer.body["details"]["field"] == field
    assert list((tmp_path / "envs").iterdir()) == []


async def test_spec_file_errors_name_file_and_line(api, tmp_path):
    content = "name: x\ndependencies:\n  - python=3.11\n  - {bad: [\n"
    answer = await api.post(
        "environments", body={"name": "x", "spec": {"content": content, "filename": "environment.yml"}}
    )
    assert answer.code == 400
    assert answer.body["details"]["file"] == "environment.yml"
    assert answer.body["details"]["line"] >= 4
    assert "environment.yml" in answer.body["message"]
    assert list((tmp_path / "envs").iterdir()) == []


async def test_not_json_and_bad_query_arguments(api):
    answer = await api.post("environments", body=b"{not json")
    assert answer.code == 400
    assert answer.body["details"]["field"] == "body"
    answer = await api.get("tasks", "whatever", since="-1")
    assert answer.code == 400
    assert answer.body["details"]["field"] == "since"
    answer = await api.get("packages", "search", q="num py", engine="venv")
    assert answer.code == 400
    assert answer.body["details"]["field"] == "q"


# -- 404 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "parts"),
    [
        ("GET", ("environments", "nope")),
        ("DELETE", ("environments", "nope")),
        ("GET", ("environments", "nope", "packages")),
        ("GET", ("environments", "nope", "export")),
        ("PUT", ("environments", "nope", "kernel")),
        ("DELETE", ("environments", "nope", "module")),
        ("POST", ("environments", "nope", "clone")),
        ("GET", ("tasks", "nope")),
        ("DELETE", ("tasks", "nope")),
    ],
)
async def test_unknown_ids_are_404_json(api, method, parts):
    answer = await api.call(method, *parts, body={} if method in ("POST", "PUT") else None)
    assert answer.code == 404
    assert answer.body["reason"] == "not-found"


async def test_adopt_of_a_directory_that_is_no_environment_is_404(api, tmp_path):
    answer = await api.post("environments/adopt", body={"path": str(tmp_path), "kernel": {"create": True}})
    assert answer.code == 404
    assert answer.body["details"]["field"] == "path"


# -- environment endpoints on venv ------------------------------------------------------


async def test_details_clone_module_kernel_listings_and_tasks(api, jp_fetch, tmp_path, jp_data_dir):
    env = await new_venv(api, "base")
    check_schema(env, "Environment")

    # module files: PUT writes them, the listing shows them, DELETE removes them
    task = await api.succeeded(await api.put("environments", env["id"], "module", body={"formats": ["tcl", "sh"]}))
    assert task["kind"] == "module"
    assert set(task["result"]["module"]["files"]) == {"tcl", "sh"}
    modules = (await api.get("modules")).body
    for item in modules:
        check_schema(item, "ModuleFile")
    assert {(m["format"], m["env_path"], m["orphan"]) for m in modules} == {
        ("tcl", env["path"], None),
        ("sh", env["path"], None),
    }
    details = (await api.get("environments", env["id"])).body
    assert details["usage"][0] == f"module use {tmp_path / 'modules'}"
    removed = await api.delete("environments", env["id"], "module")
    assert removed.code == 202
    assert removed.body["state"] == "succeeded"  # quick: the answer waited for it
    assert len(removed.body["result"]["removed"]) == 2
    assert (await api.get("modules")).body == []

    for what in ("kernel", "module"):
        bad = await api.put("environments", env["id"], what, body={"dependencies": ["gcc/12; rm -rf /"]})
        assert bad.code == 400
        assert bad.body["details"]["field"] == "dependencies"

    # the kernel of a venv without ipykernel: uv pip against the (closed) index fails → the task says why
    failed = await api.wait(await api.put("environments", env["id"], "kernel", body={"display_name": "K"}))
    assert failed["state"] == "failed"
    assert failed["error"]["reason"] == "operation-failed"
    assert failed["error"]["details"]["argv"][0].endswith("uv")
    assert failed["error"]["details"]["output_tail"]
    assert (await api.get("kernels")).body == []

    # clone: a new environment with the same (no) packages
    clone = await api.succeeded(await api.post("environments", env["id"], "clone", body={"name": "copy"}))
    assert clone["kind"] == "clone"
    assert (tmp_path / "envs" / "copy" / "pyvenv.cfg").is_file()

    # a kernelspec for an environment that is gone is listed as an orphan
    target = Target(
        name="gone", prefix=tmp_path / "gone", engine="venv", kind="venv", python_version="3.11.0", created="now"
    )
    kernels.write_kernel(EnvMod(kernel_dir=str(Path(jp_data_dir) / "kernels")), Templates(), target)
    listed = (await api.get("kernels")).body
    for item in listed:
        check_schema(item, "KernelSpec")
    assert [(k["env_path"], k["orphan"]) for k in listed] == [(str(tmp_path / "gone"), "environment missing")]

    # tasks: all kept, filter by environment, finished ones read twice give the same answer
    tasks = (await api.get("tasks")).body
    assert [t["kind"] for t in tasks] == ["create", "module", "remove-module", "kernel", "clone"]
    assert all(t["log"] == [] for t in tasks)
    mine = (await api.get("tasks", environment=env["id"])).body
    assert [t["kind"] for t in mine] == ["create", "module", "remove-module", "kernel"]
    first = (await api.get("tasks", tasks[0]["id"])).body
    assert first == (await api.get("tasks", tasks[0]["id"])).body
    assert first["result"] is not None
    again = await api.delete("tasks", tasks[0]["id"])
    assert again.code == 400
    assert again.body["reason"] == "task-finished"


async def test_adopt_a_plain_venv_writes_module_files(api, tmp_path):
    import venv

    outside = tmp_path / "colleague" / "tools"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(outside)
    task = await api.succeeded(
        await api.post("environments/adopt", body={"path": str(outside), "module": {"create": True, "formats": ["sh"]}})
    )
    assert task["kind"] == "adopt"
    script = Path(task["result"]["module"]["files"]["sh"])
    assert script.parent == tmp_path / "activate"
    assert not (outside / ".envmod").exists()  # nothing written into an environment we did not make
    listed = (await api.get("environments")).body
    adopted = next(env for env in listed if env["path"] == str(outside))
    assert adopted["managed"] is False
    details = (await api.get("environments", adopted["id"])).body
    assert details["usage"] == [f". {script}"]
    # outside allowed_roots: it cannot be deleted or changed, and ipykernel is not installed into it
    refused = await api.delete("environments", adopted["id"])
    assert refused.code == 400
    assert "allowed" in refused.body["message"]
    kernel = await api.put("environments", adopted["id"], "kernel")
    assert kernel.code == 400
    assert "ipykernel" in kernel.body["message"]
    nothing = await api.post("environments/adopt", body={"path": str(outside)})
    assert nothing.code == 400
    assert nothing.body["details"]["field"] == "kernel"


async def test_export_and_packages_of_a_venv(api):
    env = await new_venv(api, "exp")
    packages = await api.get("environments", env["id"], "packages")
    assert packages.code == 200
    assert packages.body == []
    answer = await api.get("environments", env["id"], "export", format="requirements")
    assert answer.code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "exp-requirements.txt" in answer.headers["Content-Disposition"]
    bad = await api.get("environments", env["id"], "export", format="zip")
    assert bad.code == 400
    assert bad.body["details"]["field"] == "format"


async def test_packages_request_needs_exactly_one_action(api):
    env = await new_venv(api, "acts")
    for body, field in (({}, "install"), ({"install": ["six"], "remove": ["idna"]}, "remove")):
        answer = await api.post("environments", env["id"], "packages", body=body)
        assert answer.code == 400
        assert answer.body["details"]["field"] == field


# -- 500: a command failed --------------------------------------------------------------


async def test_failing_command_is_500_with_command_and_output(api):
    env = await new_venv(api, "pipfail")
    answer = await api.post("environments", env["id"], "packages", body={"install": ["six"], "dry_run": True})
    assert answer.code == 500, answer.body
    assert answer.body["reason"] == "operation-failed"
    assert answer.body["details"]["argv"][0].endswith("uv")
    assert any("127.0.0.1" in line for line in answer.body["details"]["output_tail"])
    assert "Traceback" not in json.dumps(answer.body)


# -- 422: unsatisfiable (the solver's message) ---------------------------------------


async def test_unsatisfiable_dry_run_is_422(api, tmp_path):
    answer = await api.post(
        "environments",
        body={"name": "nope", "engine": "rattler", "packages": ["python", "needsmissing"], "dry_run": True},
    )
    assert answer.code == 422, answer.body
    assert answer.body["reason"] == "unsatisfiable"
    assert "doesnotexist" in answer.body["message"]
    assert answer.body["details"]["task"]
    assert list((tmp_path / "envs").iterdir()) == []

    ok = await api.post(
        "environments", body={"name": "fine", "engine": "rattler", "packages": ["beta"], "dry_run": True}
    )
    assert ok.code == 200
    assert {c["name"] for c in ok.body["result"]["plan"]["changes"]} == {"alpha", "beta", "python"}
    assert list((tmp_path / "envs").iterdir()) == []


# -- module picker, package search ---------------------------------------------------


async def test_available_modules(api, monkeypatch):
    answer = await api.get("modules", "available")
    assert answer.code == 200
    check_schema(answer.body, "AvailableModules")


async def test_package_search_answers_at_once_then_from_the_channel(api, local_channel):
    """The first answer comes from the empty cache (the channel loads in the
    background); polling shows the channel's names once it is loaded."""
    first = await api.get("packages", "search", q="al", engine="rattler")
    assert first.code == 200
    check_schema(first.body, "SearchResult")
    answer = first
    for _ in range(1200):  # a generous bound; the local channel loads in well under a second
        if answer.body["complete"]:
            break
        await asyncio.sleep(0.05)
        answer = await api.get("packages", "search", q="al", engine="rattler")
    assert answer.body["names"][0] == "alpha"
    assert answer.body["sources"][0]["state"] == "ready"
    bad = await api.get("packages", "search", q="al", engine="spack")
    assert bad.code == 400
    assert bad.body["details"]["field"] == "engine"
