"""Kernels and module files as operations on environments: create with a kernel and
module files, the kernel operation (ipykernel installed when missing), module files
regenerated after a rename, a colleague's environment left untouched, and delete
removing everything generated. Real uv and PyPI for ipykernel, the real rattler
engine on the local channel, real jupyter_client for the kernelspec listing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager

from jupyter_envmod import kernels, modulefiles, operations
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.operations import CreateOptions, Environments, has_ipykernel
from jupyter_envmod.outputs import OutputOptions
from jupyter_envmod.state import read_state
from jupyter_envmod.tasks import SUCCEEDED, Task
from tests.modsys import DEP_MODULE, write_dep_module


@pytest.fixture
def envmod(home, tmp_path, cache, local_channel) -> EnvMod:
    return EnvMod(
        env_dirs=[str(tmp_path / "envs")],
        cache_dir=str(cache),
        channels=[local_channel.url],
        default_python=".".join(local_channel.python_version.split(".")[:2]),
        kernel_dir=str(tmp_path / "kernels"),
        module_dir=str(tmp_path / "modules"),
        activate_dir=str(tmp_path / "activate"),
    )


@pytest.fixture
def envs(envmod) -> Environments:
    return Environments(envmod)


async def run(task: Task) -> Task:
    await task.wait()
    assert task.state == SUCCEEDED, task.error
    return task


def tree(path: Path) -> dict[str, tuple[int, float]]:
    return {str(p.relative_to(path)): (p.lstat().st_size, p.lstat().st_mtime) for p in path.rglob("*")}


async def test_create_with_kernel_and_module_files(envs, envmod, tmp_path):
    deps_root = write_dep_module(tmp_path / "deps")
    os.environ["MODULEPATH"] = str(deps_root)  # restored by the home fixture's monkeypatch
    opts = OutputOptions(kernel=True, module=True, display_name="My analysis", module_deps=[DEP_MODULE])
    task = await run(envs.create(CreateOptions(name="nb", engine="venv", outputs=opts)))
    result = task.result
    assert result is not None
    env = envs.find(name="nb")
    assert has_ipykernel(env.prefix)

    # the kernel: in kernel_dir, found by jupyter_client, pointing at the environment
    kernel = result["kernel"]
    assert kernel["name"] == "envmod-nb"
    assert kernel["display_name"] == "My analysis"
    spec = KernelSpecManager(kernel_dirs=[envmod.kernel_dir]).get_all_specs()["envmod-nb"]
    assert spec["spec"]["display_name"] == "My analysis"
    assert spec["spec"]["argv"][0] == str(env.prefix / "bin" / "python")
    assert spec["spec"]["metadata"]["envmod"]["path"] == env.path
    launcher = json.loads((Path(kernel["dir"]) / "launcher.json").read_text())
    assert launcher["modules"] == [DEP_MODULE]
    assert str(deps_root) in launcher["modulepath"]

    # module files in every default format, and how to use them
    module = result["module"]
    assert set(module["files"]) == set(envmod.module_formats)
    assert module["module"] == f"conda-env/nb-py{env.python_version}"
    assert any(line.startswith("module load ") for line in module["usage"]) or any(
        line.startswith("source ") for line in module["usage"]
    )

    # all of it recorded: the state and what describe/list show
    state = read_state(env.prefix)
    assert state is not None
    assert state.module_deps == [DEP_MODULE]
    assert state.generated["kernel"] == kernel["dir"]
    assert sorted(state.generated["modules"]) == sorted(module["files"].values())
    assert "ipykernel" in state.requested_pip
    listed = envs.describe(env)
    assert listed["kernel"] == kernel["dir"]
    assert listed["module_deps"] == [DEP_MODULE]

    # delete removes the environment, its kernel and every module file
    done = await run(envs.delete(env))
    assert done.result is not None
    removed = set(done.result["removed"])
    assert {kernel["dir"], *module["files"].values(), env.path} <= removed
    assert not Path(kernel["dir"]).exists()
    assert not [p for p in module["files"].values() if Path(p).exists()]
    assert "envmod-nb" not in KernelSpecManager(kernel_dirs=[envmod.kernel_dir]).find_kernel_specs()


async def test_conda_env_gets_ipykernel_from_pip_when_the_channels_lack_it(envs, envmod):
    await run(envs.create(CreateOptions(name="c", packages=["alpha"])))
    env = envs.find(name="c")
    assert not has_ipykernel(env.prefix)
    task = await run(envs.kernel(env))
    log = [e["line"] for e in task.log_since(0)[0]]
    assert any("do not offer ipykernel" in line for line in log)
    assert has_ipykernel(env.prefix)
    state = read_state(env.prefix)
    assert state is not None
    assert "ipykernel" in state.requested_pip
    assert [k.name for k in kernels.list_kernels(envmod)] == ["envmod-c"]
    # running it again repairs in place: same name, nothing installed
    again = await run(envs.kernel(envs.find(name="c")))
    assert any("already installed" in e["line"] for e in again.log_since(0)[0]) or not any(
        "installing ipykernel" in e["line"] for e in again.log_since(0)[0]
    )
    assert [k.name for k in kernels.list_kernels(envmod)] == ["envmod-c"]


async def test_conda_env_gets_ipykernel_as_a_conda_package_when_a_channel_has_it(
    envs, envmod, local_channel, ipykernel_channel, home
):
    channels = [local_channel.url, ipykernel_channel]
    await run(envs.create(CreateOptions(name="cc", packages=["alpha"], channels=channels)))
    env = envs.find(name="cc")
    task = await run(envs.kernel(env))
    log = [e["line"] for e in task.log_since(0)[0]]
    assert "installing ipykernel from the conda channels" in log
    assert not any("uv pip" in line for line in log)
    assert list((env.prefix / "conda-meta").glob("ipykernel-*.json"))
    state = read_state(env.prefix)
    assert state is not None
    assert "ipykernel" in state.requested_conda
    assert "ipykernel" not in state.requested_pip
    conda_ipykernel = {p.name: p.source for p in envs.packages(env)}
    assert conda_ipykernel["ipykernel"] == "conda"

    # and the kernel it got runs, from the conda-installed ipykernel
    manager = KernelManager(
        kernel_name="envmod-cc", kernel_spec_manager=KernelSpecManager(kernel_dirs=[envmod.kernel_dir])
    )
    manager.start_kernel(env={"PATH": os.environ["PATH"], "HOME": str(home)})
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        outputs: list[dict] = []
        code = "import sys, ipykernel; print(sys.prefix); print(ipykernel.__file__)"
        reply = client.execute_interactive(code, timeout=60, output_hook=outputs.append)
        assert reply["content"]["status"] == "ok"
        text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
        assert text.splitlines()[0] == env.path
        assert text.splitlines()[1].startswith(env.path + "/lib/")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


async def test_failed_kernel_step_leaves_no_environment(envs, envmod, tmp_path, monkeypatch):
    """A create that cannot finish its kernel removes the environment and what was written."""

    async def no_ipykernel(self, env, task):
        raise InvalidInput("no ipykernel today")

    monkeypatch.setattr(Environments, "_ensure_ipykernel", no_ipykernel)
    task = envs.create(CreateOptions(name="k", packages=["alpha"], outputs=OutputOptions(kernel=True, module=True)))
    await task.wait()
    assert task.state == "failed"
    assert not (tmp_path / "envs" / "k").exists()
    assert kernels.list_kernels(envmod) == []
    assert modulefiles.list_module_files(envmod) == []


def test_bad_output_options_are_refused_before_anything_is_written(envs, tmp_path):
    cases = [
        (OutputOptions(module=True, formats=["zsh"]), "formats"),
        (OutputOptions(module=True, module_dir="relative/dir"), "module_dir"),
        (OutputOptions(module=True, module_app="a/b"), "module_app"),
        (OutputOptions(kernel=True, module_deps=["gcc; rm -rf ~"]), "module_deps"),
        (OutputOptions(kernel=True, display_name="  "), "display_name"),
    ]
    for opts, field in cases:
        with pytest.raises(InvalidInput) as err:
            envs.create(CreateOptions(name="bad", engine="venv", outputs=opts))
        assert err.value.details["field"] == field
    assert not (tmp_path / "envs" / "bad").exists()


async def test_module_files_follow_a_python_version_change(envs, envmod):
    await run(envs.create(CreateOptions(name="m", packages=["alpha"])))
    env = envs.find(name="m")
    first = envs.module(env, OutputOptions(module=True))
    assert first["module"] == f"conda-env/m-py{env.python_version}"
    # a site that renames its modules: regenerating replaces the old files
    envmod.module_name_template = "{name}-{engine}"
    second = envs.module(envs.find(name="m"), OutputOptions(module=True))
    assert second["module"] == "conda-env/m-rattler"
    assert all(Path(p).exists() for p in second["files"].values())
    assert not [p for p in first["files"].values() if Path(p).exists()]
    assert {f.path for f in modulefiles.list_module_files(envmod)} == {Path(p) for p in second["files"].values()}
    removed = envs.remove_module(envs.find(name="m"))
    assert sorted(removed) == sorted(second["files"].values())
    assert modulefiles.list_module_files(envmod) == []


async def test_a_colleagues_environment_is_not_changed(envs, envmod, tmp_path):
    """Kernel and module files for an environment made elsewhere: written to the
    user's own directories; the environment itself stays byte for byte the same."""
    other = Environments(
        EnvMod(env_dirs=[str(tmp_path / "colleague")], channels=envmod.channels, cache_dir=envmod.cache_dir)
    )
    await run(other.create(CreateOptions(name="shared", engine="venv", pip_packages=["ipykernel"])))
    prefix = tmp_path / "colleague" / "shared"
    shutil.rmtree(prefix / ".envmod")  # made with other tools: nothing of ours in it
    before = tree(prefix)
    env = envs.find(path=str(prefix))
    await run(envs.kernel(env))
    result = envs.module(env, OutputOptions(module=True))
    assert tree(prefix) == before
    assert [k.env_path for k in kernels.list_kernels(envmod)] == [str(prefix)]
    assert all(
        Path(p).is_relative_to(tmp_path / "modules") or Path(p).is_relative_to(tmp_path / "activate")
        for p in result["files"].values()
    )


async def test_a_read_only_environment_without_ipykernel_is_refused(envs, monkeypatch):
    """As root every directory is writable, so the permission check is replaced here
    (the one stub in this file): the refusal must say who can change the environment."""
    await run(envs.create(CreateOptions(name="ro", packages=["alpha"])))
    monkeypatch.setattr(operations, "writable", lambda env: False)
    with pytest.raises(InvalidInput, match="owner: root"):
        envs.kernel(envs.find(name="ro"))
