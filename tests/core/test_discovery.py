"""Discovery: every source of environments, ids, states, lookups and path rules.
Conda prefixes and venvs are laid out on disk the way conda/rattler and venv write
them (conda-meta/*.json, pyvenv.cfg); the engines' own tests make real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_envmod import discovery
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import Busy, InvalidInput, NotFound
from jupyter_envmod.operations import Environments
from jupyter_envmod.state import EnvLock, EnvState, operation_record, read_state, write_state


def make_conda_prefix(prefix: Path, python: str = "3.11.4", packages: int = 3) -> Path:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    records = [("python", python, "h1_0")] + [(f"pkg{i}", "1.0", "0") for i in range(packages)]
    for name, version, build in records:
        (meta / f"{name}-{version}-{build}.json").write_text(
            json.dumps({"name": name, "version": version, "build": build, "url": f"file:///ch/noarch/{name}.conda"})
        )
    (prefix / "bin").mkdir()
    os.symlink(sys.executable, prefix / "bin" / "python")
    return prefix


def make_venv(prefix: Path, version: str = "3.11.4") -> Path:
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(
        f"home = /usr/bin\ninclude-system-site-packages = false\nversion_info = {version}\n"
    )
    os.symlink(sys.executable, prefix / "bin" / "python")
    return prefix


def test_lists_every_source_once(home, tmp_path, monkeypatch):
    roots = tmp_path / "envs"
    make_conda_prefix(roots / "analysis")
    make_venv(roots / "web", "3.11.9")
    (roots / "not-an-env").mkdir()
    (roots / ".hidden").mkdir()
    from_var = tmp_path / "var-envs"
    make_conda_prefix(from_var / "fromvar")
    monkeypatch.setenv("CONDA_ENVS_PATH", str(from_var))
    condarc_root = tmp_path / "rc-envs"
    make_conda_prefix(condarc_root / "fromrc")
    (home / ".condarc").write_text(f"envs_dirs:\n  - {condarc_root}\nchannels: [conda-forge]\n")
    elsewhere = make_conda_prefix(tmp_path / "somewhere" / "registered")
    (home / ".conda").mkdir()
    # the same environment registered twice (and once by a symlinked path) lists once
    os.symlink(roots / "analysis", tmp_path / "alias")
    (home / ".conda" / "environments.txt").write_text(f"{elsewhere}\n{tmp_path / 'alias'}\n{tmp_path / 'gone'}\n")

    envs = discovery.list_environments(EnvMod(env_dirs=[str(roots)]))
    by_name = {e.name: e for e in envs}
    assert sorted(by_name) == ["analysis", "fromrc", "fromvar", "registered", "web"]
    assert by_name["analysis"].kind == "conda"
    assert by_name["analysis"].python_version == "3.11.4"
    assert by_name["web"].kind == "venv"
    assert by_name["web"].python_version == "3.11.9"
    assert by_name["web"].engine == "venv"
    assert by_name["analysis"].engine == "rattler"
    assert by_name["registered"].found_in == "environments.txt"
    assert all(e.state == "ready" and not e.managed for e in envs)
    doc = by_name["analysis"].to_json()
    for key in ("id", "name", "path", "engine", "type", "python_version", "managed", "created", "modified", "state"):
        assert key in doc
    assert doc["kernel"] is None
    assert doc["modules"] == []


def test_ids_are_short_stable_url_safe_and_follow_the_real_path(tmp_path):
    prefix = make_conda_prefix(tmp_path / "envs" / "a")
    os.symlink(prefix, tmp_path / "link")
    env = discovery.inspect(str(prefix), "x", EnvMod())
    via_link = discovery.inspect(str(tmp_path / "link"), "x", EnvMod())
    assert env is not None
    assert via_link is not None
    assert env.id == via_link.id == discovery.env_id(os.path.realpath(prefix))
    assert len(env.id) == 12
    assert all(c.isalnum() or c in "-_" for c in env.id)
    other = discovery.inspect(str(make_conda_prefix(tmp_path / "envs2" / "a")), "x", EnvMod())
    assert other is not None
    assert other.id != env.id


def test_states(tmp_path):
    root = tmp_path / "envs"
    busy = make_conda_prefix(root / "busy")
    state = EnvState(engine="rattler")
    state.operation = {**operation_record("install", "t1"), "pid": 1}  # another process that runs
    write_state(busy, state)
    orphaned = make_conda_prefix(root / "orphaned")  # this process, but no task of it runs: cut off
    write_state(orphaned, EnvState(engine="rattler", operation=operation_record("install", "no-such-task")))
    crashed = make_conda_prefix(root / "crashed")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = EnvState(engine="rattler")
    state.operation = {**operation_record("install", "t2"), "pid": dead.pid}
    write_state(crashed, state)
    half = root / "half"  # a create killed before the engine wrote anything
    write_state(half, EnvState(engine="rattler", operation={**operation_record("create", "t3"), "pid": dead.pid}))
    broken = make_venv(root / "broken")
    (broken / "bin" / "python").unlink()
    os.symlink(tmp_path / "removed-python", broken / "bin" / "python")
    managed = make_venv(root / "managed")
    write_state(managed, EnvState(engine="venv", requested_pip=["six"]))

    states = {e.name: (e.state, e.managed) for e in discovery.list_environments(EnvMod(env_dirs=[str(root)]))}
    assert states == {
        "busy": ("busy", True),
        "orphaned": ("interrupted", True),
        "crashed": ("interrupted", True),
        "half": ("interrupted", True),
        "broken": ("broken", False),
        "managed": ("ready", True),
    }


def test_find_by_name_path_and_id(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    make_conda_prefix(second / "dup")
    make_venv(first / "dup")
    envmod = EnvMod(env_dirs=[str(first), str(second)])
    assert discovery.find(envmod, name="dup").kind == "venv"  # first root wins
    by_path = discovery.find(envmod, path=str(second / "dup"))
    assert by_path.kind == "conda"
    assert Environments(envmod).find(env_id=by_path.id).path == by_path.path
    with pytest.raises(NotFound) as err:
        discovery.find(envmod, name="nope")
    assert "nope" in err.value.message
    assert err.value.details["field"] == "name"
    with pytest.raises(NotFound):
        discovery.find(envmod, path=str(tmp_path))
    with pytest.raises(InvalidInput):
        discovery.find(envmod, name="../etc")
    with pytest.raises(InvalidInput) as err:
        discovery.find(envmod, path="relative/dir")
    assert "relative" in err.value.message


def test_allowed_roots_resolve_symlinks(tmp_path):
    root = tmp_path / "envs"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, root / "sneaky")
    envmod = EnvMod(env_dirs=[str(root)])
    assert discovery.check_allowed(envmod, root / "fine") == Path(os.path.realpath(root / "fine"))
    for bad in (root / "sneaky" / "x", root, tmp_path / "elsewhere", root / ".." / "outside"):
        with pytest.raises(InvalidInput) as err:
            discovery.check_allowed(envmod, bad)
        assert "outside" in err.value.message
        assert err.value.details["field"] == "path"


def test_lock_refuses_a_second_operation_naming_the_first(tmp_path):
    prefix = make_venv(tmp_path / "env")
    write_state(prefix, EnvState(engine="venv", operation=operation_record("install", "abc123")))
    first = EnvLock(prefix)
    first.acquire(what="install packages in")
    try:
        with pytest.raises(Busy) as err:
            EnvLock(prefix).acquire(what="delete")
        assert "abc123" in err.value.message
        assert err.value.details["task"] == "abc123"
    finally:
        first.release()
    second = EnvLock(prefix)
    second.acquire(what="delete")  # free again
    second.release()


def test_lock_holds_across_processes(tmp_path):
    prefix = make_venv(tmp_path / "env")
    code = (
        "import sys, time; from pathlib import Path; from jupyter_envmod.state import EnvLock;"
        "l = EnvLock(Path(sys.argv[1])); l.acquire(what='x'); print('locked', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(prefix)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(Busy):
            EnvLock(prefix).acquire(what="install packages in")
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    lock = EnvLock(prefix)
    lock.acquire(what="install packages in")
    lock.release()


def test_state_file_round_trip_and_garbage(tmp_path):
    prefix = tmp_path / "env"
    write_state(prefix, EnvState(engine="rattler", requested_conda=["numpy>=1.26"], channels=["conda-forge"]))
    state = read_state(prefix)
    assert state is not None
    assert state.requested_conda == ["numpy>=1.26"]
    assert state.operation is None
    (prefix / ".envmod" / "state.json").write_text("{not json")
    assert read_state(prefix) is None


def test_register_in_environments_txt(home, tmp_path):
    prefix = tmp_path / "e"
    discovery.register_conda_prefix(prefix, add=True)
    discovery.register_conda_prefix(prefix, add=True)
    assert discovery.registered_prefixes() == [str(prefix)]
    discovery.register_conda_prefix(prefix, add=False)
    assert discovery.registered_prefixes() == []
