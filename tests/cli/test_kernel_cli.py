"""`jupyter envmod create -j`, `kernel`, `kernels`, `module` and `modules` through the
installed entry point (conda-env-mod's -j/-m/-a flags): the kernel a real
jupyter_client starts, the module lines printed, listing with orphans, removal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from tests.modsys import DEP_MODULE, DEP_VARIABLE, LMOD_CMD, clean_environ, run_shell, write_dep_module


@pytest.fixture
def cli(tmp_path, local_channel):
    home = tmp_path / "home"
    home.mkdir()
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    deps = write_dep_module(tmp_path / "deps")
    site = {
        "env_dirs": [str(tmp_path / "envs")],
        "cache_dir": str(cache),
        "channels": [local_channel.url],
        "default_python": ".".join(local_channel.python_version.split(".")[:2]),
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({"EnvMod": site}))
    # a shell where Lmod is initialised and the dependency module is loaded
    env = clean_environ(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(config_dir),
        JUPYTER_DATA_DIR=str(home / "data"),
        LMOD_CMD=str(LMOD_CMD),
        MODULEPATH=str(deps),
        LOADEDMODULES=DEP_MODULE,
    )
    env = {k: v for k, v in env.items() if not k.startswith(("CONDA", "VIRTUAL_ENV")) and k != "JUPYTER_PATH"}
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([jupyter, "envmod", *args], capture_output=True, text=True, env=env, timeout=300)

    run.env = env  # type: ignore[attr-defined]
    run.home = home  # type: ignore[attr-defined]
    return run


def test_create_j_gives_a_kernel_that_runs_and_module_files_that_load(cli, tmp_path):
    done = cli("create", "-y", "-n", "proj", "--engine", "venv", "-j", "--loaded-modules", "-m", str(tmp_path / "mods"))
    assert done.returncode == 0, done.stderr
    assert "Jupyter kernel: 'Python" in done.stdout
    assert f"module use {tmp_path / 'mods'}" in done.stdout
    load_line = next(line.strip() for line in done.stdout.splitlines() if line.strip().startswith("module load"))

    kernel_dir = cli.home / "data" / "kernels" / "envmod-proj"
    assert (kernel_dir / "kernel.json").is_file()
    listed = json.loads(cli("kernels", "--json").stdout)
    assert [(k["name"], k["orphan"]) for k in listed] == [("envmod-proj", None)]

    # the kernel jupyter_client starts runs in the environment with the recorded module loaded
    os.environ["JUPYTER_PATH"] = str(cli.home / "data")
    try:
        km, kc = start_new_kernel(kernel_name="envmod-proj", env=clean_environ(HOME=str(cli.home)), startup_timeout=120)
    finally:
        del os.environ["JUPYTER_PATH"]
    try:
        outputs: list[dict] = []
        code = f"import os, sys; print(sys.prefix, os.environ.get('{DEP_VARIABLE}'))"
        reply = kc.execute_interactive(code, timeout=60, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok"
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        assert str(tmp_path / "envs" / "proj") in text
        assert "loaded by envmod-testdep" in text
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    # the printed lines load the module under real Lmod
    out = run_shell(
        "lmod",
        "bash",
        [f"module use {tmp_path / 'mods'}", load_line, "python -c 'import sys; print(sys.prefix)'", "module list"],
        env=clean_environ(MODULEPATH=str(tmp_path / "deps")),
    )
    assert out.returncode == 0, out.stderr
    assert str(tmp_path / "envs" / "proj") in out.stdout
    assert DEP_MODULE in out.stderr

    modules = json.loads(cli("modules", "--json", "-m", str(tmp_path / "mods")).stdout)
    assert {m["format"] for m in modules} >= {"lua", "tcl"}
    described = cli("describe", "-n", "proj").stdout
    assert f"module deps:    {DEP_MODULE}" in described
    assert f"kernel:         {kernel_dir}" in described
    assert "module:         conda-env/proj-py" in described

    # deleting the environment removes its kernel and module files
    gone = cli("delete", "-y", "-n", "proj")
    assert gone.returncode == 0, gone.stderr
    assert not kernel_dir.exists()
    assert json.loads(cli("kernels", "--json").stdout) == []
    assert json.loads(cli("modules", "--json", "-m", str(tmp_path / "mods")).stdout) == []


def test_kernel_and_module_commands_orphans_and_removal(cli, tmp_path):
    assert cli("create", "-y", "-n", "a", "--no-module", "alpha").returncode == 0
    assert not (cli.home / "privatemodules").exists()
    made = cli("kernel", "-n", "a", "--display-name", "Alpha $HOME `x`")
    assert made.returncode == 0, made.stderr
    assert "Alpha $HOME `x`" in made.stdout
    mod = cli("module", "-n", "a", "-a", "mytools", "--format", "lua", "--format", "sh")
    assert mod.returncode == 0, mod.stderr
    assert "module load mytools/a-py" in mod.stdout
    assert f". {cli.home / '.local' / 'share' / 'jupyter' / 'envmod' / 'activate'}" not in mod.stdout  # data dir moved
    assert f". {cli.home / 'data' / 'envmod' / 'activate' / 'a-py'}" in mod.stdout

    # the environment disappears behind the tool's back: both are orphans, and removable
    shutil.rmtree(tmp_path / "envs" / "a")
    kernels = json.loads(cli("kernels", "--json").stdout)
    assert [k["orphan"] for k in kernels] == ["environment missing"]
    assert "ORPHAN" in cli("kernels").stdout
    modules = json.loads(cli("modules", "--json", "-a", "mytools").stdout)
    assert {m["orphan"] for m in modules} == {"environment missing"}
    assert cli("kernels", "--remove-orphans").returncode == 0
    assert cli("modules", "--remove-orphans", "-a", "mytools").returncode == 0
    assert json.loads(cli("kernels", "--json").stdout) == []
    assert json.loads(cli("modules", "--json", "-a", "mytools").stdout) == []


def test_bad_flags_are_rejected_with_exit_2(cli, tmp_path):
    bad = cli("create", "-y", "-n", "x", "--module-dep", "gcc; rm -rf ~", "alpha")
    assert bad.returncode == 2
    assert "module_deps" in bad.stderr
    assert not (tmp_path / "envs" / "x").exists()
    assert cli("kernel", "-n", "nosuch").returncode == 2
    assert Path(tmp_path / "envs").exists() is False or not any((tmp_path / "envs").iterdir())


def test_available_modules_and_the_loaded_modules_hint(cli, tmp_path):
    listed = cli("modules", "--available", "--json")
    assert listed.returncode == 0, listed.stderr
    assert DEP_MODULE in json.loads(listed.stdout)
    made = cli("create", "-y", "-n", "h", "--no-module", "alpha")
    assert made.returncode == 0, made.stderr
    assert f"Modules loaded in this shell but not recorded: {DEP_MODULE}" in made.stdout
