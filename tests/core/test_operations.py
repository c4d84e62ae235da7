"""Operations end to end on real engines, in temp dirs: rattler against the local
file:// channel (tests/localchannel.py), venv with real uv against PyPI.

Create, list, describe, packages, install/update/remove, export round trips,
clone, delete, dry runs, cancel, the lock conflict, interrupted state after a
killed worker, and rejected input that writes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import Busy, InvalidInput, NotFound
from jupyter_envmod.models import ChangeRequest
from jupyter_envmod.operations import CreateOptions, Environments
from jupyter_envmod.specs import parse_spec_file, parse_spec_text
from jupyter_envmod.tasks import CANCELLED, SUCCEEDED, Task


@pytest.fixture
def envs(home, tmp_path, cache, local_channel) -> Environments:
    envmod = EnvMod(
        env_dirs=[str(tmp_path / "envs")],
        cache_dir=str(cache),
        channels=[local_channel.url],
        default_python=".".join(local_channel.python_version.split(".")[:2]),
    )
    return Environments(envmod)


@pytest.fixture
def gated_envs(home, tmp_path, gate, local_channel) -> Environments:
    """Like ``envs``, on the gated http:// channel with a cache of its own, so that
    slowpkg's download is really made and held until ``gate.open()``."""
    cache = tmp_path / "gated-cache"
    cache.mkdir(mode=0o700)
    envmod = EnvMod(
        env_dirs=[str(tmp_path / "envs")],
        cache_dir=str(cache),
        channels=[gate.url],
        default_python=".".join(local_channel.python_version.split(".")[:2]),
    )
    return Environments(envmod)


async def run(task: Task) -> Task:
    await task.wait()
    assert task.state == SUCCEEDED, task.error
    return task


def pkgset(envs: Environments, env) -> set[tuple[str, str, str]]:
    return {(p.name, p.version, p.source) for p in envs.packages(env)}


def python_says(prefix: Path, code: str) -> str:
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


# -- conda (rattler) -------------------------------------------------------------------


async def test_rattler_create_list_packages_change_delete(envs, home):
    task = await run(envs.create(CreateOptions(name="analysis", packages=["tinypy=1.0", "gamma"])))
    prefix = Path(task.result["environment"]["path"])
    assert python_says(prefix, "import tinypy, sys; print(tinypy.VERSION, sys.prefix)") == f"1.0 {prefix}"

    [env] = envs.all()
    assert (env.name, env.kind, env.engine, env.state, env.managed) == ("analysis", "conda", "rattler", "ready", True)
    assert env.python_version is not None
    packages = {p.name: p for p in envs.packages(env)}
    assert packages["tinypy"].version == "1.0"
    assert packages["tinypy"].requested
    assert packages["gamma"].requested
    assert not packages["alpha"].requested  # pulled in by gamma
    assert packages["alpha"].version == "1.0"
    assert packages["alpha"].channel.endswith("channel")
    assert str(prefix) in (home / ".conda" / "environments.txt").read_text()

    # install: beta joins; update tinypy 1.0 -> 1.1; remove gamma
    task = await run(envs.change(env, ChangeRequest("install", ["beta"])))
    assert {c["name"] for c in task.result["plan"]["changes"]} == {"beta"}
    task = await run(envs.change(envs.find(name="analysis"), ChangeRequest("update", ["tinypy"])))
    [change] = task.result["plan"]["changes"]
    assert (change["name"], change["kind"]) == ("tinypy", "change")
    assert python_says(prefix, "import tinypy; print(tinypy.VERSION)") == "1.1"
    task = await run(envs.change(envs.find(name="analysis"), ChangeRequest("remove", ["gamma"])))
    assert "gamma" not in {p.name for p in envs.packages(envs.find(name="analysis"))}
    described = envs.describe(envs.find(name="analysis"))
    assert described["requested"]["conda"] == ["tinypy=1.0", "beta"] or "beta" in described["requested"]["conda"]

    task = await run(envs.delete(envs.find(name="analysis")))
    assert not prefix.exists()
    assert str(prefix) not in (home / ".conda" / "environments.txt").read_text()
    assert envs.all() == []


async def test_dry_runs_change_nothing(envs, tmp_path):
    task = await run(envs.create(CreateOptions(name="dry", packages=["beta"], dry_run=True)))
    names = {c["name"] for c in task.result["plan"]["changes"]}
    assert {"python", "alpha", "beta"} <= names
    assert not (tmp_path / "envs" / "dry").exists()
    await run(envs.create(CreateOptions(name="real", packages=["alpha=1.0"])))
    env = envs.find(name="real")
    before = pkgset(envs, env)
    meta_before = sorted(os.listdir(env.prefix / "conda-meta"))
    task = await run(envs.change(env, ChangeRequest("install", ["alpha=2.0", "beta"]), dry_run=True))
    assert {c["name"] for c in task.result["plan"]["changes"]} == {"alpha", "beta"}
    assert pkgset(envs, envs.find(name="real")) == before
    assert sorted(os.listdir(env.prefix / "conda-meta")) == meta_before


