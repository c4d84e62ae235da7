"""Kernelspecs of environments: names, writing, listing, repair and removal.

Each environment gets an ordinary static kernelspec directory in
``EnvMod.kernel_dir`` (Jupyter finds it like any other kernel) holding:

- ``kernel.json``, rendered from the ``kernel.json`` template; its argv runs the
  launcher with the environment's Python, and ``metadata.envmod`` names the
  environment (path, name, engine, creation time) so this module can list, repair
  and remove its own kernels and recognise orphans;
- ``launcher.py``, from the ``launcher.py`` template: sets thread variables, loads
  the module dependencies, cleans the environment and execs ipykernel;
- ``launcher.json``, the launcher's settings (written with :func:`json.dumps`, so
  user values need no escaping);
- the logos (``logo-svg.svg``, ``logo-64x64.png``), from the template directories.

A kernelspec is written into a staging directory next to its final place and
renamed into it, so Jupyter never lists half a kernelspec.
"""

from __future__ import annotations

import errno
import getpass
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput, NotFound
from .templating import FileNames, Target, TemplateError, Templates, context

if TYPE_CHECKING:
    from .config import EnvMod

#: format of metadata.envmod and launcher.json
FORMAT = 1
KERNEL_FILE = "kernel.json"
LAUNCHER_FILE = "launcher.py"
SETTINGS_FILE = "launcher.json"
#: copied (not rendered) from the template directories when present
LOGO_FILES = ("logo-svg.svg", "logo-64x64.png")
STAGING_PREFIX = ".envmod-staging-"
_INSTALL_ATTEMPTS = 5
_RACE_ERRNOS = (errno.ENOENT, errno.EEXIST, errno.ENOTEMPTY)

#: what Jupyter accepts as a kernel name
_KERNEL_NAME = re.compile(r"^[a-z0-9._-]+$", re.IGNORECASE)
_NAME_REPLACE = re.compile(r"[^a-z0-9._-]+")
_MAX_NAME = 100


class KernelTemplateError(TemplateError):
    """The ``kernel.json`` template rendered something that is not a usable kernelspec."""


@dataclass
class KernelSpecInfo:
    """A kernelspec written by jupyter_envmod."""

    name: str
    dir: Path
    display_name: str
    env_path: str
    engine: str
    created: str
    modules: list[str] = field(default_factory=list)
    #: why the kernel cannot start: "environment missing", "python missing", or None
    orphan: str | None = None
    env_name: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "dir": str(self.dir),
            "display_name": self.display_name,
            "env_path": self.env_path,
            "env_name": self.env_name,
            "engine": self.engine,
            "created": self.created,
            "modules": list(self.modules),
            "orphan": self.orphan,
        }


# -- names --------------------------------------------------------------------------------


def kernel_dir(envmod: EnvMod) -> Path:
    return Path(envmod.expanded("kernel_dir"))


def _name_fields(target: Target) -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        "name": target.name,
        "python_version": target.python_short,
        "engine": target.engine,
        "user": user,
        "arch": platform.machine(),
    }


