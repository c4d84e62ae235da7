"""Module files and activation scripts for an environment.

One description of an environment (:class:`~jupyter_envmod.templating.Target`) becomes
up to four files, each rendered from a template a site can replace:

=======  ====================================  ==============================================
format   file                                  read by
=======  ====================================  ==============================================
``lua``  ``<module_dir>/<app>/<name>.lua``     Lmod
``tcl``  ``<module_dir>/<app>/<name>``         Environment Modules, and Lmod
``sh``   ``<activate_dir>/<name>.sh``          ``.``/``source`` in sh, bash, zsh
``csh``  ``<activate_dir>/<name>.csh``         ``source`` in csh, tcsh
=======  ====================================  ==============================================

Every generated file carries a marker in its first two lines: a comment holding one
line of JSON (``{"path": <env path>, "module": <app/name>, "format": ..., "version":
1}``). Listing and removal only ever look at files with that marker; anything else in
those directories belongs to someone else and is left alone.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .atomic_write import write_atomically
from .config import EnvMod, expand_path
from .errors import InvalidInput
from .templating import FileNames, Target, TemplateError, Templates, context, safe_file_name, to_csh

FORMATS = ("lua", "tcl", "sh", "csh")

#: the template each format is rendered from
TEMPLATE_FOR = {"lua": "modulefile.lua", "tcl": "modulefile.tcl", "sh": "activate.sh", "csh": "activate.csh"}

#: version of the marker's JSON; readers accept this one
MARKER_VERSION = 1

#: how the marker comment starts, per format
MARKER_PREFIX = {"lua": b"-- envmod: ", "tcl": b"# envmod: ", "sh": b"# envmod: ", "csh": b"# envmod: "}

# A marker line is short (a path and a module name); reading is capped so a huge
# one-line foreign file costs nothing.
_MARKER_LINE_LIMIT = 64 * 1024

ORPHAN_ENV = "environment missing"
ORPHAN_PYTHON = "python missing"


# -- names and places ----------------------------------------------------------------------


def module_name(envmod: EnvMod, target: Target) -> str:
    """The module name (the part after ``<app>/``) from ``module_name_template``,
    made safe as a file name and a module name."""
    raw = envmod.module_name_template.format(
        name=target.name,
        python_version=target.python_version,
        engine=target.engine,
        user=_login_name(),
        arch=platform.machine(),
    )
    return safe_file_name(raw)


def file_names(
    envmod: EnvMod, target: Target, *, module_dir: str | None = None, module_app: str | None = None
) -> FileNames:
    """Names and directories of the module files (kernel fields stay empty).

    ``module_dir`` and ``module_app`` override the site's ``EnvMod.module_dir`` and
    ``EnvMod.module_app`` (e.g. ``jupyter envmod module -m DIR``); ``module_dir`` gets
    the same expansion (``~``, ``$VAR``, ``{user}``, ``{arch}``).
    """
    app = envmod.module_app if module_app is None else module_app
    if not app or "/" in app or app in (".", "..") or "\0" in app:
        raise InvalidInput(
            f"module app {app!r} is not one directory name; give e.g. 'conda-env'",
            details={"field": "module_app", "value": app},
        )
    directory = _module_dir(envmod, module_dir)
    return FileNames(
        module_app=app,
        module_name=module_name(envmod, target),
        module_dir=directory,
        activate_dir=str(envmod.expanded("activate_dir")),
    )


def _module_dir(envmod: EnvMod, module_dir: str | None) -> str:
    if module_dir is None:
        return str(envmod.expanded("module_dir"))
    try:
        directory = os.path.normpath(expand_path(module_dir))
    except ValueError as err:
        raise InvalidInput(f"module directory {module_dir!r}: {err}", details={"field": "module_dir"}) from err
    if not os.path.isabs(directory):
        raise InvalidInput(f"module directory {module_dir!r} must be an absolute path", details={"field": "module_dir"})
    return directory


def paths_for(names: FileNames, formats: Iterable[str]) -> dict[str, Path]:
    """Where each format's file goes.

    The Lmod and the TCL module share ``<module_dir>/<app>/`` as ``<name>.lua`` and
    ``<name>``. Checked with the real systems (Lmod 8.6, Environment Modules 5.2,
    tests/core/test_modulefiles.py): with both files present Lmod lists the module
    once and loads only the ``.lua``; Environment Modules skips the ``.lua`` (it has
    no ``#%Module`` header) and loads the TCL file. So both formats can be generated
    side by side and each system loads exactly one of them.
    """
    module_dir = Path(names.module_dir) / names.module_app
    activate_dir = Path(names.activate_dir)
    places = {
        "lua": module_dir / f"{names.module_name}.lua",
        "tcl": module_dir / names.module_name,
        "sh": activate_dir / f"{names.module_name}.sh",
        "csh": activate_dir / f"{names.module_name}.csh",
    }
    result: dict[str, Path] = {}
    for fmt in formats:
        if fmt not in places:
            raise InvalidInput(
                f"unknown module file format {fmt!r}; use {', '.join(FORMATS)}", details={"field": "formats"}
            )
        result[fmt] = places[fmt]
    return result


# -- writing ----------------------------------------------------------------------------------


def write_module_files(
    envmod: EnvMod,
    templates: Templates,
    target: Target,
    formats: Iterable[str],
    *,
    module_dir: str | None = None,
    module_app: str | None = None,
    module_system: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """Render and write the files of ``formats`` for ``target``; their paths by format.

    Every file is rendered before any is written, so a template error
    (:class:`~jupyter_envmod.templating.TemplateError`) writes nothing. Each file is
    then replaced atomically (a temporary file in the same directory, then
    ``os.replace``), so a reader never sees half a module file. ``module_system``
    (``{"kind", "command", "modulepath"}``) is passed to the templates.
    """
    names = file_names(envmod, target, module_dir=module_dir, module_app=module_app)
    paths = paths_for(names, formats)
    variables = context(target, names, envmod, module_system=module_system)
    rendered: dict[str, str] = {}
    for fmt in paths:
        template = TEMPLATE_FOR[fmt]
        text = templates.render(template, variables)
        if _find_marker(text.encode("utf-8"), fmt) is None:
            raise TemplateError(
                f"the generated {fmt} file has no envmod marker in its first two lines "
                f"(a comment '{MARKER_PREFIX[fmt].decode()}{{...}}', see the built-in template): "
                "without it the file could not be listed or removed later",
                templates.source_of(template),
                None,
            )
        rendered[fmt] = text
    for fmt, path in paths.items():
        write_atomically(path, rendered[fmt])  # 0o666 and the umask decide the mode, as for any user file
    return paths


# -- listing and removing ---------------------------------------------------------------------


@dataclass
class ModuleFile:
    """A generated module file or activation script found on disk."""

    format: str
    path: Path
    env_path: str
    module: str
    #: why the file is an orphan ("environment missing", "python missing"), or None
    orphan: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": str(self.path),
            "env_path": self.env_path,
            "module": self.module,
            "orphan": self.orphan,
        }


def list_module_files(
    envmod: EnvMod, *, module_dir: str | None = None, module_app: str | None = None
) -> list[ModuleFile]:
    """The files this project generated in ``<module_dir>/<app>/`` and ``activate_dir``
    (one directory scan each, the first two lines of each file read), sorted by path.

    A file is listed only when it carries the envmod marker for the format its name
    implies; ``orphan`` says when its environment or the environment's Python is gone.
    """
    app = envmod.module_app if module_app is None else module_app
    places = (
        (os.path.join(_module_dir(envmod, module_dir), app), ("lua", "tcl")),
        (str(envmod.expanded("activate_dir")), ("sh", "csh")),
    )
    found: dict[str, ModuleFile] = {}
    checked: dict[str, str | None] = {}
    for directory, kinds in places:
        for entry in _scan(directory):
            if entry.path in found:  # activate_dir may be the module directory
                continue
            marker = _read_marker(entry.path)
            if marker is None or marker["format"] not in kinds:
                continue
            env_path = marker["path"]
            if env_path not in checked:
                checked[env_path] = _orphan_reason(env_path)
            found[entry.path] = ModuleFile(
                marker["format"], Path(entry.path), env_path, marker["module"], checked[env_path]
            )
    return sorted(found.values(), key=lambda f: str(f.path))


def remove_module_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Delete the given generated files; the paths actually removed.

    Missing files are ignored, and so is any file without the envmod marker: a
    hand-written module that happens to have the same name is never deleted.
    """
    removed: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.is_file() or _read_marker(str(path)) is None:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return removed


def _scan(directory: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as it:
            return [e for e in it if not e.name.startswith(".") and e.is_file(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def _read_marker(path: str) -> dict[str, Any] | None:
    """The marker of a file, from its first two lines; None when it has none or it
    does not fit the file's name: Lua, sh and csh files end in ``.lua``, ``.sh`` and
    ``.csh`` (a renamed copy such as ``x.lua.bak`` is not ours), a TCL module does not
    end in ``.lua`` (Lmod would read it as Lua)."""
    try:
        with open(path, "rb") as f:
            head = f.readline(_MARKER_LINE_LIMIT) + f.readline(_MARKER_LINE_LIMIT)
    except OSError:
        return None
    marker = _find_marker(head)
    if marker is None:
        return None
    suffix = {"lua": ".lua", "sh": ".sh", "csh": ".csh"}.get(marker["format"])
    name = os.path.basename(path)
    if suffix is not None and not name.endswith(suffix):
        return None
    if suffix is None and name.endswith(".lua"):
        return None
    return marker


def _find_marker(text: bytes, fmt: str | None = None) -> dict[str, Any] | None:
    """The marker in the first two lines of ``text`` (of format ``fmt`` when given)."""
    for line in text.split(b"\n", 2)[:2]:
        for kind, prefix in MARKER_PREFIX.items():
            if (fmt is None or kind == fmt) and line.startswith(prefix):
                try:
                    data = json.loads(line[len(prefix) :].decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    continue
                if (
                    isinstance(data, dict)
                    and data.get("format") == kind
                    and data.get("version") == MARKER_VERSION
                    and isinstance(data.get("path"), str)
                    and isinstance(data.get("module"), str)
                ):
                    return data
    return None


def _orphan_reason(env_path: str) -> str | None:
    if not os.path.isdir(env_path):
        return ORPHAN_ENV
    if not os.path.exists(os.path.join(env_path, "bin", "python")):
        return ORPHAN_PYTHON
    return None


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# -- telling the user -------------------------------------------------------------------------


def usage_lines(files: dict[str, Path], module_system_kind: str | None, names: FileNames) -> list[str]:
    """The lines a user types to use the written ``files`` (format → path), with
    comment lines saying which shell each script is for.

    Module files: ``module use <module_dir>`` then ``module load <app>/<name>`` —
    offered when a TCL module exists, or the Lua one and the module system is not
    Environment Modules (which cannot read Lua). Scripts: ``. <path>`` for sh (dash
    has no ``source``) and ``source <path>`` for csh, quoted for that shell.
    """
    lines: list[str] = []
    if "tcl" in files or ("lua" in files and module_system_kind != "environment-modules"):
        lines.append(f"module use {shlex.quote(names.module_dir)}")
        lines.append(f"module load {shlex.quote(names.module_app + '/' + names.module_name)}")
    scripts = [f for f in ("sh", "csh") if f in files]
    if scripts and lines:
        lines.append("# or, without a module system:")
    if "sh" in files:
        if len(scripts) > 1:
            lines.append("# sh, bash, zsh:")
        lines.append(f". {shlex.quote(str(files['sh']))}")
    if "csh" in files:
        if len(scripts) > 1:
            lines.append("# csh, tcsh:")
        path = str(files["csh"])
        lines.append(f"source {path if shlex.quote(path) == path else to_csh(path)}")
    return lines
