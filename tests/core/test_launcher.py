"""The kernel launcher (jupyter_envmod/templates/launcher.py) on its own.

Its CPU count is checked against fake cgroup v1/v2 trees and fake
/proc/self/cgroup files. The whole launcher is run as a subprocess next to a
``launcher.json``, with a stand-in ``ipykernel_launcher`` module in its working
directory (``python -m`` finds it first) that reports the environment, argv and
process id it was exec'd with — so each run takes a few hundredths of a second.
Module dependencies are loaded by the real Lmod and Environment Modules.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.templating import BUILTIN_DIR, Templates, sample_context
from tests.modsys import DEP_MODULE, DEP_VALUE, DEP_VARIABLE, LMOD_CMD, MODULES_CMD, clean_environ, write_dep_module

LAUNCHER = BUILTIN_DIR / "launcher.py"
THREADS = ["OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"]

FAKE_KERNEL = """\
import json, os, sys
json.dump({"argv": sys.argv[1:], "pid": os.getpid(), "env": dict(os.environ), "executable": sys.executable},
          sys.stdout)
"""


def load_launcher() -> ModuleType:
    """The launcher as a module (its main() does not run on import)."""
    spec = importlib.util.spec_from_file_location("envmod_kernel_launcher", LAUNCHER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launcher = load_launcher()


# -- the file itself ------------------------------------------------------------------------


def test_launcher_is_plain_python_for_3_8() -> None:
    source = LAUNCHER.read_text()
    ast.parse(source, feature_version=(3, 8))  # no syntax newer than the oldest supported environment
    for marker in ("{{", "{%", "{#"):
        assert marker not in source  # the built-in file carries no Jinja syntax
    # rendering it as a template changes nothing
    assert Templates().render("launcher.py", sample_context(EnvMod())) == source
    imports = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imports <= set(sys.stdlib_module_names)


# -- CPUs: fake cgroup trees ------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def v2_tree(root: Path, cgroup: str, limits: dict[str, str]) -> Path:
    """A cgroup v2 hierarchy at ``root`` and a /proc/self/cgroup naming ``cgroup``;
    ``limits`` maps cgroup directories (relative) to cpu.max contents."""
    write(root / "fs" / "cgroup.controllers", "cpuset cpu io memory pids\n")
    for directory, value in limits.items():
        write(root / "fs" / directory / "cpu.max", value + "\n")
    return write(root / "proc-cgroup", f"0::{cgroup}\n")


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"": "max 100000", "job": "max 100000"}, None),
        ({"job": "200000 100000"}, 2),
        ({"job": "150000 100000"}, 2),  # 1.5 CPUs: threads for 2
        ({"job": "50000 100000"}, 1),
        ({"job": "max"}, None),
        ({"job": "garbage"}, None),
        ({"": "100000 100000", "job": "400000 100000"}, 1),  # a parent's quota applies to its children
        ({"job/step": "300000 100000", "job": "max 100000"}, 3),
        ({}, None),
    ],
)
def test_cgroup_v2_quota(tmp_path: Path, limits: dict[str, str], expected: int | None) -> None:
    proc = v2_tree(tmp_path, "/job/step", limits)
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) == expected


def test_cgroup_v2_in_a_container(tmp_path: Path) -> None:
    """The recorded cgroup path does not exist below the container's cgroup mount:
    the mount root (the container's own cgroup) still limits."""
    proc = v2_tree(tmp_path, "/kubepods/pod1/abc", {"": "300000 100000"})
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) == 3


def test_cgroup_v2_hybrid_mount(tmp_path: Path) -> None:
    write(tmp_path / "fs" / "unified" / "cgroup.controllers", "\n")
    write(tmp_path / "fs" / "unified" / "job" / "cpu.max", "200000 100000\n")
    proc = write(tmp_path / "proc-cgroup", "1:name=systemd:/job\n0::/job\n")
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) == 2


@pytest.mark.parametrize("mount", ["cpu,cpuacct", "cpu"])
@pytest.mark.parametrize(
    ("quota", "period", "expected"),
    [("-1", "100000", None), ("300000", "100000", 3), ("250000", "100000", 3), ("100", "100000", 1)],
)
def test_cgroup_v1_quota(tmp_path: Path, mount: str, quota: str, period: str, expected: int | None) -> None:
    job = tmp_path / "fs" / mount / "slurm" / "uid_0" / "job_5"
    write(job / "cpu.cfs_quota_us", quota + "\n")
    write(job / "cpu.cfs_period_us", period + "\n")
    write(tmp_path / "fs" / mount / "cpu.cfs_quota_us", "-1\n")
    write(tmp_path / "fs" / mount / "cpu.cfs_period_us", "100000\n")
    (tmp_path / "fs" / "memory").mkdir()
    controllers = "cpu,cpuacct" if mount == "cpu,cpuacct" else "cpu"
    proc = write(
        tmp_path / "proc-cgroup",
        f"5:memory:/slurm/uid_0/job_5\n4:{controllers}:/slurm/uid_0/job_5\n0::/slurm/uid_0/job_5\n",
    )
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) == expected


