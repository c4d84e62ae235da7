"""Module files and activation scripts, loaded by the real module systems and shells.

A real venv (uv) is the environment; Lmod and Environment Modules (tests/modsys.py)
load the generated ``.lua`` and TCL modules in bash and tcsh, and the activation
scripts are sourced in bash, sh (dash) and tcsh, with and without a module system.
Each case runs one shell that records the environment before, during and after, via
a small probe script printing JSON, so a case costs one process tree.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import uv

from jupyter_envmod import modulefiles
from jupyter_envmod.config import EnvMod
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.templating import (
    BUILTIN_DIR,
    FileNames,
    Target,
    TemplateError,
    Templates,
    safe_file_name,
    to_csh,
)
from tests.modsys import DEP_MODULE, DEP_VALUE, DEP_VARIABLE, clean_environ, run_shell, write_dep_module

PYTHON_VERSION = ".".join(map(str, sys.version_info[:3]))
SYSTEM_KIND = {"lmod": "lmod", "tcl": "environment-modules", "none": None}
FORMATS = ["lua", "tcl", "sh", "csh"]

#: what the site templates add: a thread variable, and a site value from template_variables
SITE_VALUE = "site value"
SITE_ADDITIONS = {
    "modulefile.lua": '\nsetenv("OMP_NUM_THREADS", "3")\nsetenv("ENVMOD_SITE", {{ site.value | lua }})\n',
    "modulefile.tcl": "\nsetenv OMP_NUM_THREADS 3\nsetenv ENVMOD_SITE {{ site.value | tcl }}\n",
    "activate.sh": "OMP_NUM_THREADS=3\nexport OMP_NUM_THREADS\nENVMOD_SITE={{ site.value | sh }}\nexport ENVMOD_SITE\n",
    "activate.csh": "setenv OMP_NUM_THREADS 3\nsetenv ENVMOD_SITE {{ site.value | csh }}\n",
}

#: a short PATH without duplicates (module systems drop duplicate entries)
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"

PROBE = """\
import json, os, sys
print("@@" + sys.argv[1] + " " + json.dumps({"prefix": sys.prefix, "env": dict(os.environ)}))
"""


def environ(**extra: str) -> dict[str, str]:
    """A fresh shell's environment: no module system, no active environment."""
    drop = ("VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "PYTHONNOUSERSITE", "OMP_NUM_THREADS", "ENVMOD_SITE")
    env = {k: v for k, v in clean_environ(PATH=BASE_PATH).items() if k not in drop}
    env.update(extra)
    return env


# -- fixtures ----------------------------------------------------------------------------------


def make_venv(path: Path) -> Path:
    """A real venv over this interpreter, made by uv."""
    subprocess.run(
        [
            uv.find_uv_bin(),
            "venv",
            "--quiet",
            "--no-managed-python",
            "--no-python-downloads",
            "-p",
            sys.executable,
            path,
        ],
        check=True,
        capture_output=True,
        env=environ(UV_NO_CONFIG="1"),
    )
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("modulefiles")


@pytest.fixture(scope="module")
def venv(base: Path) -> Path:
    return make_venv(base / "envs" / "tools")


@pytest.fixture(scope="module")
def deps(base: Path) -> Path:
    return write_dep_module(base / "deps")


@pytest.fixture(scope="module")
def probe(base: Path) -> Path:
    path = base / "probe.py"
    path.write_text(PROBE)
    return path


@pytest.fixture(scope="module")
def site_templates(base: Path) -> Path:
    """A site template directory: each built-in template plus a few lines."""
    directory = base / "site-templates"
    directory.mkdir()
    for name, addition in SITE_ADDITIONS.items():
        (directory / name).write_text((BUILTIN_DIR / name).read_text() + addition)
    return directory


def target_for(prefix: Path, kind: str, name: str = "tools", modules: tuple[str, ...] = (DEP_MODULE,)) -> Target:
    return Target(
        name=name,
        prefix=prefix,
        engine="venv" if kind == "venv" else "rattler",
        kind=kind,
        python_version=PYTHON_VERSION,
        created="2025-06-01T12:00:00Z",
        modules=modules,
    )


def site_envmod(base: Path, site_templates: Path, name: str, **traits: Any) -> EnvMod:
    traits.setdefault("template_variables", {"value": SITE_VALUE})
    traits.setdefault("module_dir", str(base / name / "modules"))
    traits.setdefault("activate_dir", str(base / name / "activate"))
    return EnvMod(template_dirs=[str(site_templates)], **traits)


class Written:
    """The files written for one target, the names and what a user types."""

    def __init__(self, envmod: EnvMod, target: Target, files: dict[str, Path], system: str):
        self.envmod = envmod
        self.target = target
        self.files = files
        self.names = modulefiles.file_names(envmod, target)
        self.usage = modulefiles.usage_lines(files, SYSTEM_KIND[system], self.names)


def write(envmod: EnvMod, target: Target, formats: list[str], system: str = "lmod") -> Written:
    files = modulefiles.write_module_files(
        envmod,
        Templates.for_site(envmod),
        target,
        formats,
        module_system={"kind": SYSTEM_KIND[system], "command": None, "modulepath": []},
    )
    return Written(envmod, target, files, system)


# -- running shells ----------------------------------------------------------------------------


def shell_quote(shell: str, text: str) -> str:
    return to_csh(text) if shell == "tcsh" else shlex.quote(text)


def run_probed(system: str, shell: str, lines: list[str], env: dict[str, str] | None = None) -> tuple[dict, Any]:
    """Run lines; the probes' records by label, and the completed process."""
    out = run_shell(system, shell, lines, env=env if env is not None else environ())
    records: dict[str, Any] = {}
    for line in out.stdout.splitlines():
        if line.startswith("@@"):
            label, _, data = line[2:].partition(" ")
            records[label] = json.loads(data)
    return records, out


def probe_line(probe: Path, label: str, python: str = "python") -> str:
    return f"{python} {probe} {label}"


# -- module files ------------------------------------------------------------------------------

MODULE_CASES = [
    ("lua", "lmod", "bash", "conda"),
    ("lua", "lmod", "tcsh", "venv"),
    ("tcl", "tcl", "bash", "venv"),
    ("tcl", "tcl", "tcsh", "conda"),
    ("tcl", "lmod", "bash", "conda"),
    ("tcl", "lmod", "tcsh", "venv"),
]


@pytest.mark.parametrize(("fmt", "system", "shell", "kind"), MODULE_CASES, ids=["-".join(c) for c in MODULE_CASES])
def test_module_loads_and_unloads(fmt, system, shell, kind, base, venv, deps, probe, site_templates):
    """`module use` + `module load` (the lines usage_lines gives) activates the
    environment with its dependency and the site's additions; `module unload`
    restores PATH exactly, the previous value of the environment variable, and
    unloads the dependency it loaded (but not one the user had loaded)."""
    envmod = site_envmod(base, site_templates, f"m-{fmt}-{system}-{shell}")
    written = write(envmod, target_for(venv, kind), [fmt], system)
    use, load = written.usage
    assert use == f"module use {shlex.quote(written.names.module_dir)}"
    assert load == f"module load conda-env/tools-py{PYTHON_VERSION}"
    full_name = load.split()[-1]
    host = shell_quote(shell, sys.executable)
    previous = "CONDA_PREFIX" if kind == "conda" else "VIRTUAL_ENV"
    records, out = run_probed(
        system,
        shell,
        [
            f"module use {deps}",
            use,
            probe_line(probe, "before", host),
            load,
            probe_line(probe, "loaded"),
            f"module list {'2>&1' if shell != 'tcsh' else ''}",
            f"module unload {full_name}",
            probe_line(probe, "unloaded", host),
            f"module load {DEP_MODULE}",
            load,
            f"module unload {full_name}",
            probe_line(probe, "kept", host),
        ],
        env=environ(**{previous: "/previous/env"}),
    )
    assert out.returncode == 0, out.stderr
    before, loaded, unloaded = records["before"]["env"], records["loaded"], records["unloaded"]["env"]
    assert loaded["prefix"] == str(venv)
    env = loaded["env"]
    assert env["PATH"] == f"{venv}/bin:{deps}/testdep-bin:{before['PATH']}"
    assert env["PYTHONNOUSERSITE"] == "1"
    assert env.get("LD_LIBRARY_PATH") == before.get("LD_LIBRARY_PATH")
    if kind == "conda":
        assert (env["CONDA_PREFIX"], env["CONDA_DEFAULT_ENV"]) == (str(venv), "tools")
        assert "VIRTUAL_ENV" not in env
    else:
        assert env["VIRTUAL_ENV"] == str(venv)
        assert "CONDA_PREFIX" not in env
    assert (env["OMP_NUM_THREADS"], env["ENVMOD_SITE"]) == ("3", SITE_VALUE)
    assert env[DEP_VARIABLE] == DEP_VALUE
    assert env["LOADEDMODULES"].split(":") == [DEP_MODULE, full_name]
    assert f"1) {DEP_MODULE}" in out.stdout + out.stderr  # module list (both systems number the entries)
    assert env["_LMFILES_"].split(":")[-1] == str(written.files[fmt])

    assert unloaded["PATH"] == before["PATH"]
    if (fmt, system) == ("tcl", "lmod"):
        # the TCL module uses setenv under Lmod (see the template): unload unsets it
        assert previous not in unloaded
    else:  # pushenv: the previous value is back
        assert unloaded[previous] == "/previous/env"
    for name in ("PYTHONNOUSERSITE", "OMP_NUM_THREADS", "ENVMOD_SITE", DEP_VARIABLE, "CONDA_DEFAULT_ENV"):
        assert name not in unloaded
    assert not unloaded.get("LOADEDMODULES")
    kept = records["kept"]["env"]
    assert kept[DEP_VARIABLE] == DEP_VALUE
    assert kept["LOADEDMODULES"] == DEP_MODULE


# -- activation scripts ------------------------------------------------------------------------

SCRIPT_CASES = [
    ("sh", "bash", "lmod", "conda"),
    ("sh", "sh", "tcl", "venv"),
    ("sh", "bash", "none", "venv"),
    ("sh", "sh", "none", "conda"),
    ("csh", "tcsh", "lmod", "venv"),
    ("csh", "tcsh", "tcl", "conda"),
    ("csh", "tcsh", "none", "venv"),
]


def source_line(written: Written, fmt: str, shell: str) -> str:
    """The usage line for the script: `. FILE` for sh (dash has no `source`, bash and
    zsh take both), `source FILE` for csh."""
    (line,) = [u for u in written.usage if u.startswith(". " if fmt == "sh" else "source ")]
    return line


def deactivate_left(shell: str) -> str:
    """A line printing a probe record when a `deactivate` is still defined."""
    if shell == "tcsh":
        return "alias deactivate | grep . > /dev/null && echo '@@deactivate-left {}'; true"
    return "if type deactivate > /dev/null 2>&1; then echo '@@deactivate-left {}'; fi"


def same_environment(a: dict[str, str], b: dict[str, str]) -> bool:
    ignore = {"_", "SHLVL", "OLDPWD"}
    return {k: v for k, v in a.items() if k not in ignore} == {k: v for k, v in b.items() if k not in ignore}


@pytest.mark.parametrize(("fmt", "shell", "system", "kind"), SCRIPT_CASES, ids=["-".join(c) for c in SCRIPT_CASES])
def test_activation_script(fmt, shell, system, kind, base, venv, deps, probe, site_templates):
    """Sourcing the script activates the environment (loading the dependency when
    the shell has a module system, saying clearly on stderr when it has none);
    sourcing it again changes nothing; deactivate restores PATH and the variables
    (unsetting those that were unset), unloads the dependency it loaded, and goes."""
    envmod = site_envmod(base, site_templates, f"s-{fmt}-{shell}-{system}")
    written = write(envmod, target_for(venv, kind), [fmt], system)
    source = source_line(written, fmt, shell)
    host = shell_quote(shell, sys.executable)
    var = "CONDA_PREFIX" if kind == "conda" else "VIRTUAL_ENV"
    previous = {var: "/previous/env"} if system == "lmod" else {}  # else: it was unset
    lines = [f"module use {deps}"] if system != "none" else []
    if shell != "tcsh" and system == "none":
        lines.append("set -eu")  # job scripts often run with these
    lines += [
        probe_line(probe, "before", host),
        source,
        probe_line(probe, "loaded"),
        source,
        probe_line(probe, "again", host),
        "deactivate",
        probe_line(probe, "after", host),
        deactivate_left(shell),
    ]
    if system != "none":  # a dependency the user loaded stays loaded
        lines += [f"module load {DEP_MODULE}", source, "deactivate", probe_line(probe, "kept", host)]
    records, out = run_probed(system, shell, lines, env=environ(**previous))
    assert out.returncode == 0, out.stderr
    before, loaded, after = records["before"]["env"], records["loaded"], records["after"]["env"]
    assert loaded["prefix"] == str(venv)
    env = loaded["env"]
    dep_bin = f"{deps}/testdep-bin:" if system != "none" else ""
    assert env["PATH"] == f"{venv}/bin:{dep_bin}{before['PATH']}"
    assert env["PYTHONNOUSERSITE"] == "1"
    assert env.get("LD_LIBRARY_PATH") == before.get("LD_LIBRARY_PATH")
    if kind == "conda":
        assert (env["CONDA_PREFIX"], env["CONDA_DEFAULT_ENV"]) == (str(venv), "tools")
        assert "VIRTUAL_ENV" not in env
    else:
        assert env["VIRTUAL_ENV"] == str(venv)
        assert "CONDA_PREFIX" not in env
    assert (env["OMP_NUM_THREADS"], env["ENVMOD_SITE"]) == ("3", SITE_VALUE)
    assert same_environment(records["again"]["env"], env)

    if system == "none":
        assert DEP_VARIABLE not in env
        assert "no 'module' command" in out.stderr
        assert DEP_MODULE in out.stderr
    else:
        assert env[DEP_VARIABLE] == DEP_VALUE
        assert env["LOADEDMODULES"] == DEP_MODULE
        assert "no 'module' command" not in out.stderr

    assert after["PATH"] == before["PATH"]
    assert after.get(var) == previous.get(var)
    for name in ("PYTHONNOUSERSITE", "CONDA_DEFAULT_ENV", DEP_VARIABLE):
        assert name not in after
    assert not after.get("LOADEDMODULES")
    assert "deactivate-left" not in records
    if system != "none":
        kept = records["kept"]["env"]
        assert (kept[DEP_VARIABLE], kept["LOADEDMODULES"]) == (DEP_VALUE, DEP_MODULE)
        assert kept["PATH"] == f"{deps}/testdep-bin:{before['PATH']}"


@pytest.mark.parametrize("shell", ["bash", "tcsh"])
def test_activating_another_environment_deactivates_the_first(shell, base, venv, site_templates):
    fmt = "csh" if shell == "tcsh" else "sh"
    envmod = site_envmod(base, site_templates, f"two-{shell}")
    first = write(envmod, target_for(venv, "conda", modules=()), [fmt], "none")
    second = write(envmod, target_for(base / "envs" / "other", "venv", name="other", modules=()), [fmt], "none")
    show = (
        "printenv PATH; printenv VIRTUAL_ENV; printenv CONDA_PREFIX; echo ---"
        if shell == "tcsh"
        else 'echo "$PATH ${VIRTUAL_ENV-} ${CONDA_PREFIX-}"; echo ---'
    )
    out = run_shell(
        "none",
        shell,
        [
            show,
            source_line(first, fmt, shell),
            source_line(second, fmt, shell),
            show,
            "deactivate",
            show,
            deactivate_left(shell),
        ],
        env=environ(),
    )
    assert out.returncode == 0, out.stderr
    start, active, end, _ = out.stdout.split("---\n")
    assert start == end
    assert f"{base}/envs/other/bin:{BASE_PATH}" in active
    assert str(venv) not in active
    assert "@@deactivate-left" not in out.stdout


# -- escaping, end to end ----------------------------------------------------------------------

#: characters every language needs escaped, plus a newline and non-ASCII
NASTY = 'we\'ird "env" $HOME `id`; a\\b\nc Jürgen π 日本 !'
#: the same on one line: Lmod 8.6 and Environment Modules 5.2 both write a newline
#: inside a value unescaped into the shell code they emit, so no module file can put
#: one into an environment variable (the scripts can, and are tested with it)
NASTY_LINE = NASTY.replace("\n", " ")
#: and without double quote and backslash: Lmod's translator of TCL modules
#: (tcl2lua.tcl, 8.6) copies a prepend-path value into a Lua string unescaped. Lmod
#: loads the .lua module when both exist, and that takes any value.
NASTY_LMOD_TCL = NASTY_LINE.replace('"', "").replace("\\", "")
#: a module name both module systems load as a dependency (neither takes a space, a
#: backslash, brackets or non-ASCII there; Lmod passes the names of loaded modules to
#: its TCL translator inside double quotes, so no double quote either)
NASTY_DEP = "envmod-dep'q$x`id`;!/1.0"
NASTY_DEP_VARIABLE = "ENVMOD_NASTYDEP"


@pytest.fixture(scope="module")
def nasty(base: Path) -> dict[str, Any]:
    """Real venvs at paths with every awkward character (one with a newline, one
    without), and a module tree with a dependency whose name has those the module
    systems accept."""
    deps = base / "nasty-deps"
    module = deps / NASTY_DEP
    module.parent.mkdir(parents=True)
    module.write_text(f"#%Module1.0\nsetenv {NASTY_DEP_VARIABLE} loaded\n")
    return {
        "prefix": make_venv(base / NASTY / "env"),
        "prefix-line": make_venv(base / NASTY_LINE / "env"),
        "prefix-lmod-tcl": make_venv(base / NASTY_LMOD_TCL / "env"),
        "deps": deps,
    }


NASTY_CASES = [
    ("lua", "lmod", "bash", "conda"),
    ("tcl", "tcl", "tcsh", "venv"),
    ("tcl", "lmod", "bash", "conda"),
    ("sh", "lmod", "bash", "venv"),
    ("sh", "tcl", "sh", "conda"),
    ("csh", "lmod", "tcsh", "conda"),
]


@pytest.mark.parametrize(("fmt", "system", "shell", "kind"), NASTY_CASES, ids=["-".join(c) for c in NASTY_CASES])
def test_awkward_values_come_out_literally(fmt, system, shell, kind, base, nasty, probe, site_templates):
    """Name, path, dependency name and a site value full of quotes, $, backticks,
    ;, \\, a newline and non-ASCII: every file still loads, and each value arrives
    exactly as given (variables, help and whatis text)."""
    module = fmt in ("lua", "tcl")
    value = NASTY if not module else NASTY_LMOD_TCL if (fmt, system) == ("tcl", "lmod") else NASTY_LINE
    prefix: Path = nasty["prefix" if value == NASTY else "prefix-line" if value == NASTY_LINE else "prefix-lmod-tcl"]
    # the name reaches the environment only as CONDA_DEFAULT_ENV
    env_name = value if kind == "conda" else NASTY
    case = f"n-{fmt}-{system}-{shell}"
    envmod = site_envmod(
        base,
        site_templates,
        case,
        template_variables={"value": value},
        # a configured path expands $VAR, so no '$' here
        activate_dir=str(base / case / f"activate {NASTY.replace('$', '')}"),
    )
    target = target_for(prefix, kind, name=env_name, modules=(NASTY_DEP,))
    written = write(envmod, target, [fmt], system)
    name = written.names.module_name
    assert name == safe_file_name(f"{env_name}-py{PYTHON_VERSION}")
    assert re.fullmatch(r"[A-Za-z0-9._+-]+", name)
    host = shell_quote(shell, sys.executable)
    lines = [f"module use {shell_quote(shell, str(nasty['deps']))}", probe_line(probe, "before", host)]
    if module:
        use, load = written.usage
        full_name = load.split()[-1]
        lines += [use, load, probe_line(probe, "loaded"), f"module whatis {full_name}", f"module help {full_name}"]
        lines += [f"module unload {full_name}", probe_line(probe, "after", host)]
    else:
        source = source_line(written, fmt, shell)
        lines += [source, probe_line(probe, "loaded"), "deactivate", probe_line(probe, "after", host)]
    records, out = run_probed(system, shell, lines)
    assert out.returncode == 0, out.stderr
    assert "loaded" in records, out.stderr
    loaded, env = records["loaded"], records["loaded"]["env"]
    assert loaded["prefix"] == str(prefix)
    assert env["PATH"].startswith(f"{prefix}/bin:")
    assert env["CONDA_PREFIX" if kind == "conda" else "VIRTUAL_ENV"] == str(prefix)
    if kind == "conda":
        assert env["CONDA_DEFAULT_ENV"] == env_name
    assert env["ENVMOD_SITE"] == value
    assert env[NASTY_DEP_VARIABLE] == "loaded"
    after = records["after"]["env"]
    assert after["PATH"] == records["before"]["env"]["PATH"]
    assert NASTY_DEP_VARIABLE not in after
    if module:  # whatis and help (whatis may turn a newline into a space)
        for piece in [*env_name.split("\n"), str(prefix)]:
            assert piece in out.stderr
        assert f"Name: {env_name.splitlines()[0]}" in out.stderr


# -- .lua and TCL side by side -----------------------------------------------------------------


@pytest.mark.parametrize("system", ["lmod", "tcl"])
def test_lua_and_tcl_side_by_side_load_exactly_one(system, base, venv, deps, probe, site_templates):
    """Both files in one directory: Lmod lists the module once and loads the .lua;
    Environment Modules ignores the .lua and loads the TCL file."""
    envmod = site_envmod(base, site_templates, f"both-{system}")
    written = write(envmod, target_for(venv, "venv"), ["lua", "tcl"], system)
    assert written.files["lua"].parent == written.files["tcl"].parent
    use, load = written.usage
    full_name = load.split()[-1]
    lines = [f"module use {deps}", use, "module -t avail 2>&1", load, probe_line(probe, "loaded")]
    records, out = run_probed(system, "bash", lines)
    assert out.returncode == 0, out.stderr
    assert [line.strip() for line in out.stdout.splitlines()].count(full_name) == 1
    expected = written.files["lua" if system == "lmod" else "tcl"]
    assert records["loaded"]["env"]["_LMFILES_"].split(":")[-1] == str(expected)
    assert records["loaded"]["prefix"] == str(venv)


# -- names, places and usage -------------------------------------------------------------------


def test_names_and_places(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVMOD_TEST_ROOT", str(tmp_path))
    envmod = EnvMod(module_dir="$ENVMOD_TEST_ROOT/mods", activate_dir=str(tmp_path / "act"))
    target = target_for(tmp_path / "env", "conda", name="my env/1")
    assert modulefiles.module_name(envmod, target) == f"my_env_1-py{PYTHON_VERSION}"
    envmod.module_name_template = "{name}-{engine}-{arch}-{user}"
    name = modulefiles.module_name(envmod, target)
    assert name.startswith("my_env_1-rattler-")
    assert re.fullmatch(r"[A-Za-z0-9._+-]+", name)

    names = modulefiles.file_names(envmod, target)
    assert (names.module_dir, names.module_app, names.activate_dir) == (
        str(tmp_path / "mods"),
        "conda-env",
        str(tmp_path / "act"),
    )
    assert names.module_name == name
    paths = modulefiles.paths_for(names, ["lua", "tcl", "sh", "csh"])
    assert paths == {
        "lua": tmp_path / "mods" / "conda-env" / f"{name}.lua",
        "tcl": tmp_path / "mods" / "conda-env" / name,
        "sh": tmp_path / "act" / f"{name}.sh",
        "csh": tmp_path / "act" / f"{name}.csh",
    }
    assert list(modulefiles.paths_for(names, ["sh"])) == ["sh"]

    other = modulefiles.file_names(envmod, target, module_dir="$ENVMOD_TEST_ROOT/other/../o2", module_app="tools")
    assert (other.module_dir, other.module_app) == (str(tmp_path / "o2"), "tools")
    for app in ("", "a/b", "..", "."):
        with pytest.raises(InvalidInput, match="one directory name"):
            modulefiles.file_names(envmod, target, module_app=app)
    with pytest.raises(InvalidInput, match="absolute"):
        modulefiles.file_names(envmod, target, module_dir="relative/dir")
    with pytest.raises(InvalidInput, match="ENVMOD_NOT_SET"):
        modulefiles.file_names(envmod, target, module_dir="$ENVMOD_NOT_SET/x")
    with pytest.raises(InvalidInput, match="unknown module file format 'bash'"):
        modulefiles.paths_for(names, ["bash"])


def test_usage_lines():
    names = FileNames(module_app="conda-env", module_name="x-py3.11.7", module_dir="/m o/d", activate_dir="/a")
    lua, tcl = Path("/m o/d/conda-env/x-py3.11.7.lua"), Path("/m o/d/conda-env/x-py3.11.7")
    sh, csh = Path("/a/x-py3.11.7.sh"), Path("/a/it's here!/x.csh")
    module_lines = ["module use '/m o/d'", "module load conda-env/x-py3.11.7"]
    assert modulefiles.usage_lines({"lua": lua, "tcl": tcl}, "lmod", names) == module_lines
    assert modulefiles.usage_lines({"tcl": tcl}, "environment-modules", names) == module_lines
    # Environment Modules cannot read the Lua module
    assert modulefiles.usage_lines({"lua": lua}, "environment-modules", names) == []
    assert modulefiles.usage_lines({"lua": lua}, None, names) == module_lines
    assert modulefiles.usage_lines({"sh": sh, "csh": csh}, None, names) == [
        "# sh, bash, zsh:",
        ". /a/x-py3.11.7.sh",
        "# csh, tcsh:",
        "source '/a/it'\\''s here'\\!'/x.csh'",
    ]
    assert modulefiles.usage_lines({"tcl": tcl, "sh": sh}, "lmod", names) == [
        *module_lines,
        "# or, without a module system:",
        ". /a/x-py3.11.7.sh",
    ]


# -- writing -----------------------------------------------------------------------------------


def test_write_replaces_files_atomically(tmp_path, venv):
    envmod = EnvMod(module_dir=str(tmp_path / "mods"), activate_dir=str(tmp_path / "act"))
    target = target_for(venv, "venv")
    first = modulefiles.write_module_files(envmod, Templates(), target, ["lua", "tcl", "sh", "csh"])
    assert set(first) == {"lua", "tcl", "sh", "csh"}
    old_umask = os.umask(0o027)
    try:
        again = modulefiles.write_module_files(envmod, Templates(), target, ["lua", "sh"])
    finally:
        os.umask(old_umask)
    assert again == {"lua": first["lua"], "sh": first["sh"]}
    assert first["lua"].stat().st_mode & 0o777 == 0o640  # a new file: the umask decides
    assert first["tcl"].read_text().startswith("#%Module1.0\n# envmod: {")
    leftovers = [p.name for d in (tmp_path / "mods" / "conda-env", tmp_path / "act") for p in d.iterdir()]
    assert sorted(leftovers) == sorted(p.name for p in first.values())


def test_a_template_error_writes_nothing(tmp_path, venv):
    site = tmp_path / "site"
    site.mkdir()
    (site / "activate.csh").write_text("# envmod: {{ {} | json }}\nsetenv X {{ env.nmae | csh }}\n")
    envmod = EnvMod(module_dir=str(tmp_path / "mods"), activate_dir=str(tmp_path / "act"), template_dirs=[str(site)])
    with pytest.raises(TemplateError) as err:
        modulefiles.write_module_files(envmod, Templates.for_site(envmod), target_for(venv, "venv"), FORMATS)
    assert (err.value.file, err.value.line) == (str(site / "activate.csh"), 2)
    assert "nmae" in str(err.value)
    assert not (tmp_path / "mods").exists()
    assert not (tmp_path / "act").exists()


def test_a_site_template_must_keep_the_marker(tmp_path, venv):
    site = tmp_path / "site"
    site.mkdir()
    (site / "activate.sh").write_text("# my own script for {{ env.name | json }}\nexport X=1\n")
    envmod = EnvMod(module_dir=str(tmp_path / "mods"), activate_dir=str(tmp_path / "act"), template_dirs=[str(site)])
    with pytest.raises(TemplateError, match="no envmod marker") as err:
        modulefiles.write_module_files(envmod, Templates.for_site(envmod), target_for(venv, "venv"), ["lua", "sh"])
    assert err.value.file == str(site / "activate.sh")
    assert not (tmp_path / "mods").exists()


# -- listing and removing ----------------------------------------------------------------------


def fake_env(path: Path) -> Path:
    """What listing looks at: a directory with bin/python."""
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").write_text("")
    return path


def test_list_finds_ours_flags_orphans_and_removes_only_ours(tmp_path):
    envmod = EnvMod(module_dir=str(tmp_path / "mods"), activate_dir=str(tmp_path / "act"))
    alpha, beta = fake_env(tmp_path / "envs" / "alpha"), fake_env(tmp_path / NASTY / "beta")
    ours = {}
    for prefix, name in ((alpha, "alpha"), (beta, NASTY)):
        files = modulefiles.write_module_files(envmod, Templates(), target_for(prefix, "conda", name=name), FORMATS)
        ours.update({(str(prefix), fmt): path for fmt, path in files.items()})

    app, act = tmp_path / "mods" / "conda-env", tmp_path / "act"
    tcl_marker = (app / f"alpha-py{PYTHON_VERSION}").read_text().splitlines()[1]
    foreign = {
        app / "gcc": "#%Module1.0\nsetenv CC gcc\n",
        app / "tool.lua": 'setenv("X", "1")\n',
        app / "late.lua": "-- a comment\n-- another\n" + tcl_marker.replace("# envmod:", "-- envmod:") + "\n",
        app / "wrong.lua": "#%Module1.0\n" + tcl_marker + "\n",  # a TCL marker in a .lua file
        app / "broken": '#%Module1.0\n# envmod: {"path": \n',
        act / "mine.sh": "# envmod: not json\nexport X=1\n",
        act / "other.csh": "setenv X 1\n",
        act / ".hidden.sh.1234.tmp": (act / f"alpha-py{PYTHON_VERSION}.sh").read_text(),
    }
    for path, text in foreign.items():
        path.write_text(text)
    (act / "subdir.sh").mkdir()

    found = modulefiles.list_module_files(envmod)
    assert {(f.env_path, f.format): f.path for f in found} == ours
    assert [f.path for f in found] == sorted(f.path for f in found)
    assert all(f.orphan is None for f in found)
    expected_names = {f"alpha-py{PYTHON_VERSION}", safe_file_name(f"{NASTY}-py{PYTHON_VERSION}")}
    assert {f.module for f in found} == {f"conda-env/{name}" for name in expected_names}
    first = found[0]
    assert first.to_json() == {
        "format": first.format,
        "path": str(first.path),
        "env_path": first.env_path,
        "module": first.module,
        "orphan": None,
    }
    assert json.loads(json.dumps([f.to_json() for f in found]))

    # an environment without its Python, and one that is gone
    (beta / "bin" / "python").unlink()
    for path in (alpha / "bin" / "python", alpha / "bin", alpha):
        path.unlink() if path.is_file() else path.rmdir()
    orphans = {(f.env_path, f.orphan) for f in modulefiles.list_module_files(envmod)}
    assert orphans == {(str(alpha), "environment missing"), (str(beta), "python missing")}

    # elsewhere: another module directory and app
    assert modulefiles.list_module_files(envmod, module_dir=str(tmp_path / "none"), module_app="x") == [
        f for f in modulefiles.list_module_files(envmod) if f.format in ("sh", "csh")
    ]

    # removal takes only files with the marker; missing ones are fine
    alpha_files = [p for (env, _), p in ours.items() if env == str(alpha)]
    removed = modulefiles.remove_module_files([*alpha_files, *foreign, tmp_path / "missing.lua", act / "subdir.sh"])
    assert sorted(removed) == sorted(alpha_files)
    assert all(path.exists() for path in foreign)
    assert {f.env_path for f in modulefiles.list_module_files(envmod)} == {str(beta)}
    assert modulefiles.remove_module_files(alpha_files) == []


def test_listing_empty_or_missing_directories(tmp_path):
    envmod = EnvMod(module_dir=str(tmp_path / "nothing"), activate_dir=str(tmp_path / "nothing-either"))
    assert modulefiles.list_module_files(envmod) == []
    (tmp_path / "nothing").write_text("a file where a directory should be")
    assert modulefiles.list_module_files(envmod) == []
