"""The ``conda`` engine (:mod:`jupyter_envmod.engines.conda_cli`) against a FAKE
conda / micromamba executable.

No conda, mamba or micromamba executable can be installed on the machine these tests
run on (no conda channel is reachable; PyPI's ``conda`` is a 2017 sdist that does not
build). Every test here therefore runs :mod:`tests.fakes.fake_conda`, a script that
reproduces the DOCUMENTED ``--json`` output of conda and of micromamba as read in their
sources (result documents, LINK/UNLINK entries, dry runs, progress lines, JSON errors,
exit codes, which prefixes ``create``/``install`` accept), copied into ``tmp_path``
under the name ``conda`` or ``micromamba`` so both dialects are exercised. It records
each argv in a log file and writes real ``conda-meta`` records, which ``packages()``
reads. What these tests prove is the engine's half of the contract: the command lines
it builds and how it reads the documented answers; they cannot prove that a given
conda release still answers that way.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.engines.conda_cli import (
    CondaCliEngine,
    dialect_for,
    parse_json_output,
    plan_from_json,
)
from jupyter_envmod.errors import InvalidInput, OperationFailed, Unsatisfiable
from jupyter_envmod.specs import ExplicitEntry
from jupyter_envmod.tasks import Task
from tests.fakes.fake_conda import install_fake

CF = "https://conda.anaconda.org/conda-forge"
STRICT = ["--override-channels", "-c", "conda-forge", "--strict-channel-priority"]


class Fake:
    """A fake executable in tmp_path, its argv log and an engine that uses it."""

    def __init__(self, tmp_path: Path, dialect: str, monkeypatch: pytest.MonkeyPatch):
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        self.dialect = dialect
        self.exe = install_fake(bin_dir, dialect)
        self.log = tmp_path / "calls.jsonl"
        monkeypatch.setenv("FAKE_CONDA_LOG", str(self.log))
        for var in ("FAKE_CONDA_SCENARIO", "FAKE_CONDA_SLEEP", "CONDA_PKGS_DIRS"):
            monkeypatch.delenv(var, raising=False)
        self.monkeypatch = monkeypatch
        self.tmp_path = tmp_path

    @property
    def mamba(self) -> bool:
        return self.dialect == "micromamba"

    @property
    def yes(self) -> str:
        return "-y" if self.mamba else "--yes"

    def engine(self, **traits: Any) -> CondaCliEngine:
        return CondaCliEngine(EnvMod(conda_executable=str(self.exe), **traits))

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def argvs(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls()]

    def new_prefix(self, name: str = "env") -> Path:
        """A prefix as the operations layer hands it to create: existing, holding .envmod/."""
        prefix = self.tmp_path / name
        (prefix / ".envmod").mkdir(parents=True)
        (prefix / ".envmod" / "state.json").write_text("{}")
        return prefix


@pytest.fixture(params=["conda", "micromamba"])
def fake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    return Fake(tmp_path, request.param, monkeypatch)


@pytest.fixture
def conda(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    return Fake(tmp_path, "conda", monkeypatch)


def task(kind: str = "create") -> Task:
    return Task(kind, {"path": "/x"})


def summary(plan: Any) -> list[tuple[str, str | None, str | None]]:
    return [(c.name, c.old, c.new) for c in plan.changes]


async def make_env(fake: Fake, engine: CondaCliEngine, specs: list[str] | None = None) -> Path:
    prefix = fake.new_prefix()
    await engine.create(prefix, python="3.11", specs=specs or ["numpy"], channels=[], task=task())
    return prefix


# -- create -----------------------------------------------------------------------------------


async def test_create_argv_plan_and_records(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    """Fake executable (documented conda/micromamba JSON): create into the prefix that
    holds .envmod/ — conda's ``create`` accepts such a directory; micromamba's refuses
    it, so the engine writes an empty conda-meta/history and runs ``install``."""
    monkeypatch.setenv("CONDA_CHANNEL_PRIORITY", "flexible")  # the site's strict wins
    engine = fake.engine()
    prefix = fake.new_prefix()
    plan = await engine.create(prefix, python="3.11", specs=["numpy"], channels=[], task=task())

    command = "install" if fake.mamba else "create"
    assert fake.argvs() == [
        [str(fake.exe), command, "--json", fake.yes, "-p", str(prefix), *STRICT, "python=3.11", "numpy"]
    ]
    env = fake.calls()[0]["env"]
    assert env["CONDA_CHANNEL_PRIORITY"] is None
    assert env["MAMBA_CHANNEL_PRIORITY"] is None
    assert env["CONDA_PKGS_DIRS"] is None  # no cache_dir: the tool's own default
    assert summary(plan) == [
        ("libzlib", None, "1.3.1 hb9d3cd8_2"),
        ("numpy", None, "2.0.2 py311h71ddf71_1"),
        ("pip", None, "24.2 pyh8b19718_1"),
        ("python", None, "3.11.9 hb806964_0_cpython"),
    ]
    assert all(c.source == "conda" and c.kind == "add" for c in plan.changes)
    packages = {p.name: p for p in engine.packages(prefix)}
    assert sorted(packages) == ["libzlib", "numpy", "pip", "python"]
    assert packages["numpy"].requested
    assert packages["python"].requested
    assert not packages["pip"].requested
    assert packages["numpy"].url == f"{CF}/linux-64/numpy-2.0.2-py311h71ddf71_1.conda"
    assert len(packages["numpy"].sha256) == 64
    assert (prefix / ".envmod" / "state.json").exists()
    assert "# cmd:" in (prefix / "conda-meta" / "history").read_text()


async def test_create_dry_run_changes_nothing(fake: Fake):
    """Fake executable (documented ``"dry_run": true`` result): both dialects run
    ``create --dry-run``; no conda-meta is written."""
    engine = fake.engine()
    prefix = fake.tmp_path / "not-yet"
    plan = await engine.create(
        prefix, python="3.12", specs=["requests"], channels=["bioconda", "conda-forge"], task=task(), dry_run=True
    )
    channels = ["--override-channels", "-c", "bioconda", "-c", "conda-forge", "--strict-channel-priority"]
    assert fake.argvs() == [
        [
            str(fake.exe),
            "create",
            "--json",
            fake.yes,
            "--dry-run",
            "-p",
            str(prefix),
            *channels,
            "python=3.12",
            "requests",
        ]
    ]
    assert [c.name for c in plan.changes] == ["idna", "libzlib", "pip", "python", "requests"]
    assert ("python", None, "3.12.4 h194c7f8_0_cpython") in summary(plan)
    assert not prefix.exists()


async def test_create_refuses_a_prefix_that_holds_an_environment(fake: Fake):
    """Fake executable: conda and micromamba ``create --yes`` delete an existing
    environment's whole directory (the fake does too); the engine refuses before."""
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    before = engine.packages(prefix)
    with pytest.raises(InvalidInput, match="already holds a conda environment"):
        await engine.create(prefix, python="3.12", specs=[], channels=[], task=task())
    assert len(fake.calls()) == 1
    assert engine.packages(prefix) == before
    assert (prefix / ".envmod" / "state.json").exists()


