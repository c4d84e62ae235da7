"""Kernelspecs of environments (jupyter_envmod.kernels) with real kernels.

One venv with ipykernel (real uv, PyPI) is shared by the module. Kernels are
started from the generated kernelspecs by jupyter_client, exactly as Jupyter
Server starts them; code runs in them and reports what the kernel sees. Module
dependencies are loaded by the real Lmod and Environment Modules (tests/modsys.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import platform
import struct
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

from jupyter_envmod import kernels
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import InvalidInput, NotFound
from jupyter_envmod.kernels import KernelSpecInfo, KernelTemplateError
from jupyter_envmod.templating import BUILTIN_DIR, Target, TemplateError, Templates
from tests.modsys import DEP_MODULE, DEP_VALUE, DEP_VARIABLE, LMOD_CMD, MODULES_CMD, clean_environ, write_dep_module

THREADS = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"]
PYTHON_VERSION = platform.python_version()
PYTHON_SHORT = ".".join(PYTHON_VERSION.split(".")[:2])
#: every character that breaks some quoting: spaces, both quotes, $, backtick, ;, \, a newline, non-ASCII
NASTY = "we \"ird\" 'env' $HOME `id`; \\ é\nß"

REPORT = """
import json, os, sys
print(json.dumps({"prefix": sys.prefix, "executable": sys.executable, "pid": os.getpid(),
                  "affinity": sorted(os.sched_getaffinity(0)), "path": sys.path, "env": dict(os.environ)}))
"""


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real venv over this Python with ipykernel from PyPI (uv's cache makes reruns fast)."""
    import uv

    path = tmp_path_factory.mktemp("kernels") / "env"
    uv_bin = uv.find_uv_bin()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "CONDA_PREFIX"))}
    subprocess.run(
        [uv_bin, "venv", "--no-managed-python", "--no-python-downloads", "-p", sys.executable, str(path)],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(
        [uv_bin, "pip", "install", "--python", str(path / "bin" / "python"), "ipykernel"],
        check=True,
        capture_output=True,
        env=env,
    )
    return path


@pytest.fixture
def kernel_dir(tmp_path: Path) -> Path:
    return tmp_path / "kernels"


def make_envmod(kernel_dir: Path, **traits: Any) -> EnvMod:
    return EnvMod(kernel_dir=str(kernel_dir), thread_variables=THREADS, **traits)


def target_for(prefix: Path, name: str = "demo", modules: tuple[str, ...] = (), engine: str = "venv") -> Target:
    return Target(
        name=name,
        prefix=prefix,
        engine=engine,
        kind="venv",
        python_version=PYTHON_VERSION,
        created="2025-01-02T03:04:05Z",
        modules=modules,
    )


def fake_env(path: Path, python: bool = True) -> Path:
    """A directory that looks like an environment to the orphan check (no kernel is started)."""
    (path / "bin").mkdir(parents=True)
    (path / "pyvenv.cfg").write_text(f"home = {Path(sys.executable).parent}\nversion_info = {PYTHON_VERSION}\n")
    if python:
        (path / "bin" / "python").symlink_to(sys.executable)
    return path


def kernel_env(**extra: str) -> dict[str, str]:
    """The environment Jupyter starts a kernel with: the test's, without module,
    thread, Slurm or Python path variables."""
    env = clean_environ()
    for name in [*THREADS, "SLURM_CPUS_PER_TASK", "PYTHONPATH", "PYTHONNOUSERSITE", "MODULEPATH"]:
        env.pop(name, None)
    env.update(extra)
    return env


def expected_cpus() -> int:
    """What the launcher should find here without Slurm: the affinity mask capped by
    the cgroup quota (read with the launcher's own reader, tested in test_launcher)."""
    from tests.core.test_launcher import launcher

    limit = launcher.cgroup_cpu_limit()
    count = len(os.sched_getaffinity(0))
    return max(1, min(count, limit) if limit else count)


@contextlib.asynccontextmanager
async def started(
    kernel_dir: Path,
    name: str,
    env: dict[str, str],
    tmp_path: Path,
    *,
    prefix: tuple[str, ...] = (),
    stderr: Any = None,
    ready: bool = True,
) -> AsyncIterator[tuple[AsyncKernelManager, Any]]:
    """A kernel started from the kernelspec ``name`` as Jupyter does it (``prefix``
    runs before the kernelspec's argv, e.g. taskset), and a client of it."""
    manager = AsyncKernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernel_dir)]))
    manager.connection_file = str(tmp_path / f"connection-{name[:40]}.json")
    if prefix:
        manager.kernel_spec.argv = [*prefix, *manager.kernel_spec.argv]
    client = None
    try:
        await manager.start_kernel(env=env, stderr=stderr)
        client = manager.client()
        client.start_channels()
        if ready:
            await client.wait_for_ready(timeout=60)
        yield manager, client
    finally:
        if client is not None:
            client.stop_channels()
        if await manager.is_alive():
            await manager.shutdown_kernel(now=True)
        else:
            await manager.cleanup_resources()
        manager.context.term()


