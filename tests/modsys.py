"""The real module systems on this machine, for tests: where they are, a dependency
module to load, and a way to run lines in a fresh bash/sh/tcsh with one of them
initialised.

Debian's Environment Modules (TCL, /usr/share/modules) and Lmod unpacked under
/opt/lmodroot (scripts/test installs both; docs/test-infrastructure).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

LMOD_ROOT = Path("/opt/lmodroot/usr/share/lmod/lmod")
LMOD_CMD = LMOD_ROOT / "libexec" / "lmod"
MODULES_CMD = Path("/usr/lib/x86_64-linux-gnu/modulecmd.tcl")

#: init script per (module system, shell)
INIT = {
    ("lmod", "bash"): LMOD_ROOT / "init" / "bash",
    ("lmod", "sh"): LMOD_ROOT / "init" / "sh",
    ("lmod", "tcsh"): LMOD_ROOT / "init" / "tcsh",
    ("tcl", "bash"): Path("/usr/share/modules/init/bash"),
    ("tcl", "sh"): Path("/usr/share/modules/init/sh"),
    ("tcl", "tcsh"): Path("/usr/share/modules/init/tcsh"),
}

#: the dependency module tests record and load
DEP_MODULE = "envmod-testdep/1.0"
DEP_VARIABLE = "ENVMOD_TESTDEP"
DEP_VALUE = "loaded by envmod-testdep"


def write_dep_module(root: Path) -> Path:
    """A module tree with ``envmod-testdep/1.0`` (TCL, which both systems read): it
    sets ENVMOD_TESTDEP and prepends ``<root>/testdep-bin`` to PATH. Returns ``root``
    (give it to ``module use`` or MODULEPATH)."""
    (root / "envmod-testdep").mkdir(parents=True, exist_ok=True)
    (root / "testdep-bin").mkdir(exist_ok=True)
    (root / "envmod-testdep" / "1.0").write_text(
        "#%Module1.0\n"
        'module-whatis "a dependency module for jupyter_envmod tests"\n'
        f'setenv {DEP_VARIABLE} "{DEP_VALUE}"\n'
        f'prepend-path PATH "{root / "testdep-bin"}"\n'
    )
    return root


def clean_environ(**extra: str) -> dict[str, str]:
    """os.environ without any module system's variables (each test shell starts
    from nothing), plus ``extra``."""
    drop = ("LMOD", "MODULE", "_LMFILES_", "LOADEDMODULES", "__LMOD", "_ModuleTable", "MANPATH", "BASH_ENV", "ENV")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def run_shell(
    system: str, shell: str, lines: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``lines`` in a fresh non-interactive ``shell`` (bash, sh or tcsh) after
    sourcing ``system``'s init script (``system`` "lmod", "tcl" or "none")."""
    script: list[str] = []
    if system != "none":
        init = INIT[(system, shell)]
        script.append(f"source {init}" if shell != "sh" else f". {init}")
    script += lines
    argv = [shutil.which(shell) or shell, "-f" if shell == "tcsh" else "-c"]
    if shell == "tcsh":
        argv = [shutil.which("tcsh") or "tcsh", "-f", "-c", "\n".join(script)]
    else:
        argv = [shutil.which(shell) or shell, "-c", "\n".join(script)]
    return subprocess.run(
        argv, capture_output=True, text=True, env=env if env is not None else clean_environ(), timeout=timeout
    )