def test_fake_micromamba_refuses_a_non_conda_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Fake micromamba, documented behaviour (api/create.cpp): ``create`` into a
    non-empty directory without conda-meta/ aborts — why the engine seeds and installs."""
    fake = Fake(tmp_path, "micromamba", monkeypatch)
    prefix = fake.new_prefix()
    argv = [str(fake.exe), "create", "--json", "-y", "-p", str(prefix), "python=3.11"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "critical libmamba Non-conda folder exists at prefix - aborting." in done.stderr


# -- install / update / remove --------------------------------------------------------------


async def test_install_update_remove_argv_and_plans(fake: Fake):
    """Fake executable (documented LINK/UNLINK entries: conda's dist fields,
    micromamba's package records): a package in UNLINK and LINK is a change."""
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    mirror = "https://mirror.example/conda-forge"

    plan = await engine.install(prefix, ["numpy=1.26"], channels=[mirror], task=task("install"))
    assert summary(plan) == [("numpy", "2.0.2 py311h71ddf71_1", "1.26.4 py311h64a7726_0")]
    assert plan.changes[0].kind == "change"

    plan = await engine.install(prefix, ["numpy"], channels=[], task=task("update"), update=True)
    assert summary(plan) == [("numpy", "1.26.4 py311h64a7726_0", "2.0.2 py311h71ddf71_1")]

    plan = await engine.remove(prefix, ["numpy"], task=task("remove"))
    assert summary(plan) == [("numpy", "2.0.2 py311h71ddf71_1", None)]
    assert "numpy" not in {p.name for p in engine.packages(prefix)}

    p = str(prefix)
    mirror_args = ["--override-channels", "-c", mirror, "--strict-channel-priority"]
    remove_channels = [] if fake.mamba else STRICT  # micromamba's remove takes no channel options
    assert fake.argvs()[1:] == [
        [str(fake.exe), "install", "--json", fake.yes, "-p", p, *mirror_args, "numpy=1.26"],
        [str(fake.exe), "update", "--json", fake.yes, "-p", p, *STRICT, "numpy"],
        [str(fake.exe), "remove", "--json", fake.yes, "-p", p, *remove_channels, "numpy"],
    ]
    # the installed record came from the mirror
    assert fake.calls()[1]["argv"][-1] == "numpy=1.26"


async def test_update_all_argv_and_plan(fake: Fake):
    """Fake executable (``update --all``; micromamba ``update -a/--all``): what was
    asked for (conda-meta/history) limits the update — numpy=1.26 and python=3.11 stay
    although newer versions exist; a dry run runs the same solve."""
    engine = fake.engine()
    prefix = await make_env(fake, engine, ["numpy=1.26"])
    dry = await engine.update_all(prefix, channels=[], task=task("update-all"), dry_run=True)
    plan = await engine.update_all(prefix, channels=[], task=task("update-all"))
    assert summary(dry) == summary(plan) == []
    assert {(p.name, p.version) for p in engine.packages(prefix)} >= {("numpy", "1.26.4"), ("python", "3.11.9")}
    p = str(prefix)
    assert fake.argvs()[-2:] == [
        [str(fake.exe), "update", "--json", fake.yes, "--dry-run", "-p", p, *STRICT, "--all"],
        [str(fake.exe), "update", "--json", fake.yes, "-p", p, *STRICT, "--all"],
    ]


async def test_dry_runs_of_install_and_remove(fake: Fake):
    """Fake executable (documented dry-run results): the plan is read, conda-meta is untouched."""
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    before = sorted(os.listdir(prefix / "conda-meta"))
    history = (prefix / "conda-meta" / "history").read_text()

    plan = await engine.install(prefix, ["requests"], channels=[], task=task("install"), dry_run=True)
    assert summary(plan) == [("idna", None, "3.8 pyhd8ed1ab_0"), ("requests", None, "2.32.3 pyhd8ed1ab_0")]
    plan = await engine.remove(prefix, ["python"], task=task("remove"), dry_run=True)
    assert [c.name for c in plan.changes] == ["numpy", "pip", "python"]
    assert all(c.kind == "remove" for c in plan.changes)

    assert sorted(os.listdir(prefix / "conda-meta")) == before
    assert (prefix / "conda-meta" / "history").read_text() == history
    assert all("--dry-run" in argv for argv in fake.argvs()[1:])


async def test_nothing_to_do_is_an_empty_plan(fake: Fake):
    """Fake executable: conda's ``{"message": "All requested packages already
    installed.", "success": true}`` and micromamba's result without actions."""
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    plan = await engine.install(prefix, ["numpy"], channels=[], task=task("install"))
    assert plan.changes == []
    assert plan.summary() == "nothing to change"


async def test_flexible_priority_and_package_cache(conda: Fake):
    """Fake conda: flexible priority goes by environment variable (no flag exists),
    the package cache by CONDA_PKGS_DIRS = <cache_dir>/conda."""
    cache = conda.tmp_path / "cache"
    engine = conda.engine(channel_priority="flexible", cache_dir=str(cache), channels=["defaults-mirror"])
    await engine.create(conda.tmp_path / "dry", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
    (call,) = conda.calls()
    assert call["argv"][-4:] == ["--override-channels", "-c", "defaults-mirror", "python=3.11"]
    assert "--strict-channel-priority" not in call["argv"]
    assert call["env"] == {
        "CONDA_PKGS_DIRS": str(cache / "conda"),
        "CONDA_CHANNEL_PRIORITY": "flexible",
        "MAMBA_CHANNEL_PRIORITY": "flexible",
    }
    assert (cache / "conda").is_dir()


# -- refusing bad input before anything runs --------------------------------------------------


@pytest.mark.parametrize("bad", ["--override-channels", "-c", "-x=1", " --prefix", "", "numpy\n--json"])
async def test_specs_starting_with_a_dash_are_refused_before_running(fake: Fake, bad: str):
    """Nothing is run (the fake's log stays empty)."""
    engine = fake.engine()
    prefix = fake.new_prefix()
    (prefix / "conda-meta").mkdir()
    with pytest.raises(InvalidInput) as err:
        await engine.create(prefix, python="3.11", specs=["numpy", bad], channels=[], task=task())
    assert err.value.details["field"] == "packages"
    with pytest.raises(InvalidInput):
        await engine.install(prefix, [bad], channels=[], task=task("install"))
    with pytest.raises(InvalidInput):
        await engine.remove(prefix, [bad], task=task("remove"))
    with pytest.raises(InvalidInput) as err:
        await engine.install(prefix, ["numpy"], channels=[bad or "-"], task=task("install"))
    assert err.value.details["field"] == "channels"
    assert fake.calls() == []


async def test_update_and_remove_take_installed_names(fake: Fake):
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    with pytest.raises(InvalidInput, match="package names"):
        await engine.install(prefix, ["numpy>=2"], channels=[], task=task("update"), update=True)
    with pytest.raises(InvalidInput, match="requests: not installed"):
        await engine.install(prefix, ["requests"], channels=[], task=task("update"), update=True)
    with pytest.raises(InvalidInput, match="scipy: not installed"):
        await engine.remove(prefix, ["scipy"], task=task("remove"))
    with pytest.raises(InvalidInput, match="not a conda environment"):
        await engine.install(fake.new_prefix("plain"), ["numpy"], channels=[], task=task("install"))
    with pytest.raises(InvalidInput, match="Python version"):
        await engine.create(fake.new_prefix("py"), python="3.x", specs=[], channels=[], task=task())
    assert len(fake.calls()) == 1  # only the create


async def test_missing_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    for configured, where in (("no-such-conda", "on PATH"), (str(tmp_path / "bin" / "conda"), "no executable file")):
        engine = CondaCliEngine(EnvMod(conda_executable=configured))
        with pytest.raises(OperationFailed) as err:
            await engine.create(tmp_path / "e", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
        assert repr(configured) in err.value.message
        assert where in err.value.message
        assert "EnvMod.conda_executable" in err.value.message
        assert err.value.details["executable"] == configured


# -- errors -------------------------------------------------------------------------------------


async def test_missing_package_is_unsatisfiable(fake: Fake):
    """Fake executable, documented errors: conda prints
    ``{"exception_name": "PackagesNotFoundError", "message": …}`` with exit code 1;
    micromamba ``{"success": false, "solver_problems": […]}`` and a critical log line."""
    engine = fake.engine()
    prefix = fake.tmp_path / "dry"
    with pytest.raises(Unsatisfiable) as err:
        await engine.create(prefix, python="3.11", specs=["nosuchpkg"], channels=[], task=task(), dry_run=True)
    details = err.value.details
    assert details["argv"][1] == "create"
    assert details["returncode"] == 1
    assert isinstance(details["output_tail"], list)
    assert details["output_tail"]
    if fake.mamba:
        assert details["exception_name"] is None
        assert details["solver_problems"] == ["nothing provides requested nosuchpkg"]
        assert err.value.message.startswith("Could not solve for environment specs")
        assert "nosuchpkg" in err.value.message
    else:
        assert details["exception_name"] == "PackagesNotFoundError"
        assert err.value.message.startswith("The following packages are not available from current channels")
        assert "  - nosuchpkg" in err.value.message


async def test_conflict_is_unsatisfiable(conda: Fake):
    """Fake conda: the libmamba solver's LibMambaUnsatisfiableError (JSON, exit code 1)."""
    engine = conda.engine()
    with pytest.raises(Unsatisfiable) as err:
        await engine.create(
            conda.tmp_path / "d", python="3.10", specs=["python=3.12"], channels=[], task=task(), dry_run=True
        )
    assert err.value.details["exception_name"] == "LibMambaUnsatisfiableError"
    assert "Could not solve for environment specs" in err.value.message


async def test_other_errors_are_operation_failed(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    """Fake executable: conda's JSON CondaHTTPError; micromamba's ``critical libmamba``
    line on stderr with nothing on stdout. The message is taken from them."""
    engine = fake.engine()
    monkeypatch.setenv("FAKE_CONDA_SCENARIO", "http-error")
    with pytest.raises(OperationFailed) as err:
        await engine.create(fake.tmp_path / "d", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
    assert err.value.details["returncode"] == 1
    if fake.mamba:
        assert err.value.details["exception_name"] is None
        assert err.value.message == "micromamba create failed: Multiple errors occurred:"
        assert any("Couldn't resolve host name" in line for line in err.value.details["output_tail"])
    else:
        assert err.value.details["exception_name"] == "CondaHTTPError"
        assert err.value.message.startswith("conda create failed: HTTP 000 CONNECTION FAILED")


async def test_environment_errors_from_the_tool(conda: Fake):
    """Fake conda, documented DirectoryNotACondaEnvironmentError (JSON, exit code 1): conda
    changes only directories with conda-meta/history. Real runs write an empty one when
    it is missing; a dry run writes nothing, so here conda's refusal comes through."""
    engine = conda.engine()
    prefix = conda.new_prefix()
    (prefix / "conda-meta").mkdir()
    # a dry run does not seed conda-meta/history, so conda refuses the directory
    with pytest.raises(OperationFailed) as err:
        await engine.install(prefix, ["numpy"], channels=[], task=task("install"), dry_run=True)
    assert err.value.details["exception_name"] == "DirectoryNotACondaEnvironmentError"
    assert "is not a conda environment" in err.value.message


async def test_non_json_output(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    """Fake executable printing text instead of JSON (exit code 0): a clear OperationFailed."""
    monkeypatch.setenv("FAKE_CONDA_SCENARIO", "garbage")
    engine = fake.engine()
    with pytest.raises(OperationFailed) as err:
        await engine.create(fake.tmp_path / "d", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
    assert "printed no JSON result" in err.value.message
    assert "EnvMod.conda_executable" in err.value.message
    assert "<html>not JSON at all</html>" in err.value.details["output_tail"]
    assert err.value.details["returncode"] == 0
    assert err.value.details["exception_name"] is None


async def test_silent_failure(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    """Fake executable exiting 3 without any output."""
    monkeypatch.setenv("FAKE_CONDA_SCENARIO", "silent-fail")
    engine = fake.engine()
    with pytest.raises(OperationFailed) as err:
        await engine.create(fake.tmp_path / "d", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
    assert err.value.message == f"{fake.dialect} create failed with exit code 3 and printed nothing"
    assert err.value.details == {
        "argv": fake.argvs()[0],
        "returncode": 3,
        "exception_name": None,
        "output_tail": [],
    }


async def test_failed_micromamba_create_removes_its_seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake = Fake(tmp_path, "micromamba", monkeypatch)
    engine = fake.engine()
    prefix = fake.new_prefix()
    with pytest.raises(Unsatisfiable):
        await engine.create(prefix, python="3.11", specs=["nosuchpkg"], channels=[], task=task())
    assert not (prefix / "conda-meta").exists()
    assert (prefix / ".envmod").exists()


# -- cancel -------------------------------------------------------------------------------------


async def test_cancel_kills_the_fake_promptly(fake: Fake, monkeypatch: pytest.MonkeyPatch):
    """Fake executable told to sleep 60 s: cancelling the operation kills it."""
    pidfile = fake.tmp_path / "pid"
    monkeypatch.setenv("FAKE_CONDA_SLEEP", "60")
    monkeypatch.setenv("FAKE_CONDA_PIDFILE", str(pidfile))
    engine = fake.engine()
    job = asyncio.ensure_future(
        engine.create(fake.tmp_path / "d", python="3.11", specs=[], channels=[], task=task(), dry_run=True)
    )
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline, "the fake never started"
        await asyncio.sleep(0.02)
    pid = int(pidfile.read_text())
    started = time.monotonic()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# -- explicit -------------------------------------------------------------------------------------


def entry(name: str, version: str, build: str, subdir: str = "linux-64", **hashes: str) -> ExplicitEntry:
    return ExplicitEntry(f"{CF}/{subdir}/{name}-{version}-{build}.conda", hashes.get("sha256"), hashes.get("md5"))


async def test_explicit_into_a_new_prefix(fake: Fake):
    """Fake executable: conda ``create --file`` (no JSON result for @EXPLICIT files,
    documented), micromamba ``install --file`` after seeding; ``url#sha256`` or
    ``url#md5`` lines; the plan is the conda-meta difference."""
    engine = fake.engine()
    prefix = fake.new_prefix()
    sha = "a" * 64
    md5 = "b" * 32
    entries = [
        entry("libzlib", "1.3.1", "hb9d3cd8_2", sha256=sha),
        entry("python", "3.11.9", "hb806964_0_cpython", md5=md5),
        entry("pip", "24.2", "pyh8b19718_1", "noarch"),
    ]
    plan = await engine.install_explicit(prefix, entries, task=task())
    assert summary(plan) == [
        ("libzlib", None, "1.3.1 hb9d3cd8_2"),
        ("pip", None, "24.2 pyh8b19718_1"),
        ("python", None, "3.11.9 hb806964_0_cpython"),
    ]
    (call,) = fake.calls()
    argv = call["argv"]
    command = "install" if fake.mamba else "create"
    assert argv[:6] == [str(fake.exe), command, "--json", fake.yes, "-p", str(prefix)]
    assert argv[6] == "--file"
    assert len(argv) == 8
    assert not os.path.exists(argv[7])
    lines = call["files"][argv[7]].splitlines()
    assert lines[1:] == ["@EXPLICIT", f"{entries[0].url}#{sha}", f"{entries[1].url}#{md5}", entries[2].url]
    packages = {p.name: p for p in engine.packages(prefix)}
    assert packages["libzlib"].sha256 == sha
    assert packages["python"].url == entries[1].url
    assert {e.url for e in engine.explicit(prefix)} == {e.url for e in entries}


async def test_explicit_rollback_makes_the_prefix_exact(fake: Fake):
    """Fake executable: restoring a snapshot relinks what changed (``install --file``)
    and removes what the list does not name (``remove --force``)."""
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    snapshot = engine.explicit(prefix)
    await engine.install(prefix, ["numpy=1.26", "requests"], channels=[], task=task("install"))

    plan = await engine.install_explicit(prefix, snapshot, task=task("rollback"))
    assert summary(plan) == [
        ("idna", "3.8 pyhd8ed1ab_0", None),
        ("numpy", "1.26.4 py311h64a7726_0", "2.0.2 py311h71ddf71_1"),
        ("requests", "2.32.3 pyhd8ed1ab_0", None),
    ]
    assert engine.explicit(prefix) == snapshot
    link, remove = fake.argvs()[2:]
    assert link[:7] == [str(fake.exe), "install", "--json", fake.yes, "-p", str(prefix), "--file"]
    assert remove == [str(fake.exe), "remove", "--json", fake.yes, "-p", str(prefix), "--force", "idna", "requests"]

    # already exact: nothing runs
    assert (await engine.install_explicit(prefix, snapshot, task=task("rollback"))).changes == []
    assert len(fake.calls()) == 4


async def test_explicit_dry_run_runs_nothing(fake: Fake):
    engine = fake.engine()
    prefix = await make_env(fake, engine)
    snapshot = engine.explicit(prefix)
    target = [e for e in snapshot if "numpy" not in e.url] + [entry("numpy", "1.26.4", "py311h64a7726_0")]
    plan = await engine.install_explicit(prefix, target, task=task(), dry_run=True)
    assert summary(plan) == [("numpy", "2.0.2 py311h71ddf71_1", "1.26.4 py311h64a7726_0")]
    assert engine.explicit(prefix) == snapshot
    assert len(fake.calls()) == 1


async def test_explicit_refuses_bad_urls(conda: Fake):
    engine = conda.engine()
    for bad in ("https://x/numpy.tar.gz", "-p", f"{CF}/linux-64/numpy-1.0.conda", f"{CF}/linux-64/a-1-b.conda#md5"):
        with pytest.raises(InvalidInput) as err:
            await engine.install_explicit(conda.new_prefix(str(abs(hash(bad)))), [ExplicitEntry(bad)], task=task())
        assert err.value.details["field"] == "explicit"
    assert conda.calls() == []


# -- reading the documented JSON shapes -------------------------------------------------------------


def test_plan_from_documented_json_shapes():
    """conda's LINK/UNLINK are ``dist_fields_dump()`` dicts, micromamba's full package
    records, conda before 4.4 dist strings; a reinstall (same version and build) is left out."""
    conda_doc = {
        "success": True,
        "dry_run": True,
        "prefix": "/p",
        "actions": {
            "PREFIX": "/p",
            "LINK": [
                {
                    "base_url": CF,
                    "build_number": 0,
                    "build_string": "py311h64a7726_0",
                    "channel": "conda-forge",
                    "dist_name": "numpy-1.26.4-py311h64a7726_0",
                    "name": "numpy",
                    "platform": "linux-64",
                    "version": "1.26.4",
                },
                {"dist_name": "zstd-1.5.6-ha6fb4c9_0"},
                {"name": "same", "version": "1", "build_string": "b"},
            ],
            "UNLINK": [
                {"name": "numpy", "version": "2.0.2", "build_string": "py311h71ddf71_1"},
                {"name": "six", "version": "1.16.0", "build_string": "pyhd8ed1ab_0"},
                {"name": "same", "version": "1", "build_string": "b"},
            ],
        },
    }
    assert summary(plan_from_json(conda_doc)) == [
        ("numpy", "2.0.2 py311h71ddf71_1", "1.26.4 py311h64a7726_0"),
        ("six", "1.16.0 pyhd8ed1ab_0", None),
        ("zstd", None, "1.5.6 ha6fb4c9_0"),
    ]
    mamba_doc = {
        "actions": {
            "FETCH": [],
            "LINK": [{"name": "idna", "version": "3.8", "build": "pyhd8ed1ab_0", "build_string": "pyhd8ed1ab_0"}],
            "PREFIX": "/p",
        },
        "dry_run": False,
        "prefix": "/p",
        "success": True,
    }
    assert summary(plan_from_json(mamba_doc)) == [("idna", None, "3.8 pyhd8ed1ab_0")]
    old_doc = {"success": True, "actions": {"LINK": ["conda-forge/linux-64::numpy-1.26.4-py311_0"], "UNLINK": []}}
    assert summary(plan_from_json(old_doc)) == [("numpy", None, "1.26.4 py311_0")]
    assert plan_from_json({"success": True, "message": "All requested packages already installed."}).changes == []


def test_parse_json_output():
    progress = '{"fetch":"numpy-2.0.2 | 8 MB | ","finished":false,"maxval":1,"progress":0.000000}\n\0'
    result = {"success": True, "actions": {"PREFIX": "/p"}}
    assert parse_json_output(progress * 2 + json.dumps(result, indent=2) + "\n") == result
    assert parse_json_output("Collecting package metadata: done\n" + json.dumps(result, indent=2)) == result
    assert parse_json_output(progress) is None
    assert parse_json_output("") is None
    assert parse_json_output("Segfault\n{not json") is None
    assert parse_json_output("[1, 2]") is None


def test_dialect_from_the_executable_name():
    assert dialect_for("/opt/conda/bin/conda").name == "conda"
    assert dialect_for("conda.exe").name == "conda"
    assert dialect_for("/usr/local/bin/micromamba").name == "micromamba"
    assert dialect_for("mamba").name == "micromamba"
    assert dialect_for("my-conda-wrapper").name == "conda"
