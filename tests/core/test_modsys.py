"""The module system layer against the real Lmod and Environment Modules: what is
loaded (read from the environment, no subprocess), what is available (one cached
``-t avail`` run), and which dependency names are accepted."""

from __future__ import annotations

import pytest

from jupyter_envmod import modsys
from jupyter_envmod.errors import InvalidInput
from tests.modsys import DEP_MODULE, LMOD_CMD, MODULES_CMD, clean_environ, run_shell, write_dep_module


@pytest.fixture
def tree(tmp_path):
    root = write_dep_module(tmp_path / "modules")
    for name in ("gcc/12.2.0", "gcc/13.1", "openmpi/4.1.6"):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#%Module1.0\n")
    return root


@pytest.mark.parametrize("system", ["lmod", "tcl"])
def test_loaded_modules_come_from_the_shell_environment(system, tree):
    """What a user's shell exports after `module load` is what gets recorded."""
    out = run_shell(system, "bash", [f"module use {tree}", "module load gcc/12.2.0 " + DEP_MODULE, "env"])
    assert out.returncode == 0, out.stderr
    environ = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    assert modsys.loaded_modules(environ) == ["gcc/12.2.0", DEP_MODULE]
    deps = modsys.module_deps(["openmpi/4.1.6", "gcc/12.2.0"], capture_loaded=True, environ=environ)
    assert deps.modules == ("gcc/12.2.0", DEP_MODULE, "openmpi/4.1.6")
    assert str(tree) in deps.modulepath
    assert modsys.module_deps(["openmpi/4.1.6"], environ=environ).modules == ("openmpi/4.1.6",)
    assert modsys.module_deps([], environ=environ) == modsys.ModuleDeps()


@pytest.mark.parametrize(
    ("system", "environ"),
    [("lmod", {"LMOD_CMD": str(LMOD_CMD)}), ("environment-modules", {"MODULES_CMD": str(MODULES_CMD)})],
)
def test_available_modules_are_listed_and_cached(system, environ, tree):
    env = clean_environ(MODULEPATH=str(tree), **environ)
    cache = modsys.AvailableModules()
    names = cache.get(env)
    assert {"gcc/12.2.0", "gcc/13.1", "openmpi/4.1.6", DEP_MODULE} <= set(names)
    assert not [n for n in names if n.endswith((":", "/"))]
    (tree / "gcc" / "14.1").write_text("#%Module1.0\n")
    assert "gcc/14.1" not in cache.get(env)  # cached for the same module path
    assert "gcc/14.1" in cache.get(env, refresh=True)


def test_a_failing_avail_lists_nothing():
    """Environment Modules without any MODULEPATH exits 1 with 'ERROR: No module path
    defined': no module names (not "ERROR:")."""
    env = clean_environ(MODULES_CMD=str(MODULES_CMD))
    env.pop("MODULEPATH", None)
    assert modsys.AvailableModules().get(env) == []


def test_no_module_system_lists_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(modsys, "detect_module_system", lambda env: modsys.ModuleSystemInfo(None))
    assert modsys.AvailableModules().get({"PATH": "/usr/bin"}) == []


def test_parse_avail_drops_headers_and_markers():
    text = "/opt/modules:\ngcc/\ngcc/12.2.0\ngcc/13.1(D)\nopenmpi/4.1 (L)\npython/3.11(default)\n\n"
    assert modsys.parse_avail(text) == ["gcc/12.2.0", "gcc/13.1", "openmpi/4.1", "python/3.11"]


@pytest.mark.parametrize("name", ["gcc/12.2.0", "mpi/openmpi-x86_64", "intel/2023.1@foss", "cuda/12.2:cudnn"])
def test_module_names_accepted(name):
    assert modsys.check_module_name(f" {name} ") == name


@pytest.mark.parametrize("name", ["", "gcc 12", "gcc;rm -rf", "$(id)", "gcc/", "../x", "a/../b", "'q'", "x\ny"])
def test_module_names_refused_with_the_field(name):
    with pytest.raises(InvalidInput) as err:
        modsys.check_module_name(name)
    assert err.value.details["field"] == "module_deps"
    assert "gcc/12.2.0" in err.value.message
