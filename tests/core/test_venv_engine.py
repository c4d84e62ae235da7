"""VenvEngine against real uv and PyPI: create (over a prefix that already holds
``.envmod/``), dry runs, install/update/remove with orphaned dependencies, sync,
and a Python version this machine does not have."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.engines import get_engine
from jupyter_envmod.engines.venv_engine import VenvEngine
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.models import Change
from jupyter_envmod.tasks import Task

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture
def engine(tmp_path_factory: pytest.TempPathFactory) -> VenvEngine:
    """The engine, its uv cache shared by every test of the session."""
    engine = get_engine("venv", EnvMod(cache_dir=str(tmp_path_factory.getbasetemp() / "envmod-cache")))
    assert isinstance(engine, VenvEngine)
    return engine


def new_prefix(path: Path) -> Path:
    """A prefix as the operations layer hands it over: existing, holding .envmod/."""
    (path / ".envmod").mkdir(parents=True)
    (path / ".envmod" / "environment.json").write_text("{}")
    return path


def new_task(prefix: Path) -> Task:
    return Task("create", {"path": str(prefix)})


def log_text(task: Task) -> str:
    return "\n".join(entry["line"] for entry in task.log_since(0)[0])


def state(engine: VenvEngine, prefix: Path) -> dict[str, tuple[str, bool]]:
    return {p.name: (p.version, p.requested) for p in engine.packages(prefix)}


async def test_create_with_packages(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = new_prefix(tmp_path / "env")
    task = new_task(prefix)
    plan = await engine.create(prefix, python=PYTHON, specs=["isodate==0.6.1"], channels=["conda-forge"], task=task)
    assert plan.changes == [Change("isodate", "pypi", None, "0.6.1"), Change("six", "pypi", None, plan.changes[1].new)]
    assert (prefix / ".envmod" / "environment.json").read_text() == "{}"
    assert (prefix / "pyvenv.cfg").is_file()
    assert f"version_info = {PYTHON}." in (prefix / "pyvenv.cfg").read_text()
    packages = state(engine, prefix)
    assert packages["isodate"] == ("0.6.1", True)
    assert packages["six"][1] is False  # pulled in as a dependency (uv itself marks it REQUESTED)
    six_info = next(prefix.glob("lib/python3*/site-packages/six-*.dist-info"))
    assert not (six_info / "REQUESTED").exists()
    assert "REQUESTED" not in (six_info / "RECORD").read_text()
    assert sorted(packages) == ["isodate", "six"]  # no pip seeded
    python = prefix / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", "import isodate, six, sys; print(sys.prefix)"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(prefix)
    assert "Ignoring channels conda-forge" in log_text(task)

    with pytest.raises(InvalidInput, match="already holds an environment"):
        await engine.create(prefix, python=PYTHON, specs=[], channels=[], task=task)


async def test_dry_runs_write_nothing(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = tmp_path / "never"
    plan = await engine.create(
        prefix, python=PYTHON, specs=["isodate==0.6.1"], channels=[], task=new_task(prefix), dry_run=True
    )
    assert [(c.name, c.kind) for c in plan.changes] == [("isodate", "add"), ("six", "add")]
    assert plan.changes[0].new == "0.6.1"
    assert not prefix.exists()

    prefix = new_prefix(tmp_path / "env")
    await engine.create(prefix, python=PYTHON, specs=["isodate==0.6.1"], channels=[], task=new_task(prefix))
    before = sorted(p.relative_to(prefix) for p in prefix.rglob("*"))

    plan = await engine.install(prefix, ["six==1.15.0", "idna==3.4"], channels=[], task=new_task(prefix), dry_run=True)
    assert [(c.name, c.new) for c in plan.changes] == [("idna", "3.4"), ("six", "1.15.0")]
    assert plan.changes[1].kind == "change"
    plan = await engine.remove(prefix, ["isodate"], task=new_task(prefix), dry_run=True)
    assert plan.changes == [Change("isodate", "pypi", "0.6.1", None), Change("six", "pypi", plan.changes[1].old, None)]
    assert sorted(p.relative_to(prefix) for p in prefix.rglob("*")) == before


async def test_install_update_remove(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = new_prefix(tmp_path / "env")
    task = new_task(prefix)
    await engine.create(prefix, python=PYTHON, specs=["six==1.15.0"], channels=[], task=task)
    plan = await engine.install(prefix, ["isodate==0.6.1"], channels=[], task=task)
    assert plan.changes == [Change("isodate", "pypi", None, "0.6.1")]  # six 1.15.0 already satisfies it

    plan = await engine.install(prefix, ["six<1.17"], channels=[], task=task, update=True)
    assert plan.changes == [Change("six", "pypi", "1.15.0", "1.16.0")]
    assert state(engine, prefix) == {"isodate": ("0.6.1", True), "six": ("1.16.0", True)}

    plan = await engine.remove(prefix, ["isodate"], task=task)  # six was asked for: it stays
    assert plan.changes == [Change("isodate", "pypi", "0.6.1", None)]
    with pytest.raises(InvalidInput, match="isodate"):
        await engine.remove(prefix, ["isodate"], task=task)

    other = new_prefix(tmp_path / "other")
    await engine.create(other, python=PYTHON, specs=["isodate==0.6.1"], channels=[], task=task)
    plan = await engine.install(other, ["six<1.17"], channels=[], task=task, update=True)
    assert [(c.name, c.new) for c in plan.changes] == [("six", "1.16.0")]
    assert state(engine, other)["six"] == ("1.16.0", False)  # an update keeps a dependency a dependency
    plan = await engine.remove(other, ["isodate"], task=task)  # six only came for isodate
    assert [(c.name, c.kind) for c in plan.changes] == [("isodate", "remove"), ("six", "remove")]
    assert engine.packages(other) == []
    assert "Also removing six" in log_text(task)


async def test_sync_to_pins(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = new_prefix(tmp_path / "env")
    task = new_task(prefix)
    await engine.create(prefix, python=PYTHON, specs=["isodate==0.6.1"], channels=[], task=task)
    plan = await engine.sync(prefix, ["six==1.15.0", "idna==3.4"], task=task, requested=["Six"])
    assert [(c.name, c.kind) for c in plan.changes] == [("idna", "add"), ("isodate", "remove"), ("six", "change")]
    assert engine.pip.freeze(prefix) == ["idna==3.4", "six==1.15.0"]
    assert state(engine, prefix) == {"idna": ("3.4", False), "six": ("1.15.0", True)}


async def test_python_not_on_this_machine(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = new_prefix(tmp_path / "env")
    with pytest.raises(InvalidInput) as info:
        await engine.create(prefix, python="3.99", specs=["six"], channels=[], task=new_task(prefix))
    err = info.value
    assert "Python 3.99 was not found" in err.message
    assert PYTHON in err.message  # the versions that were found
    assert err.details["field"] == "python"
    assert any(f["version"].startswith(PYTHON) for f in err.details["found"])
    assert not (prefix / "pyvenv.cfg").exists()

    for bad in ("--seed", "3", "latest"):
        with pytest.raises(InvalidInput, match="not a Python version"):
            await engine.create(prefix, python=bad, specs=[], channels=[], task=new_task(prefix))


async def test_refuses_what_is_not_a_venv(tmp_path: Path, engine: VenvEngine) -> None:
    prefix = new_prefix(tmp_path / "empty")
    with pytest.raises(InvalidInput, match="not a working venv"):
        await engine.install(prefix, ["six"], channels=[], task=new_task(prefix))
    with pytest.raises(InvalidInput, match="must not start with '-'"):
        await engine.create(prefix, python=PYTHON, specs=["-e."], channels=[], task=new_task(prefix))
    assert not (prefix / "pyvenv.cfg").exists()
