"""Whole flows over REST, on real engines: create with a kernel → poll the task →
the kernel is in /api/kernelspecs → install a package → export each format →
delete → the kernel is gone. venv with uv (packages from the pip index) and rattler
with the local file:// channel (ipykernel from a second local channel)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.handlers.api import Api, api_config, check_schema


@pytest.fixture
def envmod_config(tmp_path, local_channel, ipykernel_channel, tmp_path_factory):
    return api_config(
        tmp_path,
        channels=[local_channel.url, ipykernel_channel],
        cache_dir=str(tmp_path_factory.getbasetemp() / "api-flow-cache"),
    )


async def kernelspecs(jp_fetch) -> dict:
    return json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]


async def find_env(api: Api, name: str) -> dict:
    listed = await api.get("environments")
    assert listed.code == 200
    for env in listed.body:
        check_schema(env, "Environment")
    return next(env for env in listed.body if env["name"] == name)


def ipykernel_version(requirements: str) -> str:
    return next(line.split("==")[1] for line in requirements.splitlines() if line.startswith("ipykernel=="))


async def test_venv_flow(jp_fetch, tmp_path):
    api = Api(jp_fetch)
    created = await api.succeeded(
        await api.post(
            "environments",
            body={
                "name": "webvenv",
                "engine": "venv",
                "pip_packages": ["six==1.16.0"],
                "kernel": {"create": True, "display_name": "Web venv «1»"},
                "module": {"create": True, "formats": ["tcl", "sh"]},
            },
        )
    )
    assert created["kind"] == "create"
    assert created["result"]["kernel"]["display_name"] == "Web venv «1»"
    env = await find_env(api, "webvenv")
    assert env["engine"] == "venv"
    assert env["state"] == "ready"
    assert env["path"] == str(tmp_path / "envs" / "webvenv")

    specs = await kernelspecs(jp_fetch)
    name = created["result"]["kernel"]["name"]
    assert specs[name]["spec"]["display_name"] == "Web venv «1»"

    details = await api.get("environments", env["id"])
    assert details.code == 200
    check_schema(details.body, "EnvironmentDetails")
    assert [k["name"] for k in details.body["kernels"]] == [name]
    assert {f["format"] for f in details.body["module_files"]} == {"tcl", "sh"}
    assert any(line.startswith("module load conda-env/webvenv-py") for line in details.body["usage"])
    assert details.body["requested"]["pip"] == ["six==1.16.0", "ipykernel"]  # the kernel asked for ipykernel

    installed = await api.succeeded(
        await api.post("environments", env["id"], "packages", body={"install": ["idna==3.4"], "manager": "pip"})
    )
    assert installed["kind"] == "install"
    packages = await api.get("environments", env["id"], "packages")
    for package in packages.body:
        check_schema(package, "Package")
    assert {(p["name"], p["version"]) for p in packages.body} >= {("six", "1.16.0"), ("idna", "3.4")}

    exported = {}
    for fmt in ("yml", "history", "requirements"):
        answer = await api.get("environments", env["id"], "export", format=fmt)
        assert answer.code == 200, answer.raw
        exported[fmt] = answer.text
        assert "attachment" in answer.headers["Content-Disposition"]
    assert (
        'filename="webvenv-environment.yml"'
        in (await api.get("environments", env["id"], "export")).headers["Content-Disposition"]
    )
    assert "idna==3.4" in exported["yml"]
    assert "six==1.16.0" in exported["yml"]
    assert "idna==3.4" in exported["history"]
    assert {"idna==3.4", "six==1.16.0", "ipykernel==" + ipykernel_version(exported["requirements"])} <= set(
        exported["requirements"].splitlines()
    )
    explicit = await api.get("environments", env["id"], "export", format="explicit")
    assert explicit.code == 400
    assert explicit.body["details"]["field"] == "format"

    deleted = await api.succeeded(await api.delete("environments", env["id"]))
    assert str(tmp_path / "envs" / "webvenv") in deleted["result"]["removed"]
    assert name not in await kernelspecs(jp_fetch)
    assert not (tmp_path / "envs" / "webvenv").exists()
    assert list((tmp_path / "modules").rglob("*")) == [] or not any((tmp_path / "modules").rglob("webvenv*"))
    assert (await api.get("environments", env["id"])).code == 404


async def test_rattler_flow(jp_fetch, tmp_path, local_channel):
    api = Api(jp_fetch)
    created = await api.succeeded(
        await api.post(
            "environments",
            body={
                "name": "webconda",
                "engine": "rattler",
                "packages": ["python", "tinypy 1.0"],
                "kernel": {"create": True},
            },
        )
    )
    name = created["result"]["kernel"]["name"]
    assert name in await kernelspecs(jp_fetch)
    env = await find_env(api, "webconda")
    assert env["engine"] == "rattler"
    assert env["python_version"] == local_channel.python_version

    dry = await api.post("environments", env["id"], "packages", body={"update": ["tinypy"], "dry_run": True})
    assert dry.code == 200, dry.body
    check_schema(dry.body, "Task")
    assert [c["name"] for c in dry.body["result"]["plan"]["changes"]] == ["tinypy"]
    installed = await api.succeeded(await api.post("environments", env["id"], "packages", body={"install": ["beta"]}))
    assert {c["name"] for c in installed["result"]["plan"]["changes"]} == {"alpha", "beta"}
    packages = {p["name"]: p for p in (await api.get("environments", env["id"], "packages")).body}
    assert packages["beta"]["requested"]
    assert not packages["alpha"]["requested"]
    assert packages["tinypy"]["version"] == "1.0"

    texts = {}
    for fmt in ("yml", "history", "requirements", "explicit"):
        answer = await api.get("environments", env["id"], "export", format=fmt)
        assert answer.code == 200, answer.raw
        texts[fmt] = answer.text
    assert "beta=1.0" in texts["yml"]
    assert "tinypy=1.0" in texts["yml"]
    assert "- beta" in texts["history"]
    assert "alpha" not in texts["history"]
    assert "@EXPLICIT" in texts["explicit"]
    assert "/beta-1.0-" in texts["explicit"]
    assert "ipykernel" in texts["history"]  # the kernel asked for it: recorded as a request

    await api.succeeded(await api.delete("environments", env["id"]))
    assert name not in await kernelspecs(jp_fetch)
    assert not Path(env["path"]).exists()