async def run(client: Any, code: str) -> tuple[dict[str, Any], str]:
    """(execute_reply content, stdout) of ``code``."""
    out: list[str] = []

    def hook(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])

    reply = await client.execute_interactive(code, output_hook=hook, timeout=60)
    return reply["content"], "".join(out)


async def report(client: Any) -> dict[str, Any]:
    content, out = await run(client, REPORT)
    assert content["status"] == "ok", content
    result: dict[str, Any] = json.loads(out)
    return result


# -- real kernels -------------------------------------------------------------------------------


async def test_kernel_runs_in_environment(venv: Path, kernel_dir: Path, tmp_path: Path) -> None:
    envmod = make_envmod(kernel_dir, kernel_env={"ENVMOD_SITE": "site value"})
    info = kernels.write_kernel(envmod, Templates(), target_for(venv))
    assert info.name == "envmod-demo"
    assert info.display_name == f"Python {PYTHON_SHORT} (demo)"
    env = kernel_env(SLURM_CPUS_PER_TASK="3", MKL_NUM_THREADS="7", PYTHONPATH=str(tmp_path / "leak"))
    async with started(kernel_dir, info.name, env, tmp_path) as (manager, client):
        seen = await report(client)
        assert seen["prefix"] == str(venv)
        assert seen["executable"] == str(venv / "bin" / "python")
        assert seen["pid"] == manager.provisioner.pid  # the launcher exec'd: signals reach the kernel
        variables = seen["env"]
        assert variables["OMP_NUM_THREADS"] == "3"
        assert variables["OPENBLAS_NUM_THREADS"] == "3"
        assert variables["NUMEXPR_NUM_THREADS"] == "3"
        assert variables["MKL_NUM_THREADS"] == "7"  # already set: kept
        assert variables["ENVMOD_SITE"] == "site value"
        assert variables["PYTHONNOUSERSITE"] == "1"
        assert "PYTHONPATH" not in variables
        assert str(tmp_path / "leak") not in seen["path"]

        # interrupt a running cell: KeyboardInterrupt in the reply, and the kernel lives on
        msg_id = client.execute("import time\nprint('sleeping', flush=True)\ntime.sleep(30)")
        while True:
            msg = await client.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                break
        await manager.interrupt_kernel()
        reply = await client.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        content, out = await run(client, "print(6 * 7)")
        assert content["status"] == "ok"
        assert out == "42\n"
        assert await manager.is_alive()


async def test_threads_from_affinity_and_pythonpath_kept(venv: Path, kernel_dir: Path, tmp_path: Path) -> None:
    envmod = make_envmod(kernel_dir, kernel_keep_pythonpath=True)
    info = kernels.write_kernel(envmod, Templates(), target_for(venv))
    extra = tmp_path / "extra"
    extra.mkdir()
    async with started(kernel_dir, info.name, kernel_env(PYTHONPATH=str(extra)), tmp_path) as (_, client):
        seen = await report(client)
        assert seen["env"]["OMP_NUM_THREADS"] == str(expected_cpus())
        assert seen["env"]["PYTHONPATH"] == str(extra)
        assert str(extra) in seen["path"]