async def test_export_round_trips_conda(envs, tmp_path):
    await run(envs.create(CreateOptions(name="src", packages=["tinypy", "beta"])))
    src = envs.find(name="src")
    expected = pkgset(envs, src)
    for fmt in ("yml", "history", "explicit"):
        filename, text = envs.export(src, fmt)
        path = tmp_path / f"{fmt}-{filename}"
        path.write_text(text)
        spec = parse_spec_file(path)
        task = await run(envs.create(CreateOptions(name=f"from-{fmt}", spec=spec)))
        copy = envs.find(path=task.result["environment"]["path"])
        assert pkgset(envs, copy) == expected, fmt
    filename, text = envs.export(src, "explicit")
    assert "@EXPLICIT" in text
    assert "#" in text.splitlines()[-1]  # every URL carries its sha256


async def test_clone_conda_with_pip_package(envs):
    """pip packages inside a conda environment go through uv (real, PyPI)."""
    await run(envs.create(CreateOptions(name="orig", packages=["tinypy"], pip_packages=["six==1.16.0"])))
    orig = envs.find(name="orig")
    sources = {(p.name, p.source) for p in envs.packages(orig)}
    assert ("six", "pypi") in sources
    assert ("tinypy", "conda") in sources
    assert python_says(orig.prefix, "import six; print(six.__version__)") == "1.16.0"
    await run(envs.clone(orig, to_name="copy"))
    assert pkgset(envs, envs.find(name="copy")) == pkgset(envs, orig)
    _, yml = envs.export(orig, "history")
    assert "six==1.16.0" in yml
    assert "tinypy" in yml


async def test_unsatisfiable_leaves_nothing(envs, tmp_path):
    task = envs.create(CreateOptions(name="bad", packages=["needsmissing"]))
    await task.wait()
    assert task.state == "failed"
    assert task.error["reason"] == "unsatisfiable"
    assert "doesnotexist" in task.error["message"]
    assert not (tmp_path / "envs" / "bad").exists()


async def test_cancel_create_removes_it_and_cancel_install_restores(gated_envs, gate, tmp_path):
    envs = gated_envs
    task = envs.create(CreateOptions(name="slow", packages=["slowpkg"]))
    await gate.held(1)
    assert task.phase in ("downloading", "linking", "installing")
    assert (tmp_path / "envs" / "slow").exists()
    task.cancel()
    await task.wait()
    assert task.state == CANCELLED
    assert not (tmp_path / "envs" / "slow").exists()

    await run(envs.create(CreateOptions(name="keep", packages=["alpha"])))
    env = envs.find(name="keep")
    before = pkgset(envs, env)
    task = envs.change(env, ChangeRequest("install", ["slowpkg"]))
    await gate.held(2)  # the cut-off download of the cancelled create is not reused
    assert envs.find(name="keep").state == "busy"
    task.cancel()
    await task.wait()
    assert task.state == CANCELLED
    after = envs.find(name="keep")
    assert after.state == "ready"
    assert pkgset(envs, after) == before
    assert not (env.prefix / "share" / "slowpkg").exists()


async def test_second_operation_is_refused_at_once(gated_envs, gate):
    envs = gated_envs
    await run(envs.create(CreateOptions(name="locked", packages=["alpha"])))
    env = envs.find(name="locked")
    first = envs.change(env, ChangeRequest("install", ["slowpkg"]))
    await gate.held()
    started = time.monotonic()
    with pytest.raises(Busy) as err:
        envs.change(env, ChangeRequest("install", ["beta"]))
    assert time.monotonic() - started < 1
    assert first.id in err.value.message
    assert err.value.details["task"] == first.id
    with pytest.raises(Busy):
        envs.delete(env)
    assert envs.find(name="locked").state == "busy"
    gate.open()
    await run(first)
    assert envs.find(name="locked").state == "ready"


def test_killed_worker_leaves_interrupted_then_retry(gated_envs, gate, tmp_path, home):
    """A CLI create killed with SIGKILL mid-install lists as interrupted; retry finishes it."""
    envs = gated_envs
    config_dir = tmp_path / "jupyter-config"
    config_dir.mkdir()
    config = {
        "EnvMod": {
            "env_dirs": [str(tmp_path / "envs")],
            "cache_dir": envs.envmod.cache_dir,
            "channels": [gate.url],
            "default_python": envs.envmod.default_python,
        }
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps(config))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_envmod.cli", "create", "-y", "-n", "crash", "slowpkg"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    gate.held_sync(stop=lambda: proc.poll() is not None)
    assert proc.poll() is None, "the CLI ended before its install could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    [listed] = [e for e in envs.all() if e.name == "crash"]
    assert listed.state == "interrupted"
    assert listed.to_json()["operation"]["kind"] == "create"

    gate.open()

    async def retry() -> Task:
        return await run(envs.retry(envs.find(name="crash")))

    asyncio.run(retry())
    again = envs.find(name="crash")
    assert again.state == "ready"
    assert "slowpkg" in {p.name for p in envs.packages(again)}