def test_cgroup_v1_separate_cpu_and_cpuacct_mounts(tmp_path: Path) -> None:
    """The layout of this CI machine: 'cpu' and 'cpuacct' mounted on their own."""
    write(tmp_path / "fs" / "cpu" / "cpu.cfs_quota_us", "200000\n")
    write(tmp_path / "fs" / "cpu" / "cpu.cfs_period_us", "100000\n")
    (tmp_path / "fs" / "cpuacct").mkdir()
    proc = write(tmp_path / "proc-cgroup", "2:cpuacct:/\n1:cpu:/\n0::/\n")
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) == 2


@pytest.mark.parametrize("proc_text", [None, "", "garbage without colons\n", "0::/\n"])
def test_cgroup_unknown(tmp_path: Path, proc_text: str | None) -> None:
    proc = tmp_path / "proc-cgroup"
    if proc_text is not None:
        proc.write_text(proc_text)
    (tmp_path / "fs").mkdir()  # no controllers file: not a cgroup mount
    assert launcher.cgroup_cpu_limit(str(proc), str(tmp_path / "fs")) is None


def test_the_real_cgroup_is_readable() -> None:
    limit = launcher.cgroup_cpu_limit()
    assert limit is None or limit >= 1


# -- CPUs: Slurm and affinity ----------------------------------------------------------------


@pytest.fixture
def no_quota(tmp_path: Path) -> tuple[str, str]:
    return str(v2_tree(tmp_path, "/", {"": "max 100000"})), str(tmp_path / "fs")


@pytest.fixture
def quota_2(tmp_path: Path) -> tuple[str, str]:
    return str(v2_tree(tmp_path, "/", {"": "200000 100000"})), str(tmp_path / "fs")


def test_slurm_cpus_win_over_affinity(no_quota: tuple[str, str]) -> None:
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": "7"}, *no_quota) == 7
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": " 3\n"}, *no_quota) == 3


def test_affinity_when_no_slurm(no_quota: tuple[str, str]) -> None:
    assert launcher.job_cpus({}, *no_quota) == len(os.sched_getaffinity(0))