async def test_single_cpu_affinity(venv: Path, kernel_dir: Path, tmp_path: Path) -> None:
    """A kernel whose process may only use CPU 0 (as in a one-core job) gets one thread."""
    info = kernels.write_kernel(make_envmod(kernel_dir), Templates(), target_for(venv))
    async with started(kernel_dir, info.name, kernel_env(), tmp_path, prefix=("taskset", "-c", "0")) as (_, client):
        seen = await report(client)
        assert seen["affinity"] == [0]
        assert seen["env"]["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize("kind", ["lmod", "environment-modules"])
async def test_module_dependency_reaches_kernel(venv: Path, kernel_dir: Path, tmp_path: Path, kind: str) -> None:
    root = write_dep_module(tmp_path / "modules")
    command = LMOD_CMD if kind == "lmod" else MODULES_CMD
    info = kernels.write_kernel(
        make_envmod(kernel_dir),
        Templates(),
        target_for(venv, modules=(DEP_MODULE,)),
        module_system={"kind": kind, "command": str(command), "modulepath": [str(root)]},
        modulepath=[str(root)],
    )
    assert info.modules == [DEP_MODULE]
    settings = json.loads((info.dir / "launcher.json").read_text())
    assert settings["module_system"] == {"kind": kind, "command": str(command)}
    assert settings["modulepath"] == [str(root)]
    env = kernel_env()
    assert not any(k.startswith(("LMOD", "MODULE", "LOADEDMODULES")) for k in env)
    async with started(kernel_dir, info.name, env, tmp_path) as (_, client):
        seen = await report(client)
        assert seen["env"][DEP_VARIABLE] == DEP_VALUE
        assert str(root / "testdep-bin") in seen["env"]["PATH"].split(":")
        assert seen["prefix"] == str(venv)


async def test_missing_module_fails_kernel_start(venv: Path, kernel_dir: Path, tmp_path: Path) -> None:
    root = write_dep_module(tmp_path / "modules")
    info = kernels.write_kernel(
        make_envmod(kernel_dir),
        Templates(),
        target_for(venv, modules=("envmod-nosuch/9.9",)),
        module_system={"kind": "lmod", "command": str(LMOD_CMD)},
        modulepath=[str(root)],
    )
    log = tmp_path / "kernel-stderr.txt"
    with open(log, "w") as stderr:
        async with started(kernel_dir, info.name, kernel_env(), tmp_path, stderr=stderr, ready=False) as (
            manager,
            client,
        ):
            with pytest.raises(RuntimeError, match="Kernel died"):
                await client.wait_for_ready(timeout=30)
            assert not await manager.is_alive()
            assert manager.provisioner.process.returncode not in (0, None)
    text = log.read_text()
    assert "envmod-nosuch/9.9" in text
    assert f"environment 'demo' ({venv})" in text
    assert "the kernel was not started" in text


async def test_nasty_names_and_paths(venv: Path, tmp_path: Path) -> None:
    """Name, display name, environment path and kernel directory full of quoting
    hazards: kernel.json parses, every value comes back literally, the kernel runs."""
    nasty_dir = tmp_path / NASTY
    nasty_dir.mkdir()
    prefix = nasty_dir / f"env {NASTY}"
    prefix.symlink_to(venv, target_is_directory=True)
    # kernel_dir is site configuration, where $VAR is expanded: no '$' there
    kernel_dir = tmp_path / f"kernels {NASTY.replace('$', '')}"
    envmod = make_envmod(kernel_dir)
    info = kernels.write_kernel(envmod, Templates(), target_for(prefix, name=NASTY), display_name=f"Py {NASTY}")
    assert info.name == "envmod-we-ird-env-home-id-e"
    spec = json.loads((info.dir / "kernel.json").read_text(encoding="utf-8"))
    assert spec["display_name"] == f"Py {NASTY}"
    assert spec["argv"] == [str(prefix / "bin" / "python"), str(info.dir / "launcher.py"), "-f", "{connection_file}"]
    assert spec["metadata"]["envmod"]["path"] == str(prefix)
    assert spec["metadata"]["envmod"]["name"] == NASTY
    settings = json.loads((info.dir / "launcher.json").read_text(encoding="utf-8"))
    assert settings["environment"] == {
        "name": NASTY,
        "path": str(prefix),
        "kind": "venv",
        "engine": "venv",
        "python_version": PYTHON_VERSION,
        "created": "2025-01-02T03:04:05Z",
    }
    listed = kernels.list_kernels(envmod)
    assert [(i.name, i.display_name, i.env_path, i.env_name) for i in listed] == [
        (info.name, f"Py {NASTY}", str(prefix), NASTY)
    ]
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)]).get_all_specs()
    assert specs[info.name]["spec"]["display_name"] == f"Py {NASTY}"
    # the default display name carries the name literally too
    assert kernels.kernel_names(envmod, target_for(prefix, name=NASTY)) == (
        info.name,
        f"Python {PYTHON_SHORT} ({NASTY})",
    )

    async with started(kernel_dir, info.name, kernel_env(), tmp_path) as (_, client):
        seen = await report(client)
        assert seen["prefix"] == str(prefix)


