"""UvPip against real uv and PyPI (small pure-Python packages), each test in its own
venv under tmp_path, with one uv cache for the whole session (never ~/.cache)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.engines.pip import UvPip, parse_changes, uv_bin
from jupyter_envmod.errors import InvalidInput, OperationFailed, Unsatisfiable
from jupyter_envmod.models import Change
from jupyter_envmod.tasks import Task

BACKEND = """
import base64, hashlib, os, time, zipfile

NAME, DIST_NAME, VERSION = {name!r}, {dist!r}, "0.1.0"
INFO = f"{{DIST_NAME}}-{{VERSION}}.dist-info"


def _line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    if {pidfile!r}:
        with open({pidfile!r}, "w") as f:
            f.write(str(os.getpid()))
    if {fail!r}:
        raise RuntimeError("envmod test backend refuses to build")
    time.sleep({sleep!r})
    files = {{
        f"{{DIST_NAME}}.py": b"VALUE = 1\\n",
        f"{{INFO}}/METADATA": f"Metadata-Version: 2.1\\nName: {{NAME}}\\nVersion: {{VERSION}}\\n".encode(),
        f"{{INFO}}/WHEEL": b"Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    record = [_line(p, d) for p, d in files.items()] + [f"{{INFO}}/RECORD,,"]
    files[f"{{INFO}}/RECORD"] = ("\\n".join(record) + "\\n").encode()
    wheel = f"{{DIST_NAME}}-{{VERSION}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel
"""


def make_project(root: Path, name: str, *, sleep: float = 0.0, fail: bool = False, pidfile: str = "") -> Path:
    """A local project whose in-tree build backend (no download needed) can be slow
    or fail; its pyproject metadata is static, so resolving it needs no build."""
    root.mkdir(parents=True)
    (root / "backend").mkdir()
    dist = name.replace("-", "_")
    (root / "backend" / "envmod_test_backend.py").write_text(
        BACKEND.format(name=name, dist=dist, sleep=sleep, fail=fail, pidfile=pidfile)
    )
    (root / "pyproject.toml").write_text(
        "[build-system]\nrequires = []\nbuild-backend = 'envmod_test_backend'\nbackend-path = ['backend']\n\n"
        f"[project]\nname = '{name}'\nversion = '0.1.0'\n"
    )
    return root


@pytest.fixture
def envmod(tmp_path_factory: pytest.TempPathFactory) -> EnvMod:
    """Site config whose uv cache is shared by every test of the session."""
    return EnvMod(cache_dir=str(tmp_path_factory.getbasetemp() / "envmod-cache"))


def make_venv(path: Path, envmod: EnvMod) -> Path:
    subprocess.run(
        [uv_bin(), "venv", "--quiet", "--no-project", "--python", sys.executable, str(path)],
        check=True,
        env=UvPip(envmod).env(),
    )
    return path / "bin" / "python"


def versions(pip: UvPip, prefix: Path) -> dict[str, str]:
    return {p.name: p.version for p in pip.installed(prefix)}


def new_task(prefix: Path) -> Task:
    return Task("create", {"path": str(prefix)})


# -- no uv needed -----------------------------------------------------------------------


def test_env_drops_leaks_and_adds_cache_and_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_SYSTEM_PYTHON", "PYTHONPATH", "UV_INDEX_URL"):
        monkeypatch.setenv(name, "/leak")
    monkeypatch.setenv("UV_CACHE_DIR", "/users/own/cache")
    env = UvPip(EnvMod(cache_dir=str(tmp_path / "c"), pip_index_url="https://pypi.example/simple")).env()
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "UV_SYSTEM_PYTHON", "PYTHONPATH", "UV_INDEX_URL"):
        assert name not in env
    assert env["UV_CACHE_DIR"] == str(tmp_path / "c" / "uv")
    assert (tmp_path / "c" / "uv").stat().st_mode & 0o777 == 0o700
    assert env["UV_DEFAULT_INDEX"] == "https://pypi.example/simple"
    assert env["PATH"] == os.environ["PATH"]

    plain = UvPip(EnvMod()).env()  # nothing configured: the user's own uv settings apply
    assert plain["UV_CACHE_DIR"] == "/users/own/cache"
    assert plain["UV_INDEX_URL"] == "/leak"
    assert "UV_DEFAULT_INDEX" not in plain


def _dist(sp: Path, dirname: str, name: str, version: str, **files: str) -> None:
    d = sp / dirname
    d.mkdir(parents=True)
    meta = "METADATA" if dirname.endswith(".dist-info") else "PKG-INFO"
    (d / meta).write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nLong description\n")
    for fname, text in files.items():
        (d / fname).write_text(text)


def test_installed_and_freeze_read_dist_info(tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    sp = prefix / "lib" / "python3.11" / "site-packages"
    _dist(sp, "Foo_Bar-1.0.dist-info", "Foo_Bar", "1.0", INSTALLER="uv\n", REQUESTED="")
    _dist(sp, "dep-2.0.dist-info", "dep", "2.0", INSTALLER="pip\n")
    _dist(sp, "numpy-1.26.4.dist-info", "numpy", "1.26.4", INSTALLER="conda\n")
    _dist(sp, "old-0.1-py3.11.egg-info", "old", "0.1")  # no INSTALLER
    vcs = {"url": "https://github.com/o/r", "vcs_info": {"vcs": "git", "commit_id": "abc123"}}
    _dist(sp, "fromgit-0.3.dist-info", "fromgit", "0.3", INSTALLER="uv", **{"direct_url.json": json.dumps(vcs)})
    local = {"url": "file:///src/loc", "dir_info": {"editable": True}}
    _dist(sp, "loc-0.0.1.dist-info", "loc", "0.0.1", INSTALLER="uv", **{"direct_url.json": json.dumps(local)})
    _dist(prefix / "lib" / "python3.9" / "site-packages", "stale-1.dist-info", "stale", "1")  # leftover
    (prefix / "pyvenv.cfg").parent.mkdir(exist_ok=True)
    (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.7\n")
    pip = UvPip(EnvMod())

    pkgs = {p.name: p for p in pip.installed(prefix)}
    # not a conda prefix: an egg-info without INSTALLER counts as pip's
    assert sorted(pkgs) == ["dep", "foo-bar", "fromgit", "loc", "old"]
    assert pkgs["foo-bar"].requested
    assert not pkgs["dep"].requested
    assert (pkgs["foo-bar"].version, pkgs["foo-bar"].source, pkgs["foo-bar"].channel) == ("1.0", "pypi", "pypi")
    assert "numpy" in {p.name for p in pip.installed(prefix, include_conda=True)}
    assert pip.freeze(prefix) == [
        "dep==2.0",
        "foo-bar==1.0",
        "fromgit @ git+https://github.com/o/r@abc123",
        "loc @ file:///src/loc",
        "old==0.1",
    ]

    (prefix / "conda-meta").mkdir()  # in a conda prefix, no INSTALLER means conda's
    assert sorted(p.name for p in pip.installed(prefix)) == ["dep", "foo-bar", "fromgit", "loc"]
    assert pip.installed(tmp_path / "missing") == []


def test_parse_changes_reads_uv_dry_run_output() -> None:
    output = (
        "Using Python 3.11.7 environment at: /p\nResolved 3 packages in 10ms\nWould download 2 packages\n"
        "Would uninstall 1 package\nWould install 3 packages\n"
        " - six==1.15.0\n + six==1.16.0\n + Idna==3.4\n + envmod-x @ file:///src/x\n ~ same==1.0\n"
    )
    plan = parse_changes(output)
    assert plan.changes == [
        Change("envmod-x", "pypi", None, "file:///src/x"),
        Change("idna", "pypi", None, "3.4"),
        Change("six", "pypi", "1.15.0", "1.16.0"),
    ]
    assert parse_changes("Checked 1 package in 1ms\nWould make no changes\n").changes == []
    assert parse_changes(" - six==1.15.0\n").changes == [Change("six", "pypi", "1.15.0", None)]


# -- real uv -------------------------------------------------------------------------


async def test_install_upgrade_uninstall(tmp_path: Path, envmod: EnvMod) -> None:
    python = make_venv(tmp_path / "env", envmod)
    prefix = tmp_path / "env"
    pip = UvPip(envmod)
    task = new_task(prefix)
    phases: list[str] = []
    task.add_listener(lambda t, event: phases.append(t.phase) if event == "phase" else None)

    plan = await pip.install(python, ["six==1.15.0"], task=task)
    assert [c.to_json() for c in plan.changes] == [
        {"name": "six", "source": "pypi", "old": None, "new": "1.15.0", "kind": "add"}
    ]
    assert {"resolving", "installing"} <= set(phases)
    assert [(p.name, p.requested) for p in pip.installed(prefix)] == [("six", True)]

    plan = await pip.install(python, ["six==1.16.0"], task=task, dry_run=True)
    assert plan.changes == [Change("six", "pypi", "1.15.0", "1.16.0")]
    assert versions(pip, prefix) == {"six": "1.15.0"}

    plan = await pip.install(python, ["six"], task=task)  # satisfied: no change without upgrade
    assert plan.changes == []
    plan = await pip.install(python, ["six<1.17"], task=task, upgrade=True)
    assert plan.changes == [Change("six", "pypi", "1.15.0", "1.16.0")]

    plan = await pip.uninstall(python, ["Six"], task=task, dry_run=True)
    assert plan.changes == [Change("six", "pypi", "1.16.0", None)]
    assert versions(pip, prefix) == {"six": "1.16.0"}
    plan = await pip.uninstall(python, ["six"], task=task)
    assert plan.changes == [Change("six", "pypi", "1.16.0", None)]
    assert pip.installed(prefix) == []


async def test_refusals_run_nothing(tmp_path: Path, envmod: EnvMod) -> None:
    python = make_venv(tmp_path / "env", envmod)
    pip = UvPip(envmod)
    task = new_task(tmp_path / "env")
    with pytest.raises(InvalidInput, match="envmod-not-installed"):
        await pip.uninstall(python, ["envmod-not-installed"], task=task)
    for bad in ("--index-url=https://evil.example/simple", "-r/etc/passwd", "six\n--pre", ""):
        with pytest.raises(InvalidInput):
            await pip.install(python, ["idna", bad], task=task)
    with pytest.raises(InvalidInput, match="must not start with '-'"):
        await pip.sync(python, ["-e ."], task=task)
    lines, _ = task.log_since(0)
    assert not [entry for entry in lines if entry["line"].startswith("$ ")]


async def test_uv_failures_carry_argv_and_output(tmp_path: Path, envmod: EnvMod) -> None:
    python = make_venv(tmp_path / "env", envmod)
    pip = UvPip(envmod)
    task = new_task(tmp_path / "env")
    with pytest.raises(Unsatisfiable) as info:
        await pip.install(python, ["envmod-no-such-package-xyz"], task=task)
    err = info.value
    assert "envmod-no-such-package-xyz was not found in the package registry" in err.message
    assert err.details["argv"][0] == uv_bin()
    assert err.details["argv"][-1] == "envmod-no-such-package-xyz"
    assert any("No solution found" in line for line in err.details["output_tail"])

    project = make_project(tmp_path / "broken", "envmod-broken", fail=True)
    with pytest.raises(OperationFailed) as failed:
        await pip.install(python, [f"envmod-broken @ {project.as_uri()}"], task=task)
    assert "envmod test backend refuses to build" in "\n".join(failed.value.details["output_tail"])
    assert failed.value.message.startswith("Installing envmod-broken @ file://")
    assert "Failed to build" in failed.value.message
    assert pip.installed(tmp_path / "env") == []


async def test_index_url_is_passed_to_uv(tmp_path: Path, envmod: EnvMod) -> None:
    python = make_venv(tmp_path / "env", envmod)
    (tmp_path / "index").mkdir()
    site = EnvMod(cache_dir=envmod.cache_dir, pip_index_url=(tmp_path / "index").as_uri())
    with pytest.raises(Unsatisfiable, match="six was not found in the package registry"):
        await UvPip(site).install(python, ["six"], task=new_task(tmp_path / "env"))


async def test_freeze_and_sync_reproduce_a_set(tmp_path: Path, envmod: EnvMod) -> None:
    pip = UvPip(envmod)
    source, target = tmp_path / "a", tmp_path / "b"
    project = make_project(tmp_path / "local", "envmod-local")
    await pip.install(
        make_venv(source, envmod),
        ["six==1.16.0", "idna==3.4", f"envmod-local @ {project.as_uri()}"],
        task=new_task(source),
    )
    pins = pip.freeze(source)
    assert pins == [f"envmod-local @ {project.as_uri()}", "idna==3.4", "six==1.16.0"]

    python = make_venv(target, envmod)
    await pip.install(python, ["six==1.15.0", "certifi==2020.12.5", "idna==3.4"], task=new_task(target))
    # a package conda installed is not pip's to remove: sync keeps it
    certifi = next((target / "lib").glob("python3*/site-packages/certifi-*.dist-info"))
    (certifi / "INSTALLER").write_text("conda\n")

    plan = await pip.sync(python, pins, task=new_task(target))
    assert plan.changes == [
        Change("envmod-local", "pypi", None, "0.1.0"),
        Change("six", "pypi", "1.15.0", "1.16.0"),
    ]
    assert pip.freeze(target) == pins
    # without requested names: packages already there keep their flag, new ones count as asked for
    assert [(p.name, p.requested) for p in pip.installed(target)] == [
        ("envmod-local", True),
        ("idna", True),
        ("six", True),
    ]
    assert "certifi" in {p.name for p in pip.installed(target, include_conda=True)}
    check = [str(python), "-c", "import six, idna, envmod_local, certifi; print(six.__version__)"]
    assert subprocess.run(check, capture_output=True, text=True, check=True).stdout.strip() == "1.16.0"

    await pip.sync(python, [], task=new_task(target))  # to nothing: only conda's package stays
    assert pip.installed(target) == []
    assert [p.name for p in pip.installed(target, include_conda=True)] == ["certifi"]


def _process_group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes in process group ``pgid``."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry))
    return members


def _uv_children() -> list[int]:
    """uv processes started by this test process."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")[0].decode()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == os.getpid() and cmd == uv_bin():
            found.append(int(entry))
    return found


async def test_cancel_kills_the_uv_process_group(tmp_path: Path, envmod: EnvMod) -> None:
    python = make_venv(tmp_path / "env", envmod)
    pidfile = tmp_path / "backend.pid"
    project = make_project(tmp_path / "slow", "envmod-slow", sleep=30, pidfile=str(pidfile))
    pip = UvPip(envmod)
    task = new_task(tmp_path / "env")
    job = asyncio.ensure_future(pip.install(python, [f"envmod-slow @ {project.as_uri()}"], task=task))

    deadline = time.monotonic() + 15
    while not pidfile.exists() or not pidfile.read_text():  # the build backend is sleeping
        assert time.monotonic() < deadline, "the build never started"
        assert not job.done(), job
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    (uv_pid,) = _uv_children()
    backend_pid = int(pidfile.read_text())
    assert backend_pid in _process_group_members(uv_pid)

    started = time.monotonic()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert time.monotonic() - started < 5
    assert _process_group_members(uv_pid) == []
    assert pip.installed(tmp_path / "env") == []