# -- venv ----------------------------------------------------------------------------


async def test_venv_create_change_export_clone(envs, tmp_path):
    task = await run(envs.create(CreateOptions(name="web", engine="venv", packages=["six==1.16.0"])))
    prefix = Path(task.result["environment"]["path"])
    env = envs.find(name="web")
    assert (env.kind, env.engine, env.state) == ("venv", "venv", "ready")
    assert python_says(prefix, "import six; print(six.__version__)") == "1.16.0"
    await run(envs.change(env, ChangeRequest("install", ["idna==3.6"], manager="pip")))
    await run(envs.change(envs.find(name="web"), ChangeRequest("update", ["idna"], manager="pip")))
    idna = {p.name: p for p in envs.packages(envs.find(name="web"))}["idna"]
    assert idna.version != "3.6"
    assert idna.requested
    await run(envs.change(envs.find(name="web"), ChangeRequest("remove", ["idna"], manager="pip")))
    expected = pkgset(envs, envs.find(name="web"))
    assert ("six", "1.16.0", "pypi") in expected
    for fmt in ("requirements", "yml", "history"):
        filename, text = envs.export(envs.find(name="web"), fmt)
        path = tmp_path / f"{fmt}-{filename}"
        path.write_text(text)
        task = await run(envs.create(CreateOptions(name=f"web-{fmt}", engine="venv", spec=parse_spec_file(path))))
        assert pkgset(envs, envs.find(path=task.result["environment"]["path"])) == expected, fmt
    with pytest.raises(InvalidInput):
        envs.export(envs.find(name="web"), "explicit")
    await run(envs.clone(envs.find(name="web"), to_path=str(tmp_path / "envs" / "web-clone")))
    assert pkgset(envs, envs.find(path=str(tmp_path / "envs" / "web-clone"))) == expected


# -- rejected input writes nothing ------------------------------------------------------

EXPLICIT = "@EXPLICIT\nfile:///channel/noarch/alpha-1.0-0.conda#" + "0" * 64 + "\n"


def test_bad_input_is_refused_before_anything_is_written(envs, tmp_path):
    root = tmp_path / "envs"
    cases = [
        (CreateOptions(name=".hidden"), "name"),
        (CreateOptions(name="-rf"), "name"),
        (CreateOptions(name="a" * 65), "name"),
        (CreateOptions(name="a/b"), "name"),
        (CreateOptions(path="relative/path"), "path"),
        (CreateOptions(path=str(tmp_path / "outside")), "path"),
        (CreateOptions(name="ok", packages=["--override-channels"]), "packages"),
        (CreateOptions(name="ok", pip_packages=["--index-url=http://evil"]), "pip_packages"),
        (CreateOptions(name="ok", channels=["-c"]), "channels"),
        (CreateOptions(name="ok", python="three"), "python"),
        (CreateOptions(name="ok", engine="pip"), "engine"),
        (CreateOptions(name="ok", engine="venv", spec=parse_spec_text(EXPLICIT, fmt="explicit")), "engine"),
    ]
    for opts, field in cases:
        with pytest.raises(InvalidInput) as err:
            envs.create(opts)
        assert err.value.details.get("field") == field, (opts, err.value.details)
    assert not root.exists() or list(root.iterdir()) == []
    assert not (tmp_path / "outside").exists()


async def test_existing_path_and_delete_refusals(envs, tmp_path):
    root = tmp_path / "envs"
    (root / "taken").mkdir(parents=True)
    (root / "taken" / "data.txt").write_text("precious")
    with pytest.raises(InvalidInput) as err:
        envs.create(CreateOptions(name="taken"))
    assert "already exists" in err.value.message
    assert (root / "taken" / "data.txt").read_text() == "precious"
    with pytest.raises(NotFound, match="not an environment"):
        envs.delete(envs.find(path=str(root / "taken")))
    # an environment outside allowed_roots can be listed but not deleted
    outside = tmp_path / "elsewhere" / "env"
    (outside / "conda-meta").mkdir(parents=True)
    with pytest.raises(InvalidInput) as err:
        envs.delete(envs.find(path=str(outside)))
    assert "outside" in err.value.message
    assert outside.exists()
    # a symlink inside an environment is removed, never followed
    await run(envs.create(CreateOptions(name="linked", packages=["alpha"])))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep")
    os.symlink(victim, root / "linked" / "link-out")
    await run(envs.delete(envs.find(name="linked")))
    assert (victim / "keep.txt").read_text() == "keep"