# -- kernelspecs on disk (no kernel started) ------------------------------------------------------


def test_kernelspec_files(tmp_path: Path, kernel_dir: Path) -> None:
    prefix = fake_env(tmp_path / "env")
    envmod = make_envmod(kernel_dir, kernel_env={"A": "1"}, module_timeout=12.5)
    system = {"kind": "lmod", "command": "/opt/lmod/libexec/lmod", "modulepath": ["/ignored"]}
    info = kernels.write_kernel(
        envmod, Templates(), target_for(prefix, modules=("gcc/12.2.0",)), module_system=system, modulepath=["/mods"]
    )
    assert sorted(p.name for p in info.dir.iterdir()) == [
        "kernel.json",
        "launcher.json",
        "launcher.py",
        "logo-64x64.png",
        "logo-svg.svg",
    ]
    assert [p.name for p in kernel_dir.iterdir()] == ["envmod-demo"]  # no staging directory left
    spec = json.loads((info.dir / "kernel.json").read_text())
    assert spec == {
        "argv": [str(prefix / "bin" / "python"), str(info.dir / "launcher.py"), "-f", "{connection_file}"],
        "display_name": f"Python {PYTHON_SHORT} (demo)",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {
            "debugger": True,
            "envmod": {
                "version": 1,
                "name": "demo",
                "path": str(prefix),
                "engine": "venv",
                "created": "2025-01-02T03:04:05Z",
                "python_version": PYTHON_VERSION,
                "modules": ["gcc/12.2.0"],
            },
        },
    }
    assert json.loads((info.dir / "launcher.json").read_text()) == {
        "version": 1,
        "environment": {
            "name": "demo",
            "path": str(prefix),
            "kind": "venv",
            "engine": "venv",
            "python_version": PYTHON_VERSION,
            "created": "2025-01-02T03:04:05Z",
        },
        "thread_variables": THREADS,
        "modules": ["gcc/12.2.0"],
        "module_system": {"kind": "lmod", "command": "/opt/lmod/libexec/lmod"},
        "modulepath": ["/mods"],
        "kernel_env": {"A": "1"},
        "keep_pythonpath": False,
        "module_timeout": 12.5,
    }
    assert (info.dir / "launcher.py").read_text() == (BUILTIN_DIR / "launcher.py").read_text()
    assert info == KernelSpecInfo(
        name="envmod-demo",
        dir=kernel_dir / "envmod-demo",
        display_name=f"Python {PYTHON_SHORT} (demo)",
        env_path=str(prefix),
        engine="venv",
        created="2025-01-02T03:04:05Z",
        modules=["gcc/12.2.0"],
        orphan=None,
        env_name="demo",
    )
    assert info.to_json()["dir"] == str(kernel_dir / "envmod-demo")
    json.dumps(info.to_json())

    # an ordinary static kernelspec: Jupyter lists it with its logos
    specs = KernelSpecManager(kernel_dirs=[str(kernel_dir)]).get_all_specs()
    assert specs["envmod-demo"]["resource_dir"] == str(info.dir)
    assert specs["envmod-demo"]["spec"]["display_name"] == f"Python {PYTHON_SHORT} (demo)"
    assert specs["envmod-demo"]["spec"]["metadata"]["envmod"]["path"] == str(prefix)


