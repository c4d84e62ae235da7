"""The rattler engine on real disks: real solves and installs against the local
file:// channel (tests/localchannel.py) into temp dirs, the engine's methods called
directly with a bare Task. Create, dry runs, install/update/remove plans, requested
flags, unsatisfiable and bad input, explicit round trips (including a package read
from its archive and an http:// channel), the per-user default cache, progress
phases, a cancel that really stops the install, and the install worker's life:
warmed during the solve, reused, one per concurrent install, replaced after a cancel,
a death or a change of environment variables, gone with its parent."""

from __future__ import annotations

import asyncio
import functools
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.engines import rattler_engine
from jupyter_envmod.engines.rattler_engine import RattlerEngine
from jupyter_envmod.errors import InvalidInput, OperationFailed, Unsatisfiable
from jupyter_envmod.models import Plan
from jupyter_envmod.specs import ExplicitEntry
from jupyter_envmod.tasks import Task
from tests.localchannel import SLOW_DIRS, SLOW_FILES


@pytest.fixture
def engine(cache, local_channel) -> RattlerEngine:
    return RattlerEngine(EnvMod(cache_dir=str(cache), channels=[local_channel.url]))


@pytest.fixture
def py(local_channel) -> str:
    return ".".join(local_channel.python_version.split(".")[:2])


def new_task(prefix: Path) -> Task:
    return Task("create", {"path": str(prefix)})


def changes(plan: Plan) -> dict[str, tuple[str, str | None, str | None]]:
    return {c.name: (c.kind, c.old, c.new) for c in plan.changes}


def versions(engine: RattlerEngine, prefix: Path) -> dict[str, str]:
    return {p.name: p.version for p in engine.packages(prefix)}


def identities(engine: RattlerEngine, prefix: Path) -> set[tuple[str, str, str, str, str, str]]:
    return {(p.name, p.version, p.build, p.channel, p.url, p.sha256) for p in engine.packages(prefix)}


def requested(engine: RattlerEngine, prefix: Path) -> set[str]:
    return {p.name for p in engine.packages(prefix) if p.requested}


