"""What this machine offers: usable engines and the module system.

Detection runs version commands, so it is done once, in a worker thread, and
cached (:class:`SiteInfoCache`); ``refresh`` re-detects. Every command is an argv
list with a timeout — never a shell string.
"""

from __future__ import annotations

import asyncio
import getpass
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from typing import Any

from . import __version__
from .config import EnvMod

VERSION_TIMEOUT = 10.0  # seconds; a version command on a busy login node can be slow

# Where distributions install the module systems when no variable points to them.
LMOD_CANDIDATES = (
    "/usr/share/lmod/lmod/libexec/lmod",
    "/opt/lmod/lmod/libexec/lmod",
    "/usr/local/lmod/lmod/libexec/lmod",
)
MODULECMD_CANDIDATES = (
    "/usr/share/modules/libexec/modulecmd.tcl",
    "/usr/local/Modules/libexec/modulecmd.tcl",
    f"/usr/lib/{platform.machine()}-linux-gnu/modulecmd.tcl",
    "/usr/lib/modulecmd.tcl",
)


@dataclass
class EngineInfo:
    available: bool
    version: str | None = None
    path: str | None = None
    detail: str = ""
    kind: str | None = None  # conda engine only: conda | mamba | micromamba


@dataclass
class ModuleSystemInfo:
    kind: str | None  # "lmod" | "environment-modules" | None
    version: str | None = None
    command: str | None = None
    detail: str = ""


@dataclass
class SiteInfo:
    version: str
    user: str
    arch: str
    config: dict[str, Any]
    engines: dict[str, EngineInfo] = field(default_factory=dict)
    module_system: ModuleSystemInfo = field(default_factory=lambda: ModuleSystemInfo(None))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _run_version(argv: list[str], env: dict[str, str] | None = None) -> tuple[str | None, str]:
    """Run a version command; return (first version-looking token, error text)."""
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT,
            check=False,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, f"{argv[0]} could not be run: {err}"
    text = (proc.stdout or "") + "\n" + (proc.stderr or "")
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
    if proc.returncode != 0 and not match:
        tail = text.strip().splitlines()[-1:] or [""]
        return None, f"{' '.join(argv)} exited with {proc.returncode}: {tail[0]}"
    return (match.group(1) if match else None), ""


def detect_rattler() -> EngineInfo:
    if importlib.util.find_spec("rattler") is None:
        return EngineInfo(False, detail="the py-rattler package is not installed in the server's Python")
    try:
        version = importlib.metadata.version("py-rattler")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return EngineInfo(True, version=version, detail=f"py-rattler {version or '(unknown version)'} (embedded)")


def detect_uv() -> EngineInfo:
    path: str | None
    try:
        import uv

        path = uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        path = shutil.which("uv")
    if not path:
        return EngineInfo(False, detail="uv was not found: install the 'uv' package into the server's Python")
    version, error = _run_version([path, "--version"])
    if error:
        return EngineInfo(False, path=path, detail=error)
    return EngineInfo(True, version=version, path=path, detail=f"uv {version} at {path}")


def detect_conda(executable: str) -> EngineInfo:
    path = executable if os.path.isabs(executable) else shutil.which(executable)
    if not path or not os.access(path, os.X_OK):
        where = "" if os.path.isabs(executable) else " on PATH"
        return EngineInfo(False, detail=f"conda executable {executable!r} not found{where} (EnvMod.conda_executable)")
    version, error = _run_version([path, "--version"])
    if error:
        return EngineInfo(False, path=path, detail=error)
    base = os.path.basename(path).lower()
    kind = "micromamba" if "micromamba" in base else "mamba" if "mamba" in base else "conda"
    return EngineInfo(True, version=version, path=path, kind=kind, detail=f"{kind} {version} at {path}")


def detect_module_system(environ: dict[str, str] | None = None, standard_locations: bool = True) -> ModuleSystemInfo:
    """Which module system a shell on this machine would use.

    In order: $LMOD_CMD (set by Lmod's init), $MODULES_CMD (set by Environment
    Modules 4+), $MODULESHOME, ``modulecmd`` on PATH, then the usual install
    locations (when ``standard_locations``; a Jupyter server started without a login
    shell often lacks the variables).
    """
    env = dict(os.environ if environ is None else environ)
    lmod_cmd = env.get("LMOD_CMD")
    if lmod_cmd and os.access(lmod_cmd, os.X_OK):
        return _lmod(lmod_cmd, "$LMOD_CMD")
    modules_cmd = env.get("MODULES_CMD")
    if modules_cmd and os.path.isfile(modules_cmd):
        return _environment_modules(modules_cmd, "$MODULES_CMD")
    moduleshome = env.get("MODULESHOME", "")
    if moduleshome:
        lmod = os.path.join(moduleshome, "libexec", "lmod")
        if os.access(lmod, os.X_OK):
            return _lmod(lmod, "$MODULESHOME")
        tcl = os.path.join(moduleshome, "libexec", "modulecmd.tcl")
        if os.path.isfile(tcl):
            return _environment_modules(tcl, "$MODULESHOME")
    modulecmd = shutil.which("modulecmd", path=env.get("PATH", ""))
    if modulecmd:
        return _environment_modules(modulecmd, "modulecmd on PATH")
    if standard_locations:
        for candidate in LMOD_CANDIDATES:
            if os.access(candidate, os.X_OK):
                return _lmod(candidate, "a standard location")
        for candidate in MODULECMD_CANDIDATES:
            if os.path.isfile(candidate):
                return _environment_modules(candidate, "a standard location")
    return ModuleSystemInfo(
        None,
        detail="No module system found ($LMOD_CMD, $MODULES_CMD, $MODULESHOME and modulecmd are all absent)",
    )


def _lmod(cmd: str, source: str) -> ModuleSystemInfo:
    version, _ = _run_version([cmd, "--version"])
    return ModuleSystemInfo("lmod", version, cmd, f"Lmod {version or '(unknown version)'} at {cmd} ({source})")


def _environment_modules(cmd: str, source: str) -> ModuleSystemInfo:
    argv = [cmd, "python", "--version"]
    if cmd.endswith(".tcl"):
        tclsh = shutil.which("tclsh") or "tclsh"
        argv = [tclsh, cmd, "python", "--version"]
    version, _ = _run_version(argv)
    return ModuleSystemInfo(
        "environment-modules",
        version,
        cmd,
        f"Environment Modules {version or '(unknown version)'} at {cmd} ({source})",
    )


def detect_site(envmod: EnvMod) -> SiteInfo:
    """Blocking: run every detection. Call through :class:`SiteInfoCache`."""
    return SiteInfo(
        version=__version__,
        user=getpass.getuser(),
        arch=platform.machine(),
        config=envmod.effective(),
        engines={
            "rattler": detect_rattler(),
            "conda": detect_conda(envmod.conda_executable),
            "venv": detect_uv(),
        },
        module_system=detect_module_system(),
    )


class SiteInfoCache:
    """Detect once, off the event loop; concurrent callers share one detection."""

    def __init__(self, envmod: EnvMod):
        self.envmod = envmod
        self._pending: asyncio.Task[SiteInfo] | None = None

    async def get(self, refresh: bool = False) -> SiteInfo:
        task = self._pending
        if refresh or task is None or (task.done() and task.exception() is not None):
            task = asyncio.ensure_future(asyncio.to_thread(detect_site, self.envmod))
            self._pending = task
        return await asyncio.shield(task)