def test_logos_are_valid() -> None:
    png = (BUILTIN_DIR / "logo-64x64.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind, data = png[offset + 4 : offset + 8], png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + data) == crc
        chunks[kind] = data
        offset += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, color) == (64, 64, 8, 6)
    assert len(zlib.decompress(chunks[b"IDAT"])) == 64 * (1 + 64 * 4)
    svg = (BUILTIN_DIR / "logo-svg.svg").read_text()
    assert svg.startswith("<svg ")
    assert 'viewBox="0 0 64 64"' in svg


def test_rewrite_replaces_the_directory(tmp_path: Path, kernel_dir: Path) -> None:
    prefix = fake_env(tmp_path / "env")
    envmod = make_envmod(kernel_dir)
    first = kernels.write_kernel(envmod, Templates(), target_for(prefix))
    (first.dir / "stray.txt").write_text("left by hand")
    second = kernels.write_kernel(envmod, Templates(), target_for(prefix), display_name="Mine")
    assert second.name == first.name
    assert not (second.dir / "stray.txt").exists()
    assert second.display_name == "Mine"
    assert [p.name for p in kernel_dir.iterdir()] == [first.name]


# -- names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "name", "expected"),
    [
        ("envmod-{name}", "demo", "envmod-demo"),
        ("envmod-{name}", "My Env (GPU)", "envmod-my-env-gpu"),
        ("envmod-{name}", "Ünïcödé", "envmod-unicode"),
        ("envmod-{name}", "данные", "envmod"),
        ("{name}-py{python_version}", "demo", f"demo-py{PYTHON_SHORT}"),
        ("{name}-{engine}-{arch}", "x", f"x-conda-{platform.machine().lower()}"),
        ("{name}", "..", "envmod"),
        ("{name}", "-._x._-", "x"),
        ("{name}", "a" * 300, "a" * 100),
    ],
)
def test_kernel_name_from_template(tmp_path: Path, kernel_dir: Path, template: str, name: str, expected: str) -> None:
    envmod = make_envmod(kernel_dir, kernel_name_template=template)
    got, display = kernels.kernel_names(envmod, target_for(tmp_path, name=name, engine="conda"))
    assert got == expected
    assert display == f"Python {PYTHON_SHORT} ({name})"


def test_display_name_template(tmp_path: Path, kernel_dir: Path) -> None:
    envmod = make_envmod(kernel_dir, kernel_display_name_template="{name} [{engine}, py{python_version}]")
    assert kernels.kernel_names(envmod, target_for(tmp_path))[1] == f"demo [venv, py{PYTHON_SHORT}]"