def python_says(prefix: Path, code: str) -> str:
    out = subprocess.run([str(prefix / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def tree(prefix: Path) -> set[str]:
    return {str(p.relative_to(prefix)) for p in prefix.rglob("*")} if prefix.exists() else set()


async def create(engine: RattlerEngine, prefix: Path, py: str, specs: list[str]) -> Plan:
    prefix.mkdir(parents=True, exist_ok=True)
    return await engine.create(prefix, python=py, specs=specs, channels=[], task=new_task(prefix))


async def test_create_imports_packages_and_progress(engine, tmp_path, py, local_channel):
    prefix = tmp_path / "env"
    prefix.mkdir()
    task = new_task(prefix)
    seen: list[tuple[str, str, float | None]] = []
    task.add_listener(lambda t, event: seen.append((event, t.phase, t.progress)))
    plan = await engine.create(prefix, python=py, specs=["tinypy", "beta"], channels=[], task=task)

    assert changes(plan) == {
        "alpha": ("add", None, "2.0 0"),
        "beta": ("add", None, "1.0 0"),
        "python": ("add", None, f"{local_channel.python_version} 0_envmodtest"),
        "tinypy": ("add", None, "1.1 py_0"),
    }
    assert python_says(prefix, "import sys, tinypy; print(sys.prefix, tinypy.VERSION)") == f"{prefix} 1.1"
    assert (prefix / "share" / "alpha" / "VERSION").read_text() == "2.0\n"

    packages = {p.name: p for p in engine.packages(prefix)}
    assert set(packages) == {"alpha", "beta", "python", "tinypy"}
    tinypy = packages["tinypy"]
    assert (tinypy.version, tinypy.build, tinypy.source) == ("1.1", "py_0", "conda")
    assert tinypy.channel == local_channel.url
    assert tinypy.url == f"{local_channel.url}/noarch/tinypy-1.1-py_0.conda"
    assert len(tinypy.sha256) == 64
    assert requested(engine, prefix) == {"python", "tinypy", "beta"}  # alpha only came with beta

    phases = [phase for event, phase, _ in seen if event == "phase"]
    assert phases == ["solving", "downloading", "linking"]
    progress = [p for event, _, p in seen if event == "progress" and p is not None]
    assert progress == sorted(progress)
    assert progress[-1] == 1.0
    log = [entry["line"] for entry in task.log_since(0)[0]]
    assert "linking tinypy" in log


async def test_dry_runs_write_nothing(engine, tmp_path, py, local_channel):
    missing = tmp_path / "not-there"
    plan = await engine.create(missing, python=py, specs=["gamma"], channels=[], task=new_task(missing), dry_run=True)
    assert set(changes(plan)) == {"python", "gamma", "alpha"}
    assert changes(plan)["alpha"] == ("add", None, "1.0 0")  # gamma needs alpha <2
    assert not missing.exists()
    older = local_channel.other_python_version  # X.Y.Z picks exactly that python
    plan = await engine.create(missing, python=older, specs=[], channels=[], task=new_task(missing), dry_run=True)
    assert changes(plan) == {"python": ("add", None, f"{older} 0_envmodtest")}
    assert not missing.exists()

    prefix = tmp_path / "env"
    await create(engine, prefix, py, ["alpha=1.0"])
    before = {p: (prefix / p).stat().st_mtime_ns for p in tree(prefix)}
    plan = await engine.install(prefix, ["beta"], channels=[], task=new_task(prefix), dry_run=True)
    assert changes(plan) == {"beta": ("add", None, "1.0 0")}
    plan = await engine.install(prefix, ["alpha"], channels=[], task=new_task(prefix), update=True, dry_run=True)
    assert changes(plan) == {"alpha": ("change", "1.0 0", "2.0 0")}
    plan = await engine.remove(prefix, ["alpha"], task=new_task(prefix), dry_run=True)
    assert changes(plan) == {"alpha": ("remove", "1.0 0", None)}
    plan = await engine.install_explicit(prefix, [], task=new_task(prefix), dry_run=True)
    assert {kind for kind, _, _ in changes(plan).values()} == {"remove"}
    assert {p: (prefix / p).stat().st_mtime_ns for p in tree(prefix)} == before


async def test_install_update_remove(engine, tmp_path, py):
    prefix = tmp_path / "env"
    await create(engine, prefix, py, ["gamma", "tinypy=1.0=py_0"])  # conda's name=version=build too
    assert versions(engine, prefix)["alpha"] == "1.0"

    def task() -> Task:
        return new_task(prefix)

    # a new package: nothing else moves (alpha stays at 1.0, which gamma needs anyway)
    plan = await engine.install(prefix, ["beta"], channels=[], task=task())
    assert changes(plan) == {"beta": ("add", None, "1.0 0")}
    assert requested(engine, prefix) == {"python", "gamma", "tinypy", "beta"}

    # asking for an installed dependency changes nothing but marks it requested
    plan = await engine.install(prefix, ["alpha"], channels=[], task=task())
    assert plan.changes == []
    assert "alpha" in requested(engine, prefix)

    # install without update keeps tinypy where it is; update moves it to the newest
    plan = await engine.install(prefix, ["tinypy"], channels=[], task=task())
    assert plan.changes == []
    plan = await engine.install(prefix, ["tinypy"], channels=[], task=task(), update=True)
    assert changes(plan) == {"tinypy": ("change", "1.0 py_0", "1.1 py_0")}
    assert python_says(prefix, "import tinypy; print(tinypy.VERSION)") == "1.1"

    # remove gamma: alpha stays (asked for, and beta needs it)
    plan = await engine.remove(prefix, ["gamma"], task=task())
    assert changes(plan) == {"gamma": ("remove", "1.0 0", None)}

    with pytest.raises(InvalidInput, match="nothere"):
        await engine.remove(prefix, ["nothere"], task=task())

    # removing alpha takes beta, which depends on it, along
    plan = await engine.remove(prefix, ["alpha"], task=task())
    assert changes(plan) == {"alpha": ("remove", "1.0 0", None), "beta": ("remove", "1.0 0", None)}
    assert set(versions(engine, prefix)) == {"python", "tinypy"}
    assert not (prefix / "share" / "alpha").exists()
    assert requested(engine, prefix) == {"python", "tinypy"}


async def test_unsatisfiable_and_bad_input(engine, tmp_path, py):
    prefix = tmp_path / "env"
    prefix.mkdir()
    with pytest.raises(Unsatisfiable) as err:
        await engine.create(prefix, python=py, specs=["needsmissing"], channels=[], task=new_task(prefix))
    assert "doesnotexist" in err.value.message
    assert err.value.details["specs"] == [f"python {py}.*", "needsmissing"]
    assert tree(prefix) == set()

    with pytest.raises(InvalidInput) as bad:
        await engine.create(prefix, python="three", specs=[], channels=[], task=new_task(prefix))
    assert bad.value.details["field"] == "python"
    with pytest.raises(InvalidInput) as bad:
        await engine.create(prefix, python=py, specs=["alpha >="], channels=[], task=new_task(prefix))
    assert bad.value.details["field"] == "packages"
    for channel in ("not a channel", "ftp://example.org/x", "../relative"):
        with pytest.raises(InvalidInput) as bad:
            await engine.create(prefix, python=py, specs=["beta"], channels=[channel], task=new_task(prefix))
        assert bad.value.details["field"] == "channels"
    with pytest.raises(InvalidInput, match="Not a conda channel"):
        await engine.create(
            prefix, python=py, specs=["beta"], channels=[(tmp_path / "nope").as_uri()], task=new_task(prefix)
        )
    with pytest.raises(InvalidInput, match="not a conda environment"):
        await engine.install(prefix, ["beta"], channels=[], task=new_task(prefix))
    assert tree(prefix) == set()


async def test_failed_install_is_operation_failed(tmp_path, py, local_channel):
    """A package file that vanished between solve and install: OperationFailed naming it."""
    channel = tmp_path / "channel"
    shutil.copytree(local_channel.path, channel, ignore=shutil.ignore_patterns("slowpkg-*"))
    engine = RattlerEngine(EnvMod(cache_dir=str(tmp_path / "cache"), channels=[channel.as_uri()]))
    (channel / "noarch" / "alpha-2.0-0.conda").unlink()
    prefix = tmp_path / "env"
    prefix.mkdir()
    task = new_task(prefix)
    with pytest.raises(OperationFailed) as err:
        await engine.create(prefix, python=py, specs=["alpha"], channels=[], task=task)
    assert "alpha-2.0-0.conda" in err.value.message
    assert str(prefix) in err.value.message
    assert err.value.details["argv"][1:3] == ["-m", "jupyter_envmod.engines.rattler_worker"]


async def test_explicit_round_trip(engine, tmp_path, py, local_channel):
    source = tmp_path / "source"
    await create(engine, source, py, ["tinypy=1.0", "beta"])
    entries = engine.explicit(source)
    assert all(e.sha256 and e.url.startswith(local_channel.url) for e in entries)

    # into a new prefix: the same package set, no solve
    clone = tmp_path / "clone"
    clone.mkdir()
    plan = await engine.install_explicit(clone, entries, task=new_task(clone))
    assert {kind for kind, _, _ in changes(plan).values()} == {"add"}
    assert identities(engine, clone) == identities(engine, source)
    assert requested(engine, clone) == {"alpha", "beta", "python", "tinypy"}  # a new prefix: the whole list
    assert python_says(clone, "import tinypy; print(tinypy.VERSION)") == "1.0"

    # into a prefix with other packages: exactly the list afterwards
    other = tmp_path / "other"
    await create(engine, other, py, ["gamma", "tinypy"])
    plan = await engine.install_explicit(other, entries, task=new_task(other))
    assert changes(plan) == {
        "gamma": ("remove", "1.0 0", None),
        "alpha": ("change", "1.0 0", "2.0 0"),
        "beta": ("add", None, "1.0 0"),
        "tinypy": ("change", "1.1 py_0", "1.0 py_0"),
    }
    assert versions(engine, other) == versions(engine, source)
    assert requested(engine, other) == {"python", "tinypy"}  # kept from before, for what stays

    # a package file outside any channel index is read from the archive itself
    loose = tmp_path / "loose" / "noarch"
    loose.mkdir(parents=True)
    shutil.copy(local_channel.path / "noarch" / "alpha-1.0-0.conda", loose)
    archive = [e for e in entries if "/alpha-" not in e.url] + [ExplicitEntry((loose / "alpha-1.0-0.conda").as_uri())]
    task = new_task(other)
    await engine.install_explicit(other, archive, task=task)
    assert versions(engine, other)["alpha"] == "1.0"
    assert any("reading the package itself" in e["line"] for e in task.log_since(0)[0])

    # a hash that does not match refuses the whole list
    tampered = [ExplicitEntry(e.url, "0" * 64, None) if "/beta-" in e.url else e for e in entries]
    with pytest.raises(InvalidInput, match="hash"):
        await engine.install_explicit(other, tampered, task=new_task(other))
    with pytest.raises(InvalidInput, match="not the URL of a conda package"):
        await engine.install_explicit(other, [ExplicitEntry("https://example.org/x.txt")], task=new_task(other))


@pytest.fixture
def www(tmp_path, local_channel) -> Iterator[tuple[Path, str]]:
    """A directory served over http:// by a thread of this process, and its URL; the
    local channel is its ``channel/``."""
    root = tmp_path / "www"
    root.mkdir()
    (root / "channel").symlink_to(local_channel.path)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_http_channel_and_explicit_download(tmp_path, py, www, local_channel):
    root, base = www
    cache = tmp_path / "cache"
    engine = RattlerEngine(EnvMod(cache_dir=str(cache), channels=[f"{base}/channel"]))
    prefix = tmp_path / "env"
    await create(engine, prefix, py, ["beta"])
    assert {p.channel for p in engine.packages(prefix)} == {f"{base}/channel"}
    assert (cache / "rattler" / "pkgs").is_dir()
    assert (cache / "rattler" / "repodata").is_dir()

    # an http URL that no index lists: downloaded and read from the archive
    loose = root / "loose" / "noarch"
    loose.mkdir(parents=True)
    shutil.copy(local_channel.path / "noarch" / "alpha-1.0-0.conda", loose)
    other = tmp_path / "other"
    other.mkdir()
    task = new_task(other)
    await engine.install_explicit(other, [ExplicitEntry(f"{base}/loose/noarch/alpha-1.0-0.conda")], task=task)
    assert versions(engine, other) == {"alpha": "1.0"}
    assert any("reading the package itself" in e["line"] for e in task.log_since(0)[0])


async def test_default_cache_is_per_user(tmp_path, py, local_channel, monkeypatch):
    """Without EnvMod.cache_dir, rattler's own default: $XDG_CACHE_HOME/rattler/cache."""
    monkeypatch.delenv("RATTLER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    engine = RattlerEngine(EnvMod(channels=[local_channel.url]))
    prefix = tmp_path / "env"
    await create(engine, prefix, py, ["alpha"])
    assert (tmp_path / "xdg" / "rattler" / "cache" / "pkgs" / "alpha-2.0-0").is_dir()


async def held_slow_install(tmp_path, py, gate) -> tuple[RattlerEngine, Path, set[str], Task, asyncio.Future]:
    """An environment with alpha, and an install of slowpkg into it that is half way
    through its download (held by the gate): (engine, prefix, tree before, task, future)."""
    engine = RattlerEngine(EnvMod(cache_dir=str(tmp_path / "cache"), channels=[gate.url]))
    prefix = tmp_path / "env"
    await create(engine, prefix, py, ["alpha"])
    before = tree(prefix)
    task = new_task(prefix)
    running = asyncio.ensure_future(engine.install(prefix, ["slowpkg"], channels=[], task=task))
    await gate.held()
    assert not running.done()
    return engine, prefix, before, task, running


async def test_cancel_stops_the_install(tmp_path, py, gate):
    engine, prefix, before, task, running = await held_slow_install(tmp_path, py, gate)
    cancelled = time.monotonic()
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    latency = time.monotonic() - cancelled
    print(f"cancel latency {latency:.3f} s")
    assert latency < 2.0
    # the worker was killed and reaped before the cancel returned, and is not reused
    [pid] = worker_pids(task)
    assert gone(pid)
    assert pid not in [w.pid for w in rattler_engine._POOL.idle]

    # nothing keeps writing after the cancel returned
    await asyncio.sleep(1.0)
    assert tree(prefix) == before
    assert "slowpkg" not in versions(engine, prefix)

    # the cut-off cache entry is not trusted: a new install gets every file
    gate.open()
    started = time.monotonic()
    task = new_task(prefix)
    await engine.install(prefix, ["slowpkg"], channels=[], task=task)
    print(f"slowpkg install {time.monotonic() - started:.1f} s")
    assert worker_pids(task) != [pid]
    files = list((prefix / "share" / "slowpkg").rglob("*.txt"))
    assert len(files) == SLOW_DIRS * SLOW_FILES
    assert all(os.path.getsize(f) > 0 for f in files[:50])


# -- the install worker ------------------------------------------------------------------


def worker_pids(task: Task) -> list[int]:
    """The install workers a task's jobs ran in, from its log."""
    lines = [e["line"] for e in task.log_since(0)[0]]
    return [int(m.group(1)) for line in lines if (m := re.match(r"install worker (\d+),", line))]


def gone(pid: int) -> bool:
    """The process has ended (a zombie not reaped yet counts as ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


async def test_worker_is_warmed_during_the_solve_and_reused(engine, tmp_path, py, monkeypatch):
    rattler_engine._POOL.close()  # start from no worker at all
    solving: list[list[int]] = []
    solve = engine._solve

    async def watched(*args: Any, **kwargs: Any) -> Any:
        solving.append([w.pid for w in rattler_engine._POOL.idle])
        return await solve(*args, **kwargs)

    monkeypatch.setattr(engine, "_solve", watched)
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    task1, task2 = new_task(first), new_task(second)
    await engine.create(first, python=py, specs=["alpha"], channels=[], task=task1)
    await engine.create(second, python=py, specs=["beta"], channels=[], task=task2)
    # the worker was started before the solve began, and both jobs ran in it
    assert len(solving[0]) == 1
    assert worker_pids(task1) == worker_pids(task2) == solving[0]
    assert [w.pid for w in rattler_engine._POOL.idle] == solving[0]
    assert not rattler_engine._POOL.busy

    # a dry run starts nothing; a changed environment gets a fresh worker
    rattler_engine._POOL.close()
    await engine.create(tmp_path / "dry", python=py, specs=["alpha"], channels=[], task=new_task(first), dry_run=True)
    assert not rattler_engine._POOL.idle
    await engine.install(first, ["beta"], channels=[], task=new_task(first))
    [before] = rattler_engine._POOL.idle
    monkeypatch.setenv("ENVMOD_TEST_MARKER", "1")
    task = new_task(first)
    await engine.install(first, ["gamma"], channels=[], task=task)
    assert worker_pids(task) != [before.pid]
    assert gone(before.pid)


async def test_concurrent_installs_get_their_own_workers(engine, tmp_path, py):
    prefixes = [tmp_path / f"env{i}" for i in range(2)]
    for prefix in prefixes:
        await create(engine, prefix, py, ["alpha"])
    tasks = [new_task(p) for p in prefixes]
    started = time.monotonic()
    installs = [engine.install(p, ["tinypy"], channels=[], task=t) for p, t in zip(prefixes, tasks, strict=True)]
    await asyncio.gather(*installs)
    print(f"two installs at once: {time.monotonic() - started:.2f} s")
    [pid1], [pid2] = (worker_pids(t) for t in tasks)
    assert pid1 != pid2
    assert all(versions(engine, p)["tinypy"] == "1.1" for p in prefixes)
    assert len(rattler_engine._POOL.idle) == 1  # one kept, the other retired
    assert not rattler_engine._POOL.busy
    assert gone(pid1) != gone(pid2)


async def test_worker_that_dies_fails_the_job_and_is_replaced(tmp_path, py, gate):
    engine, prefix, before, task, running = await held_slow_install(tmp_path, py, gate)
    [pid] = worker_pids(task)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(OperationFailed) as err:
        await running
    assert "exited unexpectedly" in err.value.message
    assert err.value.details["returncode"] == -signal.SIGKILL
    assert pid not in [w.pid for w in rattler_engine._POOL.idle]
    assert tree(prefix) == before

    task = new_task(prefix)
    await engine.install(prefix, ["beta"], channels=[], task=task)
    assert worker_pids(task) != [pid]
    assert "beta" in versions(engine, prefix)


def test_worker_dies_with_its_parent(tmp_path):
    """A parent killed with SIGKILL (no atexit): the worker reads end of file and exits."""
    script = (
        "import os, signal, sys\n"
        "from jupyter_envmod.engines import rattler_engine\n"
        "rattler_engine._POOL.warm()\n"
        "print(rattler_engine._POOL.idle[0].pid, flush=True)\n"
        "sys.stdin.readline()\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    assert parent.stdout is not None
    assert parent.stdin is not None
    pid = int(parent.stdout.readline())
    time.sleep(0.3)
    assert not gone(pid)
    parent.stdin.write("\n")
    parent.stdin.close()
    parent.wait()
    parent.stdout.close()
    for _ in range(100):
        if gone(pid):
            break
        time.sleep(0.02)
    assert gone(pid)


def test_no_worker_outlives_a_clean_exit(tmp_path):
    script = (
        "from jupyter_envmod.engines import rattler_engine\n"
        "rattler_engine._POOL.warm()\n"
        "print(rattler_engine._POOL.idle[0].pid)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert gone(int(done.stdout))