def clean_kernel_name(text: str) -> str:
    """``text`` as a kernel name: accents dropped, lower-cased, runs of anything but
    letters, digits, '.', '_' and '-' turned into '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _NAME_REPLACE.sub("-", ascii_text.lower()).strip("-._")
    return cleaned[:_MAX_NAME].rstrip("-._") or "envmod"


def display_name_for(envmod: EnvMod, target: Target) -> str:
    """The default display name (``kernel_display_name_template``)."""
    return envmod.kernel_display_name_template.format(**_name_fields(target))


def _same_env(recorded: object, path: str, real: str) -> bool:
    return isinstance(recorded, str) and (recorded == path or os.path.realpath(recorded) == real)


def kernel_names(envmod: EnvMod, target: Target) -> tuple[str, str]:
    """(kernel name, display name) for ``target``.

    The name comes from ``kernel_name_template`` and stays stable: a kernelspec
    of the same environment under that name (or a numbered variant ``-2``, ``-3``,
    ...) is reused; a name taken by another environment or a foreign kernelspec is
    skipped for the first free numbered variant.
    """
    base = clean_kernel_name(envmod.kernel_name_template.format(**_name_fields(target)))
    path = str(target.prefix)
    real = os.path.realpath(path)
    variant = re.compile(re.escape(base) + r"(?:-([0-9]+))?")
    taken: dict[int, bool] = {}  # number -> is ours (1 = the base name)
    directory = kernel_dir(envmod)
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                match = variant.fullmatch(entry.name.lower())
                if match is None or (match.group(1) is not None and int(match.group(1)) < 2):
                    continue
                number = int(match.group(1) or 1)
                recorded = _recorded_path(Path(entry.path))
                if recorded is _VANISHED:
                    continue
                taken[number] = taken.get(number, False) or _same_env(recorded, path, real)
    except FileNotFoundError:
        pass
    ours = sorted(n for n, mine in taken.items() if mine)
    number = ours[0] if ours else next(n for n in range(1, len(taken) + 2) if n not in taken)
    name = base if number == 1 else f"{base}-{number}"
    return name, display_name_for(envmod, target)


def check_kernel_name(name: str) -> str:
    """A kernel name given by a caller; raise :class:`InvalidInput`."""
    if not _KERNEL_NAME.match(name) or name in (".", "..") or name.startswith("."):
        raise InvalidInput(
            f"{name!r} is not a kernel name: use letters, digits, '.', '_' and '-' "
            "(as 'jupyter kernelspec list' shows).",
            details={"field": "name", "value": name},
        )
    return name


# -- reading ------------------------------------------------------------------------------


#: :func:`_recorded_path` of a kernelspec directory that is gone
_VANISHED = object()


def _recorded_path(spec_dir: Path) -> Any:
    """The environment path a kernelspec directory's kernel.json records (None when
    it records none), or ``_VANISHED`` when the directory is gone. Another writer of
    the same kernel swaps the directory by two renames (:func:`_install`), so a
    kernel.json that cannot be read is read again before it counts as foreign."""
    for _ in range(_INSTALL_ATTEMPTS):
        spec = _read_json(spec_dir / KERNEL_FILE)
        if spec is not None:
            return _envmod_metadata(spec).get("path")
        if not spec_dir.exists():
            return _VANISHED
        time.sleep(0.001)
    return None


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _envmod_metadata(spec: Any) -> dict[str, Any]:
    """``metadata.envmod`` of a parsed kernel.json, {} when it is not ours."""
    if not isinstance(spec, dict):
        return {}
    metadata = spec.get("metadata")
    envmod = metadata.get("envmod") if isinstance(metadata, dict) else None
    if isinstance(envmod, dict) and isinstance(envmod.get("path"), str):
        return envmod
    return {}


def _info(spec_dir: Path, spec: dict[str, Any]) -> KernelSpecInfo:
    meta = _envmod_metadata(spec)
    env_path = str(meta["path"])
    modules = meta.get("modules")
    if not isinstance(modules, list):  # a site kernel.json template may leave it out
        settings = _read_json(spec_dir / SETTINGS_FILE)
        modules = settings.get("modules") if isinstance(settings, dict) else None
    argv = spec.get("argv")
    python = argv[0] if isinstance(argv, list) and argv and isinstance(argv[0], str) else ""
    if not os.path.isabs(python):
        python = os.path.join(env_path, "bin", "python")
    orphan = None
    if not os.path.isdir(env_path):
        orphan = "environment missing"
    elif not os.path.exists(python):
        orphan = "python missing"
    return KernelSpecInfo(
        name=spec_dir.name,
        dir=spec_dir,
        display_name=str(spec.get("display_name", spec_dir.name)),
        env_path=env_path,
        engine=str(meta.get("engine") or ""),
        created=str(meta.get("created") or ""),
        modules=[str(m) for m in modules or []],
        orphan=orphan,
        env_name=str(meta.get("name") or ""),
    )


def list_kernels(envmod: EnvMod) -> list[KernelSpecInfo]:
    """The kernelspecs in ``kernel_dir`` written by jupyter_envmod, by name."""
    found: list[KernelSpecInfo] = []
    try:
        with os.scandir(kernel_dir(envmod)) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_dir():
                    continue
                spec = _read_json(Path(entry.path) / KERNEL_FILE)
                if _envmod_metadata(spec):
                    found.append(_info(Path(entry.path), spec))
    except FileNotFoundError:
        return []
    return sorted(found, key=lambda info: info.name)


def _lookup(envmod: EnvMod, name: str) -> tuple[Path, dict[str, Any] | None]:
    """(spec dir, parsed kernel.json when the spec is ours); NotFound when missing."""
    spec_dir = kernel_dir(envmod) / check_kernel_name(name)
    if not spec_dir.is_dir():
        raise NotFound(f"There is no kernel {name!r} in {spec_dir.parent}.", details={"name": name})
    spec = _read_json(spec_dir / KERNEL_FILE)
    return spec_dir, spec if _envmod_metadata(spec) else None


def read_kernel(envmod: EnvMod, name: str) -> KernelSpecInfo | None:
    """The kernelspec ``name`` when it exists and was written by jupyter_envmod."""
    try:
        spec_dir, spec = _lookup(envmod, name)
    except NotFound:
        return None
    return _info(spec_dir, spec) if spec is not None else None


def kernels_for(envmod: EnvMod, env_path: str | Path) -> list[KernelSpecInfo]:
    """The kernelspecs of the environment at ``env_path``."""
    path = str(env_path)
    real = os.path.realpath(path)
    return [info for info in list_kernels(envmod) if _same_env(info.env_path, path, real)]


def remove_kernel(envmod: EnvMod, name: str) -> KernelSpecInfo:
    """Delete the kernelspec ``name``; only one written by jupyter_envmod."""
    spec_dir, spec = _lookup(envmod, name)
    if spec is None:
        raise InvalidInput(
            f"The kernel {name!r} ({spec_dir}) was not made by jupyter_envmod, so it is left alone; "
            f"remove it with 'jupyter kernelspec remove {name}' if you mean to.",
            details={"field": "name", "value": name},
        )
    info = _info(spec_dir, spec)
    shutil.rmtree(spec_dir)
    return info


# -- writing ------------------------------------------------------------------------------


def _module_system_json(module_system: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not module_system or not module_system.get("kind"):
        return None
    return {"kind": module_system.get("kind"), "command": module_system.get("command")}


def launcher_settings(
    envmod: EnvMod, target: Target, module_system: Mapping[str, Any] | None, modulepath: Iterable[str]
) -> dict[str, Any]:
    """What ``launcher.json`` holds (read by the launcher at every kernel start)."""
    return {
        "version": FORMAT,
        "environment": {
            "name": target.name,
            "path": str(target.prefix),
            "kind": target.kind,
            "engine": target.engine,
            "python_version": target.python_version,
            "created": target.created,
        },
        "thread_variables": list(envmod.thread_variables),
        "modules": list(target.modules),
        "module_system": _module_system_json(module_system),
        "modulepath": list(modulepath),
        "kernel_env": dict(envmod.kernel_env),
        "keep_pythonpath": bool(envmod.kernel_keep_pythonpath),
        "module_timeout": float(envmod.module_timeout),
    }


def _parse_kernel_json(text: str, templates: Templates, target: Target) -> dict[str, Any]:
    """The rendered kernel.json, checked; :class:`KernelTemplateError` names the problem."""
    source = templates.source_of(KERNEL_FILE)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        rendered = text.splitlines()[err.lineno - 1] if 0 < err.lineno <= len(text.splitlines()) else ""
        raise KernelTemplateError(
            f"the template rendered invalid JSON ({err.msg} at line {err.lineno} of the output: {rendered.strip()!r}); "
            "pass every value through the json filter, e.g. {{ env.path | json }}",
            source,
            None,
        ) from err
    spec = _as_dict(parsed)
    argv = spec.get("argv")
    display = spec.get("display_name")
    problem = ""
    if not isinstance(parsed, dict):
        problem = "the rendered kernel.json is not a JSON object"
    elif not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        problem = "'argv' must be a non-empty list of strings"
    elif "{connection_file}" not in argv:
        problem = "'argv' must pass \"{connection_file}\" to the kernel"
    elif not isinstance(display, str) or not display:
        problem = "'display_name' must be a non-empty string"
    elif _envmod_metadata(spec).get("path") != str(target.prefix):
        problem = (
            "'metadata.envmod.path' must name the environment ({{ env.path | json }}): "
            "it is how jupyter_envmod recognises its kernels"
        )
    if problem:
        raise KernelTemplateError(problem, source, None)
    return spec


def _module_system_dict(module_system: Mapping[str, Any] | None, modulepath: Iterable[str]) -> dict[str, Any]:
    system = dict(module_system or {})
    return {"kind": system.get("kind"), "command": system.get("command"), "modulepath": list(modulepath)}


def write_kernel(
    envmod: EnvMod,
    templates: Templates,
    target: Target,
    *,
    display_name: str | None = None,
    module_system: Mapping[str, Any] | None = None,
    modulepath: Iterable[str] = (),
    name: str | None = None,
) -> KernelSpecInfo:
    """Write (or replace) the kernelspec of ``target``.

    ``module_system`` is ``{"kind": "lmod"|"environment-modules"|None, "command":
    path, ...}`` as recorded at creation; ``modulepath`` the module directories the
    dependencies ``target.modules`` come from. ``name`` keeps an existing kernel's
    name (a repair); by default :func:`kernel_names` chooses it. Everything is
    rendered before anything is written, so a template error leaves the old
    kernelspec as it was.
    """
    modulepath = list(modulepath or (module_system or {}).get("modulepath") or [])
    if name is None:
        name, default_display = kernel_names(envmod, target)
    else:
        check_kernel_name(name)
        default_display = display_name_for(envmod, target)
    display = display_name if display_name is not None else default_display
    root = kernel_dir(envmod)
    spec_dir = root / name
    recorded = _recorded_path(spec_dir) if spec_dir.exists() else _VANISHED
    if recorded is not _VANISHED and not _same_env(recorded, str(target.prefix), os.path.realpath(target.prefix)):
        raise InvalidInput(
            f"The kernel directory {spec_dir} belongs to "
            + (f"another environment ({recorded})" if recorded else "a kernel not made by jupyter_envmod")
            + "; choose another kernel name.",
            details={"field": "name", "value": name},
        )

    names = FileNames(kernel_name=name, kernel_display_name=display, kernel_dir=str(spec_dir))
    variables = context(target, names, envmod, module_system=_module_system_dict(module_system, modulepath))
    kernel_text = templates.render(KERNEL_FILE, variables)
    spec = _parse_kernel_json(kernel_text, templates, target)
    files: dict[str, bytes] = {
        KERNEL_FILE: _encode(kernel_text, target),
        LAUNCHER_FILE: _encode(templates.render(LAUNCHER_FILE, variables), target),
        SETTINGS_FILE: _encode(
            json.dumps(launcher_settings(envmod, target, module_system, modulepath), indent=2, ensure_ascii=False)
            + "\n",
            target,
        ),
    }
    for logo in LOGO_FILES:
        source = Path(templates.source_of(logo))
        if source.is_file():
            files[logo] = source.read_bytes()

    _install(root, name, files)
    return _info(spec_dir, spec)


def _encode(text: str, target: Target) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise InvalidInput(
            f"The environment path or name of {target.prefix!r} is not valid UTF-8, so no kernelspec can name it; "
            "rename or move the environment.",
            details={"field": "path"},
        ) from err


def _install(root: Path, name: str, files: dict[str, bytes]) -> None:
    """Write ``files`` into ``root/name`` by renaming a finished directory into place.

    The staging directory holds the new spec one level down, so Jupyter (which
    looks for ``root/*/kernel.json``) never sees it half written.
    """
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    try:
        new = staging / name
        new.mkdir()  # mode from the umask, like any kernelspec directory
        for file_name, data in files.items():
            (new / file_name).write_bytes(data)
        final = root / name
        for attempt in range(_INSTALL_ATTEMPTS):
            try:
                if final.exists() or final.is_symlink():
                    os.rename(final, staging / f"previous-{attempt}")
                os.rename(new, final)
                break
            except OSError as err:
                # another writer of the same kernel moved or replaced it in between
                if attempt == _INSTALL_ATTEMPTS - 1 or getattr(err, "errno", None) not in _RACE_ERRNOS:
                    raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- repair -------------------------------------------------------------------------------


def _python_version(python: str) -> str:
    """X.Y.Z of an environment's Python, asked from the interpreter."""
    code = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    try:
        proc = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def rewrite_kernel(
    envmod: EnvMod, templates: Templates, info: KernelSpecInfo, module_system: Mapping[str, Any] | None = None
) -> KernelSpecInfo:
    """Write the kernelspec ``info`` again (current templates and settings) from what
    it recorded: environment, display name, module dependencies and module system
    (``module_system`` replaces the recorded one when given)."""
    if info.orphan:
        raise InvalidInput(
            f"The kernel {info.name!r} cannot be repaired ({info.orphan}: {info.env_path}); remove it instead.",
            details={"field": "name", "value": info.name},
        )
    settings = _as_dict(_read_json(info.dir / SETTINGS_FILE))
    meta = _envmod_metadata(_read_json(info.dir / KERNEL_FILE))
    env = _as_dict(settings.get("environment"))
    prefix = Path(info.env_path)
    python_version = str(env.get("python_version") or meta.get("python_version") or "")
    if not python_version:
        python_version = _python_version(str(prefix / "bin" / "python"))
    kind = str(env.get("kind") or ("venv" if (prefix / "pyvenv.cfg").is_file() else "conda"))
    from .discovery import env_id

    target = Target(
        name=str(env.get("name") or info.env_name or prefix.name),
        prefix=prefix,
        engine=info.engine or str(env.get("engine") or "unknown"),
        kind=kind,
        python_version=python_version,
        created=info.created,
        env_id=env_id(os.path.realpath(prefix)),
        modules=tuple(str(m) for m in (settings.get("modules") or info.modules)),
    )
    recorded_system = _as_dict(settings.get("module_system")) or None
    modulepath = [str(p) for p in settings.get("modulepath") or []]
    return write_kernel(
        envmod,
        templates,
        target,
        display_name=info.display_name,
        module_system=module_system if module_system is not None else recorded_system,
        modulepath=modulepath,
        name=info.name,
    )