def test_names_unique_and_stable(tmp_path: Path, kernel_dir: Path) -> None:
    envmod = make_envmod(kernel_dir)
    a, b, c = (fake_env(tmp_path / root / "demo") for root in ("a", "b", "c"))
    info_a = kernels.write_kernel(envmod, Templates(), target_for(a))
    info_b = kernels.write_kernel(envmod, Templates(), target_for(b))
    info_c = kernels.write_kernel(envmod, Templates(), target_for(c))
    assert [info_a.name, info_b.name, info_c.name] == ["envmod-demo", "envmod-demo-2", "envmod-demo-3"]
    # writing again keeps each environment's name
    for prefix, info in ((a, info_a), (b, info_b), (c, info_c)):
        assert kernels.kernel_names(envmod, target_for(prefix))[0] == info.name
        assert kernels.write_kernel(envmod, Templates(), target_for(prefix)).name == info.name
    # a gap left by a removed kernel does not rename the others; a new environment takes it
    kernels.remove_kernel(envmod, "envmod-demo")
    assert kernels.kernel_names(envmod, target_for(c))[0] == "envmod-demo-3"
    d = fake_env(tmp_path / "d" / "demo")
    assert kernels.kernel_names(envmod, target_for(d))[0] == "envmod-demo"
    # the same environment through a symlink is the same environment
    (tmp_path / "link").symlink_to(b)
    assert kernels.kernel_names(envmod, target_for(tmp_path / "link"))[0] == "envmod-demo-2"


def test_foreign_kernelspecs_are_skipped(tmp_path: Path, kernel_dir: Path) -> None:
    envmod = make_envmod(kernel_dir)
    for name in ("envmod-demo", "EnvMod-Demo-2"):
        (kernel_dir / name).mkdir(parents=True)
        (kernel_dir / name / "kernel.json").write_text(json.dumps({"argv": ["x"], "display_name": "x"}))
    (kernel_dir / "envmod-demo-3").mkdir()  # an empty directory is taken too
    (kernel_dir / "envmod-demo-1").mkdir()  # not one of our numbered names
    prefix = fake_env(tmp_path / "env")
    assert kernels.kernel_names(envmod, target_for(prefix))[0] == "envmod-demo-4"
    with pytest.raises(InvalidInput, match="not made by jupyter_envmod; choose another kernel name"):
        kernels.write_kernel(envmod, Templates(), target_for(prefix), name="envmod-demo")
    assert (kernel_dir / "envmod-demo" / "kernel.json").read_text().startswith('{"argv": ["x"]')


# -- listing, orphans, repair, removal ------------------------------------------------------------


