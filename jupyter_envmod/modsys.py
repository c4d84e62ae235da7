"""The site's module system (Lmod or Environment Modules): which modules are loaded
now (to record as an environment's dependencies), the module path, and which
modules can be loaded (for a picker).

Both systems export ``LOADEDMODULES`` (colon-separated names) and ``_LMFILES_`` (the
module files), so reading what is loaded costs no subprocess. Listing what is
*available* runs the module command once (``-t avail``) and is cached per module path.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput, OperationFailed
from .siteinfo import ModuleSystemInfo, detect_module_system

#: seconds a cached ``avail`` listing is reused for the same module path
AVAIL_TTL = 300.0
AVAIL_TIMEOUT = 30.0

#: what a module name may look like: Lmod/TCL names are path-like (gcc/12.2.0,
#: mpi/openmpi-x86_64); spaces, quotes and shell metacharacters are refused
_MODULE_NAME = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_.+/:@%=-]*$")


def check_module_name(name: str, field: str = "module_deps") -> str:
    """A module dependency name as given by a user; raise :class:`InvalidInput`."""
    cleaned = name.strip()
    if not cleaned or not _MODULE_NAME.match(cleaned) or cleaned.endswith("/") or ".." in cleaned.split("/"):
        raise InvalidInput(
            f"{field}: {name!r} is not a module name; give names as 'module list' shows them, "
            "e.g. 'gcc/12.2.0' (letters, digits and . _ + - / : @ % =)",
            details={"field": field, "value": name},
        )
    return cleaned


def loaded_modules(environ: Mapping[str, str] | None = None) -> list[str]:
    """The modules loaded in ``environ`` (default: this process), in load order."""
    env = os.environ if environ is None else environ
    return [m for m in env.get("LOADEDMODULES", "").split(":") if m]


def module_path(environ: Mapping[str, str] | None = None) -> list[str]:
    """The directories of MODULEPATH, in order."""
    env = os.environ if environ is None else environ
    return [p for p in env.get("MODULEPATH", "").split(":") if p]


@dataclass(frozen=True)
class ModuleDeps:
    """An environment's module dependencies and where they were found."""

    modules: tuple[str, ...] = ()
    modulepath: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"modules": list(self.modules), "modulepath": list(self.modulepath)}


def module_deps(
    named: Sequence[str] = (), *, capture_loaded: bool = False, environ: Mapping[str, str] | None = None
) -> ModuleDeps:
    """The dependencies to record for an environment: the modules loaded now (when
    ``capture_loaded``) followed by the ``named`` ones, without repeats; the
    module path comes from the same environment."""
    wanted: list[str] = []
    for name in [*(loaded_modules(environ) if capture_loaded else []), *named]:
        cleaned = check_module_name(name)
        if cleaned not in wanted:
            wanted.append(cleaned)
    return ModuleDeps(tuple(wanted), tuple(module_path(environ)) if wanted else ())


def system_json(info: ModuleSystemInfo | None, modulepath: Sequence[str] = ()) -> dict[str, Any]:
    """What templates and the kernel launcher get as ``module_system``."""
    if info is None or info.kind is None:
        return {"kind": None, "command": None, "modulepath": list(modulepath)}
    return {"kind": info.kind, "command": info.command, "modulepath": list(modulepath)}


def command_argv(info: ModuleSystemInfo, *args: str) -> list[str]:
    """The argv running the module command with ``args`` (``tclsh`` for modulecmd.tcl)."""
    if info.command is None:
        raise OperationFailed("no module system was found on this machine")
    if info.kind == "environment-modules" and info.command.endswith(".tcl"):
        return [shutil.which("tclsh") or "tclsh", info.command, *args]
    return [info.command, *args]


def parse_avail(text: str) -> list[str]:
    """Module names from ``-t avail`` output (both systems): directory headers
    ("/path:") and Lmod's bare "name/" lines are skipped, markers like "(D)",
    "(L)" and "(default)" dropped."""
    names: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.endswith(":") or line.endswith("/"):
            continue
        line = re.sub(r"\s*\((?:[A-Za-z,]+|default)\)$", "", line).strip()
        line = line.split()[0] if line.split() else ""
        if line and line not in names:
            names.append(line)
    return names


class AvailableModules:
    """``module -t avail``, cached per module path for :data:`AVAIL_TTL` seconds."""

    def __init__(self, ttl: float = AVAIL_TTL):
        self.ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def get(self, environ: Mapping[str, str] | None = None, *, refresh: bool = False) -> list[str]:
        """Blocking (one subprocess on a miss): run it off the event loop."""
        env = dict(os.environ if environ is None else environ)
        info = detect_module_system(env)
        if info.kind is None or info.command is None:
            return []
        key = (info.command, env.get("MODULEPATH", ""))
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and not refresh and now - hit[0] < self.ttl:
                return list(hit[1])
        argv = (
            command_argv(info, "bash", "-t", "avail")
            if info.kind == "lmod"
            else command_argv(info, "bash", "avail", "-t")
        )
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, timeout=AVAIL_TIMEOUT, env=env, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise OperationFailed(f"Could not list the available modules with {argv[0]}: {err}") from err
        # both systems print the listing on stderr (stdout carries shell code); a failure
        # (e.g. Environment Modules with no MODULEPATH: "ERROR: No module path defined") lists nothing
        names = parse_avail(proc.stderr) if proc.returncode == 0 else []
        with self._lock:
            self._cache[key] = (now, names)
        return list(names)


AVAILABLE = AvailableModules()