def test_quota_caps_slurm_and_affinity(quota_2: tuple[str, str]) -> None:
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": "16"}, *quota_2) == 2
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": "1"}, *quota_2) == 1
    assert launcher.job_cpus({}, *quota_2) == min(2, len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("value", ["abc", "0", "-4", "2.5", "2(x3)"])
def test_bad_slurm_values_are_ignored(
    value: str, no_quota: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": value}, *no_quota) == len(os.sched_getaffinity(0))
    assert f"ignoring SLURM_CPUS_PER_TASK={value!r}" in capsys.readouterr().err


def test_empty_slurm_value_is_unset(no_quota: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert launcher.job_cpus({"SLURM_CPUS_PER_TASK": ""}, *no_quota) == len(os.sched_getaffinity(0))
    assert capsys.readouterr().err == ""


def test_affinity_falls_back_to_cpu_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(launcher.os, "sched_getaffinity")
    assert launcher.affinity_cpus() == (os.cpu_count() or 1)


def test_thread_variables_set_unless_already_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launcher, "cgroup_cpu_limit", lambda *args: None)
    environ = {"SLURM_CPUS_PER_TASK": "5", "MKL_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": ""}
    launcher.set_thread_variables({"thread_variables": THREADS}, environ)
    assert environ["OMP_NUM_THREADS"] == "5"
    assert environ["MKL_NUM_THREADS"] == "2"  # set by the user: kept
    assert environ["OPENBLAS_NUM_THREADS"] == "5"  # set but empty: treated as unset


def test_no_cpu_work_when_nothing_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> int:
        raise AssertionError("job_cpus called")

    monkeypatch.setattr(launcher, "job_cpus", boom)
    launcher.set_thread_variables({"thread_variables": ["OMP_NUM_THREADS"]}, {"OMP_NUM_THREADS": "4"})
    launcher.set_thread_variables({"thread_variables": []}, {})


# -- environment --------------------------------------------------------------------------------


def test_kernel_env_and_pythonpath() -> None:
    environ = {"PYTHONPATH": "/leak", "A": "old"}
    launcher.apply_kernel_env({"kernel_env": {"A": "new", "B": "b"}}, environ)
    assert environ == {"A": "new", "B": "b", "PYTHONNOUSERSITE": "1"}
    environ = {"PYTHONPATH": "/keep"}
    launcher.apply_kernel_env({"keep_pythonpath": True}, environ)
    assert environ == {"PYTHONPATH": "/keep", "PYTHONNOUSERSITE": "1"}
    environ = {"PYTHONPATH": "/leak"}
    launcher.apply_kernel_env({"kernel_env": {"PYTHONPATH": "/site/choice"}}, environ)
    assert environ["PYTHONPATH"] == "/site/choice"  # the site's explicit value wins


def test_modulepath_extended() -> None:
    environ = {"MODULEPATH": "/a:/b"}
    launcher.extend_modulepath({"modulepath": ["/b", "/c"]}, environ)
    assert environ["MODULEPATH"] == "/a:/b:/c"
    environ = {}
    launcher.extend_modulepath({"modulepath": ["/c"]}, environ)
    assert environ["MODULEPATH"] == "/c"
    environ = {}
    launcher.extend_modulepath({"modulepath": []}, environ)
    assert environ == {}


def test_module_command_choice(tmp_path: Path) -> None:
    lmod = write(tmp_path / "lmod", "")
    other_lmod = write(tmp_path / "other-lmod", "")
    tcl = write(tmp_path / "modulecmd.tcl", "")
    recorded_lmod = {"module_system": {"kind": "lmod", "command": str(lmod)}}
    recorded_tcl = {"module_system": {"kind": "environment-modules", "command": str(tcl)}}
    env = {"PATH": os.environ["PATH"]}
    assert launcher.module_command(recorded_lmod, env) == [str(lmod)]
    # the running session's module system wins over the recorded one
    assert launcher.module_command(recorded_lmod, {**env, "LMOD_CMD": str(other_lmod)}) == [str(other_lmod)]
    assert launcher.module_command(recorded_tcl, env) == [shutil.which("tclsh"), str(tcl)]
    # a recorded command that no longer exists: whatever the session offers
    gone = {"module_system": {"kind": "lmod", "command": str(tmp_path / "gone")}}
    assert launcher.module_command(gone, {**env, "MODULES_CMD": str(tcl)}) == [shutil.which("tclsh"), str(tcl)]
    with pytest.raises(launcher.LaunchError, match=r"no module system found \(recorded: lmod at .*gone\)"):
        launcher.module_command(gone, env)
    with pytest.raises(launcher.LaunchError, match="LMOD_CMD and MODULES_CMD are not set"):
        launcher.module_command({}, env)


# -- the whole launcher in a subprocess ------------------------------------------------------


class LauncherDir:
    """A kernelspec-like directory with the launcher and its settings, and a working
    directory holding the stand-in kernel."""

    def __init__(self, root: Path, **settings: object):
        self.dir = root / "spec"
        self.dir.mkdir()
        shutil.copy(LAUNCHER, self.dir / "launcher.py")
        self.cwd = root / "cwd"
        self.cwd.mkdir()
        (self.cwd / "ipykernel_launcher.py").write_text(FAKE_KERNEL)
        self.settings: dict[str, object] = {
            "version": 1,
            "environment": {"name": "demo", "path": sys.prefix},
            "thread_variables": THREADS,
            "modules": [],
            "module_system": None,
            "modulepath": [],
            "kernel_env": {},
            "keep_pythonpath": False,
            "module_timeout": 30.0,
        }
        self.settings.update(settings)
        self.save()

    def save(self) -> None:
        (self.dir / "launcher.json").write_text(json.dumps(self.settings))

    def run(
        self, env: dict[str, str], *, prefix: tuple[str, ...] = (), timeout: float = 60
    ) -> tuple[subprocess.CompletedProcess[str], dict]:
        proc = subprocess.Popen(
            [*prefix, sys.executable, str(self.dir / "launcher.py"), "-f", "/tmp/kernel-x.json"],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        out, err = proc.communicate(timeout=timeout)
        done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        report = json.loads(out) if proc.returncode == 0 else {}
        if report:
            assert report["pid"] == proc.pid  # exec'd: the kernel keeps the launcher's process
        return done, report


def base_env(**extra: str) -> dict[str, str]:
    """The test's environment without module, thread or Slurm variables."""
    env = clean_environ()
    for name in [*THREADS, "SLURM_CPUS_PER_TASK", "PYTHONPATH", "PYTHONNOUSERSITE", "MODULEPATH"]:
        env.pop(name, None)
    env.update(extra)
    return env


def test_launcher_execs_the_kernel(tmp_path: Path) -> None:
    spec = LauncherDir(tmp_path, kernel_env={"SITE_VAR": "x y"})
    done, report = spec.run(base_env(SLURM_CPUS_PER_TASK="3", MKL_NUM_THREADS="9", PYTHONPATH="/leak"))
    assert done.returncode == 0, done.stderr
    assert report["argv"] == ["-f", "/tmp/kernel-x.json"]
    assert report["executable"] == sys.executable
    env = report["env"]
    assert (env["OMP_NUM_THREADS"], env["MKL_NUM_THREADS"], env["OPENBLAS_NUM_THREADS"]) == ("3", "9", "3")
    assert env["SITE_VAR"] == "x y"
    assert env["PYTHONNOUSERSITE"] == "1"
    assert "PYTHONPATH" not in env
    assert done.stderr == ""


def test_launcher_under_one_cpu(tmp_path: Path) -> None:
    spec = LauncherDir(tmp_path)
    done, report = spec.run(base_env(), prefix=("taskset", "-c", "0"))
    assert done.returncode == 0, done.stderr
    assert report["env"]["OMP_NUM_THREADS"] == "1"


@pytest.mark.parametrize("kind", ["lmod", "environment-modules"])
def test_launcher_loads_module_dependencies(tmp_path: Path, kind: str) -> None:
    root = write_dep_module(tmp_path / "modules")
    command = LMOD_CMD if kind == "lmod" else MODULES_CMD
    spec = LauncherDir(
        tmp_path,
        modules=[DEP_MODULE],
        module_system={"kind": kind, "command": str(command)},
        modulepath=[str(root)],
    )
    done, report = spec.run(base_env())
    assert done.returncode == 0, done.stderr
    env = report["env"]
    assert env[DEP_VARIABLE] == DEP_VALUE
    assert env["PATH"].split(":")[0] == str(root / "testdep-bin")
    assert str(root) in env["MODULEPATH"].split(":")
    assert DEP_MODULE in env["LOADEDMODULES"].split(":")


@pytest.mark.parametrize("kind", ["lmod", "environment-modules"])
def test_launcher_stops_on_a_missing_module(tmp_path: Path, kind: str) -> None:
    root = write_dep_module(tmp_path / "modules")
    command = LMOD_CMD if kind == "lmod" else MODULES_CMD
    spec = LauncherDir(
        tmp_path,
        environment={"name": "my env", "path": "/envs/my env"},
        modules=[DEP_MODULE, "envmod-nosuch/9.9"],
        module_system={"kind": kind, "command": str(command)},
        modulepath=[str(root)],
    )
    done, report = spec.run(base_env())
    assert done.returncode != 0
    assert report == {}  # the kernel never ran
    assert "envmod-nosuch/9.9" in done.stderr
    assert "'my env' (/envs/my env)" in done.stderr
    assert "the kernel was not started" in done.stderr
    assert "nosuch" in done.stderr.split("recreate the kernel without them.", 1)[1]  # the module system's words


def test_launcher_without_module_system(tmp_path: Path) -> None:
    spec = LauncherDir(tmp_path, modules=[DEP_MODULE], module_system=None)
    done, _ = spec.run(base_env())
    assert done.returncode != 0
    assert f"cannot load the module(s) {DEP_MODULE} of environment 'demo'" in done.stderr
    assert "no module system found" in done.stderr


def test_launcher_module_timeout(tmp_path: Path) -> None:
    slow = write(tmp_path / "slow-lmod", "#!/bin/sh\nsleep 30 &\nsleep 30\n")
    slow.chmod(0o755)
    spec = LauncherDir(
        tmp_path, modules=[DEP_MODULE], module_system={"kind": "lmod", "command": str(slow)}, module_timeout=0.5
    )
    started = time.monotonic()
    done, _ = spec.run(base_env(), timeout=20)
    assert time.monotonic() - started < 10  # the sleeping children were killed with the command
    assert done.returncode != 0
    assert "did not finish within 0.5 seconds" in done.stderr
    assert DEP_MODULE in done.stderr


def test_launcher_module_output_that_fails(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken-lmod", "#!/bin/sh\necho 'Lmod is not (configured'\n")
    broken.chmod(0o755)
    spec = LauncherDir(tmp_path, modules=[DEP_MODULE], module_system={"kind": "lmod", "command": str(broken)})
    done, _ = spec.run(base_env())
    assert done.returncode != 0
    assert "its output could not be run (SyntaxError" in done.stderr


@pytest.mark.parametrize("content", [None, "not json", "[1, 2]"])
def test_launcher_with_bad_settings(tmp_path: Path, content: str | None) -> None:
    spec = LauncherDir(tmp_path)
    if content is None:
        (spec.dir / "launcher.json").unlink()
    else:
        (spec.dir / "launcher.json").write_text(content)
    done, _ = spec.run(base_env())
    assert done.returncode != 0
    assert "launcher.json" in done.stderr
    assert "recreate this environment's kernel" in done.stderr