def test_list_kernels_and_orphans(tmp_path: Path, kernel_dir: Path) -> None:
    envmod = make_envmod(kernel_dir)
    assert kernels.list_kernels(envmod) == []  # kernel_dir does not exist yet
    good = fake_env(tmp_path / "good")
    gone = fake_env(tmp_path / "gone")
    broken = fake_env(tmp_path / "broken")
    for prefix in (good, gone, broken):
        kernels.write_kernel(envmod, Templates(), target_for(prefix, name=prefix.name))
    (gone / "bin" / "python").unlink()
    for path in sorted(gone.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    gone.rmdir()
    (broken / "bin" / "python").unlink()
    (broken / "bin" / "python").symlink_to(tmp_path / "no-such-python")  # its base Python was removed
    # foreign kernelspecs, files and hidden directories are not listed
    (kernel_dir / "python3").mkdir()
    (kernel_dir / "python3" / "kernel.json").write_text(json.dumps({"argv": ["python3"], "display_name": "P"}))
    (kernel_dir / "notes.txt").write_text("")
    (kernel_dir / "bad-json").mkdir()
    (kernel_dir / "bad-json" / "kernel.json").write_text("{")

    listed = kernels.list_kernels(envmod)
    assert [(i.name, i.orphan) for i in listed] == [
        ("envmod-broken", "python missing"),
        ("envmod-gone", "environment missing"),
        ("envmod-good", None),
    ]
    assert [i.name for i in kernels.kernels_for(envmod, good)] == ["envmod-good"]
    assert [i.name for i in kernels.kernels_for(envmod, str(gone))] == ["envmod-gone"]
    assert kernels.kernels_for(envmod, tmp_path / "other") == []
    assert kernels.read_kernel(envmod, "envmod-good") == listed[2]
    assert kernels.read_kernel(envmod, "python3") is None
    assert kernels.read_kernel(envmod, "nope") is None


def test_repair_from_what_the_spec_recorded(tmp_path: Path, kernel_dir: Path) -> None:
    prefix = fake_env(tmp_path / "env")
    envmod = make_envmod(kernel_dir)
    system = {"kind": "environment-modules", "command": str(MODULES_CMD)}
    info = kernels.write_kernel(
        envmod,
        Templates(),
        target_for(prefix, modules=(DEP_MODULE,)),
        display_name="My chosen name",
        module_system=system,
        modulepath=["/mods"],
    )
    # damage it: the launcher is gone and the settings are stale
    (info.dir / "launcher.py").unlink()
    envmod.kernel_env = {"NEW": "value"}
    repaired = kernels.rewrite_kernel(envmod, Templates(), info)
    assert repaired == info
    assert (repaired.dir / "launcher.py").read_text() == (BUILTIN_DIR / "launcher.py").read_text()
    settings = json.loads((repaired.dir / "launcher.json").read_text())
    assert settings["kernel_env"] == {"NEW": "value"}
    assert settings["modules"] == [DEP_MODULE]
    assert settings["module_system"] == system
    assert settings["modulepath"] == ["/mods"]
    assert settings["environment"]["python_version"] == PYTHON_VERSION
    assert json.loads((repaired.dir / "kernel.json").read_text())["display_name"] == "My chosen name"
    # a module system given now replaces the recorded one
    lmod = {"kind": "lmod", "command": str(LMOD_CMD)}
    kernels.rewrite_kernel(envmod, Templates(), info, module_system=lmod)
    assert json.loads((repaired.dir / "launcher.json").read_text())["module_system"] == lmod


def test_repair_without_launcher_json(tmp_path: Path, kernel_dir: Path) -> None:
    """A spec whose launcher.json was lost: the rest comes from kernel.json and the
    environment's own Python."""
    prefix = fake_env(tmp_path / "env")
    envmod = make_envmod(kernel_dir)
    info = kernels.write_kernel(envmod, Templates(), target_for(prefix, modules=("gcc/12",)))
    (info.dir / "launcher.json").unlink()
    spec = json.loads((info.dir / "kernel.json").read_text())
    del spec["metadata"]["envmod"]["python_version"]
    (info.dir / "kernel.json").write_text(json.dumps(spec))
    repaired = kernels.rewrite_kernel(envmod, Templates(), kernels.read_kernel(envmod, info.name) or info)
    settings = json.loads((repaired.dir / "launcher.json").read_text())
    assert settings["modules"] == ["gcc/12"]
    assert settings["environment"]["python_version"] == PYTHON_VERSION
    assert settings["environment"]["kind"] == "venv"


def test_orphans_are_not_repaired(tmp_path: Path, kernel_dir: Path) -> None:
    prefix = fake_env(tmp_path / "env", python=False)
    envmod = make_envmod(kernel_dir)
    info = kernels.write_kernel(envmod, Templates(), target_for(prefix))
    assert info.orphan == "python missing"
    with pytest.raises(InvalidInput, match="cannot be repaired \\(python missing"):
        kernels.rewrite_kernel(envmod, Templates(), info)


def test_remove_kernel(tmp_path: Path, kernel_dir: Path) -> None:
    envmod = make_envmod(kernel_dir)
    info = kernels.write_kernel(envmod, Templates(), target_for(fake_env(tmp_path / "env")))
    (kernel_dir / "python3").mkdir()
    (kernel_dir / "python3" / "kernel.json").write_text(json.dumps({"argv": ["python3"], "display_name": "P"}))
    with pytest.raises(InvalidInput, match=r"'python3' .* was not made by jupyter_envmod"):
        kernels.remove_kernel(envmod, "python3")
    assert (kernel_dir / "python3" / "kernel.json").is_file()
    with pytest.raises(NotFound, match="no kernel 'nope'"):
        kernels.remove_kernel(envmod, "nope")
    for bad in ("../python3", "a/b", "..", ".hidden", ""):
        with pytest.raises(InvalidInput, match="is not a kernel name"):
            kernels.remove_kernel(envmod, bad)
    removed = kernels.remove_kernel(envmod, info.name)
    assert removed == info
    assert not info.dir.exists()
    assert kernels.list_kernels(envmod) == []


# -- site templates ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ('{"argv": [], "display_name": "{{ kernel.display_name }}"}', "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"argv": [], "display_name": "x"}', "'argv' must be a non-empty list of strings"),
        ('{"argv": ["python"], "display_name": "x"}', 'must pass "{connection_file}"'),
        ('{"argv": ["python", "{connection_file}"], "display_name": ""}', "'display_name' must be a non-empty"),
        ('{"argv": ["python", "{connection_file}"], "display_name": "x"}', "'metadata.envmod.path' must name"),
    ],
)
def test_bad_site_kernel_template(tmp_path: Path, kernel_dir: Path, template: str, error: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "kernel.json").write_text(template)
    envmod = make_envmod(kernel_dir)
    prefix = fake_env(tmp_path / "env")
    old = kernels.write_kernel(envmod, Templates(), target_for(prefix))
    before = (old.dir / "kernel.json").read_text()
    with pytest.raises(KernelTemplateError, match=error) as caught:
        kernels.write_kernel(envmod, Templates([str(site)]), target_for(prefix, name='say "hi"'), name=old.name)
    assert isinstance(caught.value, TemplateError)
    assert caught.value.file == str(site / "kernel.json")
    assert (old.dir / "kernel.json").read_text() == before  # nothing written
    assert [p.name for p in kernel_dir.iterdir()] == [old.name]


