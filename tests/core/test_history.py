"""Revisions, restore, outdated and update-all, and recreating an environment from
its exported spec, on real engines: rattler against the local file:// channel
(tests/localchannel.py: tinypy 1.0/1.1, alpha 1.0/2.0, gamma needs alpha <2),
venv with real uv against PyPI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jupyter_envmod import history
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import InvalidInput, NotFound
from jupyter_envmod.models import ChangeRequest
from jupyter_envmod.operations import CreateOptions, Environments
from jupyter_envmod.specs import parse_spec_text
from jupyter_envmod.tasks import SUCCEEDED, Task


def make_envs(root: Path, cache: Path, channel_url: str, python: str) -> Environments:
    return Environments(
        EnvMod(
            env_dirs=[str(root)],
            cache_dir=str(cache),
            channels=[channel_url],
            default_python=".".join(python.split(".")[:2]),
        )
    )


@pytest.fixture
def envs(home, tmp_path, cache, local_channel) -> Environments:
    return make_envs(tmp_path / "envs", cache, local_channel.url, local_channel.python_version)


async def run(task: Task) -> Task:
    await task.wait()
    assert task.state == SUCCEEDED, task.error
    return task


def exact(envs: Environments, env) -> set[tuple[str, str, str, str]]:
    """Every package with version, build and source: what "the same package set" means."""
    return {(p.name, p.version, p.build, p.source) for p in envs.packages(env)}


def change(envs: Environments, env, action: str, specs: list[str], manager: str = "conda") -> Task:
    return envs.change(envs.find(path=env.path), ChangeRequest(action, specs, manager))  # type: ignore[arg-type]


async def test_rattler_install_update_remove_restore(envs):
    task = await run(envs.create(CreateOptions(name="rev", packages=["python"])))
    env = envs.find(path=task.result["environment"]["path"])
    sets = {0: exact(envs, env)}
    for rev, (action, specs) in enumerate(
        [("install", ["tinypy=1.0"]), ("update", ["tinypy"]), ("remove", ["tinypy"])], start=1
    ):
        done = await run(change(envs, env, action, specs))
        assert done.result["revision"] == rev
        sets[rev] = exact(envs, env)
    assert ("tinypy", "1.0", "py_0", "conda") in sets[1]
    assert ("tinypy", "1.1", "py_0", "conda") in sets[2]
    assert not any(p[0] == "tinypy" for p in sets[3])

    revs = envs.history(env)
    assert [(r.rev, r.action) for r in revs] == [(0, "create"), (1, "install"), (2, "update"), (3, "remove")]
    assert revs[1].diff["added"] == [{"name": "tinypy", "source": "conda", "new": "1.0=py_0"}]
    assert revs[2].diff["changed"] == [{"name": "tinypy", "source": "conda", "old": "1.0=py_0", "new": "1.1=py_0"}]
    assert revs[3].diff["removed"] == [{"name": "tinypy", "source": "conda", "old": "1.1=py_0"}]
    assert revs[2].request["specs"] == ["tinypy"]
    assert revs[2].summary() == "tinypy 1.0=py_0 → 1.1=py_0"
    assert all(r["sha256"] and r["url"] for r in revs[1].snapshot.conda)

    # a dry run shows the plan and changes nothing
    preview = await run(envs.restore(envs.find(path=env.path), 1, dry_run=True))
    assert preview.result["summary"] == "1 to add"
    assert exact(envs, env) == sets[3]
    assert len(envs.history(env)) == 4

    restored = await run(envs.restore(envs.find(path=env.path), 1))
    assert restored.result == {**restored.result, "revision": 4, "restored": 1}
    assert exact(envs, env) == sets[1]
    prefix = Path(env.path)
    out = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import tinypy; print(tinypy.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "1.0"
    last = envs.history(env)[-1]
    assert (last.rev, last.action, last.request) == (4, "restore", {"revision": 1})
    assert last.diff["added"] == [{"name": "tinypy", "source": "conda", "new": "1.0=py_0"}]
    # what was asked for came back too: the next solve keeps tinypy at 1.0
    state = envs.find(path=env.path).state_record
    assert state is not None
    assert "tinypy=1.0" in state.requested_conda
    await run(change(envs, env, "install", ["beta"]))
    assert ("tinypy", "1.0", "py_0", "conda") in exact(envs, env)

    await run(envs.restore(envs.find(path=env.path), 0))
    assert exact(envs, env) == sets[0]


async def test_restore_refusals_name_the_revision(envs):
    task = await run(envs.create(CreateOptions(name="refuse", packages=["python"])))
    env = envs.find(path=task.result["environment"]["path"])
    with pytest.raises(NotFound, match="no revision 7; its revisions are 0 to 0"):
        envs.restore(env, 7)
    with pytest.raises(InvalidInput, match="give a revision number"):
        history.parse_rev("latest")
    assert len(envs.history(env)) == 1


async def test_changes_made_outside_are_recorded_before_the_next_change(envs):
    task = await run(envs.create(CreateOptions(name="outside", packages=["python", "tinypy=1.0"])))
    env = envs.find(path=task.result["environment"]["path"])
    # someone removes a package behind our back (here: conda's record of it)
    meta = Path(env.path) / "conda-meta"
    [record] = meta.glob("tinypy-*.json")
    record.unlink()
    await run(change(envs, env, "install", ["alpha=1.0"]))
    revs = envs.history(env)
    assert [r.action for r in revs] == ["create", "outside", "install"]
    assert revs[1].diff["removed"] == [{"name": "tinypy", "source": "conda", "old": "1.0=py_0"}]


async def test_rattler_outdated_and_update_all(envs):
    # tinypy pinned at create, then asked for without a version: 1.1 becomes acceptable;
    # gamma needs alpha <2, so alpha 2.0 exists but is held back
    task = await run(envs.create(CreateOptions(name="old", packages=["python", "tinypy=1.0", "gamma"])))
    env = envs.find(path=task.result["environment"]["path"])
    await run(change(envs, env, "install", ["tinypy"]))
    before = exact(envs, env)
    assert ("tinypy", "1.0", "py_0", "conda") in before

    report = await run(envs.outdated(envs.find(path=env.path)))
    rows = {r["name"]: r for r in report.result["outdated"]}
    assert rows["tinypy"] == {
        "name": "tinypy",
        "source": "conda",
        "installed": "1.0",
        "latest": "1.1",
        "update": "1.1",
        "requested": True,
    }
    assert rows["alpha"]["latest"] == "2.0"
    assert rows["alpha"]["update"] is None
    assert set(rows) == {"tinypy", "alpha"}
    assert exact(envs, env) == before  # outdated changes nothing

    dry = await run(envs.change(envs.find(path=env.path), ChangeRequest("update-all", []), dry_run=True))
    assert [c["name"] for c in dry.result["plan"]["changes"]] == ["tinypy"]
    assert exact(envs, env) == before

    done = await run(change(envs, env, "update-all", []))
    after = exact(envs, env)
    assert ("tinypy", "1.1", "py_0", "conda") in after
    assert ("alpha", "1.0", "0", "conda") in after
    last = envs.history(env)[-1]
    assert (last.rev, last.action) == (done.result["revision"], "update-all")
    assert last.diff["changed"] == [{"name": "tinypy", "source": "conda", "old": "1.0=py_0", "new": "1.1=py_0"}]
    report = await run(envs.outdated(envs.find(path=env.path)))
    assert [r["name"] for r in report.result["outdated"]] == ["alpha"]


async def test_update_all_refuses_names(envs):
    task = await run(envs.create(CreateOptions(name="names", packages=["python"])))
    env = envs.find(path=task.result["environment"]["path"])
    with pytest.raises(InvalidInput, match="update-all takes no package names"):
        envs.change(env, ChangeRequest("update-all", ["tinypy"]))


async def test_venv_revisions_outdated_update_all_and_restore(envs):
    task = await run(envs.create(CreateOptions(name="venvrev", engine="venv", pip_packages=["six==1.15.0"])))
    env = envs.find(path=task.result["environment"]["path"])
    rev0 = exact(envs, env)
    await run(change(envs, env, "install", ["isodate==0.6.1"], "pip"))
    rev1 = exact(envs, env)
    assert ("isodate", "0.6.1", "", "pypi") in rev1
    await run(change(envs, env, "install", ["six"], "pip"))  # no longer pinned: newer six acceptable
    report = await run(envs.outdated(envs.find(path=env.path)))
    [row] = [r for r in report.result["outdated"] if r["name"] == "six"]
    assert row["installed"] == "1.15.0"
    assert row["update"] == row["latest"]
    assert row["latest"] > "1.15.0"
    done = await run(change(envs, env, "update-all", [], "pip"))
    assert ("six", row["update"], "", "pypi") in exact(envs, env)
    assert ("isodate", "0.6.1", "", "pypi") in exact(envs, env)  # still pinned by the request
    await run(change(envs, env, "remove", ["isodate"], "pip"))
    revs = envs.history(env)
    assert [r.action for r in revs] == ["create", "install", "install", "update-all", "remove"]
    assert revs[3].rev == done.result["revision"]

    await run(envs.restore(envs.find(path=env.path), 1))
    assert exact(envs, env) == rev1
    requested = {p.name for p in envs.packages(envs.find(path=env.path)) if p.requested}
    assert requested == {"six", "isodate"}
    await run(envs.restore(envs.find(path=env.path), 0))
    assert exact(envs, env) == rev0


async def test_recreate_from_export_on_another_machine(home, tmp_path, tmp_path_factory, cache, local_channel):
    """Two "machines": separate roots and separate package caches. The exported
    spec (pinned yml, and history) recreates the same package set."""
    first = make_envs(tmp_path / "one", cache, local_channel.url, local_channel.python_version)
    other_cache = tmp_path_factory.mktemp("other-cache")
    second = make_envs(tmp_path / "two", other_cache, local_channel.url, local_channel.python_version)

    task = await run(first.create(CreateOptions(name="orig", packages=["python", "tinypy=1.0", "beta"])))
    env = first.find(path=task.result["environment"]["path"])
    await run(first.change(env, ChangeRequest("install", ["gamma"])))
    env = first.find(path=env.path)
    for fmt in ("yml", "history"):
        _, text = first.export(env, fmt)
        spec = parse_spec_text(text, source=f"environment-{fmt}.yml")
        made = await run(second.create(CreateOptions(name=f"copy-{fmt}", spec=spec)))
        copy = second.find(path=made.result["environment"]["path"])
        assert str(tmp_path / "two") in copy.path
        assert exact(second, copy) == exact(first, env), fmt
    assert any(other_cache.rglob("tinypy-1.0-*")), "the second machine fetched into its own cache"


async def test_venv_recreate_from_export(home, tmp_path, tmp_path_factory, cache, local_channel):
    first = make_envs(tmp_path / "one", cache, local_channel.url, local_channel.python_version)
    second = make_envs(
        tmp_path / "two", tmp_path_factory.mktemp("other-uv"), local_channel.url, local_channel.python_version
    )
    task = await run(first.create(CreateOptions(name="v", engine="venv", pip_packages=["isodate==0.6.1"])))
    env = first.find(path=task.result["environment"]["path"])
    _, text = first.export(env, "yml")
    made = await run(second.create(CreateOptions(name="v", engine="venv", spec=parse_spec_text(text, source="e.yml"))))
    assert exact(second, second.find(path=made.result["environment"]["path"])) == exact(first, env)
