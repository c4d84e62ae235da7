"""Adopting an environment made elsewhere, and finding operations cut off by a
server that stopped: both core operations behind the REST API."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from jupyter_envmod import discovery
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import InvalidInput, NotFound
from jupyter_envmod.operations import Environments
from jupyter_envmod.outputs import OutputOptions
from jupyter_envmod.state import EnvLock, EnvState, read_state, write_state
from jupyter_envmod.tasks import SUCCEEDED
from tests.core.test_discovery import make_conda_prefix, make_venv


@pytest.fixture
def envs(home, tmp_path) -> Environments:
    return Environments(
        EnvMod(
            env_dirs=[str(tmp_path / "envs")],
            kernel_dir=str(tmp_path / "kernels"),
            module_dir=str(tmp_path / "modules"),
            activate_dir=str(tmp_path / "activate"),
        )
    )


async def test_adopted_environments_are_listed_and_found_by_id(envs, tmp_path):
    venv = make_venv(tmp_path / "elsewhere" / "tools")
    conda = make_conda_prefix(tmp_path / "elsewhere" / "cenv")
    for prefix in (venv, conda):
        task = envs.adopt(str(prefix), OutputOptions(module=True, formats=["sh"]))
        await task.wait()
        assert task.state == SUCCEEDED, task.error
        assert not (prefix / ".envmod").exists()
    # conda's own registry has the conda one (as conda does); both are listed
    assert discovery.registered_prefixes() == [str(conda)]
    listed = {env.path: env.found_in for env in envs.all()}
    assert listed == {str(conda): "environments.txt", str(venv): "adopted"}
    adopted = next(env for env in envs.all() if env.path == str(venv))
    assert envs.find(env_id=adopted.id).path == str(venv)
    details = envs.details(adopted)
    assert details["usage"] == [f". {tmp_path / 'activate' / 'tools-py3.11.4.sh'}"]
    with pytest.raises(NotFound):
        envs.find(env_id="nothere")


def test_adopt_asks_for_something_and_an_environment(envs, tmp_path):
    with pytest.raises(InvalidInput) as err:
        envs.adopt(str(tmp_path), OutputOptions())
    assert err.value.details["field"] == "kernel"
    with pytest.raises(NotFound):
        envs.adopt(str(tmp_path), OutputOptions(module=True))
    assert not (tmp_path / "activate").exists()


def test_reconcile_marks_only_operations_nobody_runs(envs, tmp_path):
    root = tmp_path / "envs"
    operation = {"kind": "install", "task": "t", "pid": 1, "host": socket.gethostname(), "started": 1.0}
    cut = make_conda_prefix(root / "cut")
    write_state(cut, EnvState(engine="rattler", operation=dict(operation)))
    held = make_conda_prefix(root / "held")
    write_state(held, EnvState(engine="rattler", operation=dict(operation)))
    lock = EnvLock(held)
    lock.acquire(what="test")  # someone works on it: pid alive and lock held
    try:
        states = {env.name: env.state for env in envs.all()}
        assert states == {"cut": "busy", "held": "busy"}  # pid 1 runs: listing alone cannot tell
        marked = envs.reconcile()
        assert [(env.name, env.state) for env in marked] == [("cut", "interrupted")]
        assert {env.name: env.state for env in envs.all()} == {"cut": "interrupted", "held": "busy"}
        state = read_state(cut)
        assert state is not None
        assert state.operation is not None
        assert state.operation["interrupted"] > 0
        assert envs.reconcile() == []  # once marked, left alone
    finally:
        lock.release()


def test_installing_ipykernel_outside_allowed_roots_is_refused(envs, tmp_path):
    venv = make_venv(tmp_path / "elsewhere" / "nokernel")
    with pytest.raises(InvalidInput) as err:
        envs.kernel(envs.find(path=str(venv)), OutputOptions())
    assert "outside" in err.value.message
    assert not Path(tmp_path / "kernels").exists()