def test_site_templates_and_logos(tmp_path: Path, kernel_dir: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    builtin = (BUILTIN_DIR / "kernel.json").read_text()
    (site / "kernel.json").write_text(builtin.replace('"env": {}', '"env": {"SUPPORT": {{ site.support | json }}}'))
    (site / "logo-svg.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    envmod = make_envmod(kernel_dir, template_variables={"support": 'https://help.example/"q"'})
    info = kernels.write_kernel(envmod, Templates([str(site)]), target_for(fake_env(tmp_path / "env")))
    spec = json.loads((info.dir / "kernel.json").read_text())
    assert spec["env"] == {"SUPPORT": 'https://help.example/"q"'}
    assert (info.dir / "logo-svg.svg").read_text() == "<svg xmlns='http://www.w3.org/2000/svg'/>"
    assert (info.dir / "logo-64x64.png").read_bytes() == (BUILTIN_DIR / "logo-64x64.png").read_bytes()


def test_undefined_variable_in_site_template(tmp_path: Path, kernel_dir: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "kernel.json").write_text('{\n"argv": ["{{ env.pythn }}"]\n}\n')
    envmod = make_envmod(kernel_dir)
    with pytest.raises(TemplateError, match="pythn") as caught:
        kernels.write_kernel(envmod, Templates([str(site)]), target_for(fake_env(tmp_path / "env")))
    assert (caught.value.file, caught.value.line) == (str(site / "kernel.json"), 2)
    assert not kernel_dir.exists() or list(kernel_dir.iterdir()) == []


def test_builtin_kernel_templates_pass_the_check() -> None:
    errors = [e for e in Templates().check(EnvMod()) if Path(e.file).name in ("kernel.json", "launcher.py")]
    assert errors == []


def test_concurrent_writes_of_one_kernel(tmp_path: Path, kernel_dir: Path) -> None:
    """Writers of the same environment's kernel at once (a server and the CLI both
    repairing): each succeeds, the last one wins, no debris is left."""
    envmod = make_envmod(kernel_dir)
    prefix = fake_env(tmp_path / "env")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(kernels.write_kernel, envmod, Templates(), target_for(prefix), display_name=f"take {i}")
            for i in range(8)
        ]
        results = [f.result() for f in futures]
    assert {r.name for r in results} == {"envmod-demo"}
    assert [p.name for p in kernel_dir.iterdir()] == ["envmod-demo"]
    spec = json.loads((kernel_dir / "envmod-demo" / "kernel.json").read_text())
    assert spec["display_name"] in {f"take {i}" for i in range(8)}
