"""Checks of the site's tools as the user meets them: a module system for the module
files configured (``module-system``) and conda channels in the ``.condarc`` files
(``condarc-channels``: conda-forge mixed with Anaconda's channels, or no strict
priority), with the fix that edits the user's own ``.condarc`` in place."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .results import OK, PROBLEM, WARNING, Outcome, failed, make_check
from .userfiles import backup, inside, read, rewrite

if TYPE_CHECKING:
    from .runner import Doctor

#: channel names of Anaconda's own repository ("defaults" and what it expands to)
_ANACONDA_CHANNELS = frozenset(
    {"defaults", "main", "r", "msys2", "free", "pro", "anaconda"}
    | {"pkgs/main", "pkgs/r", "pkgs/msys2", "pkgs/free", "pkgs/pro"}
)


# -- module-system -----------------------------------------------------------------------------


def module_system(doctor: Doctor) -> Outcome:
    cid = "module-system"
    formats = list(doctor.envmod.module_formats)
    module_formats = [f for f in formats if f in ("lua", "tcl")]
    if not module_formats:
        summary = f"No module files are configured (module_formats: {', '.join(formats) or 'none'})"
        return make_check(cid, OK, summary, "Activation scripts need no module system."), None
    info = doctor.module_system
    if info.kind is None:
        explanation = (
            f"jupyter envmod is set to write {' and '.join(module_formats)} module files, but no module system "
            "(Lmod or Environment Modules) was found, so `module load` will not work here. Load your site's "
            "module system (log in through a shell that initialises it), or have the site set "
            'EnvMod.module_formats to ["sh", "csh"] to write only activation scripts.'
        )
        return make_check(cid, WARNING, "No module system found", explanation, [info.detail]), None
    if info.kind == "environment-modules" and "lua" in formats and "tcl" not in formats:
        explanation = (
            "Environment Modules cannot read Lua module files, and no TCL module files are written. "
            'Ask your site to add "tcl" to EnvMod.module_formats.'
        )
        summary = "Only Lua module files are written, but the module system is Environment Modules"
        return make_check(cid, WARNING, summary, explanation, [info.detail]), None
    summary = info.detail or f"{info.kind} {info.version or ''}".strip()
    if info.kind == "environment-modules" and "lua" in module_formats:
        explanation = "module load uses the TCL module files written here (Environment Modules skips Lua ones)."
    else:
        explanation = f"module load works with the {' and '.join(module_formats)} module files written here."
    return make_check(cid, OK, summary, explanation), None


# -- condarc-channels --------------------------------------------------------------------------


def _is_anaconda_channel(channel: str) -> bool:
    low = channel.strip().rstrip("/").lower()
    if low in _ANACONDA_CHANNELS or "repo.anaconda.com" in low or "repo.continuum.io" in low:
        return True
    return low.endswith("conda.anaconda.org/anaconda")


def _is_conda_forge(channel: str) -> bool:
    return channel.strip().rstrip("/").lower().rsplit("/", 1)[-1] == "conda-forge"


def _own_condarc(doctor: Doctor, path: Path) -> bool:
    """A .condarc the user owns: in $HOME and not inside a conda installation."""
    if not inside(path, doctor.home):
        return False
    environ = doctor.environ
    return not any(environ.get(v) and inside(path, environ[v]) for v in ("CONDA_PREFIX", "CONDA_ROOT"))


def condarc_channels(doctor: Doctor) -> Outcome:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    from ..discovery import condarc_files

    cid = "condarc-channels"
    yaml = YAML(typ="safe", pure=True)
    details: list[str] = []
    channels: dict[str, list[Path]] = {}
    priority, priority_file = "flexible", None
    unreadable = 0
    files = condarc_files(dict(doctor.environ))
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"))
        except (OSError, YAMLError, UnicodeDecodeError) as err:
            unreadable += 1
            details.append(f"{path}: cannot be read ({str(err).splitlines()[0] if str(err) else err!r})")
            continue
        if not isinstance(data, dict):
            continue
        listed = data.get("channels")
        if isinstance(listed, str):
            listed = [listed]
        if isinstance(listed, list):
            names = [str(c) for c in listed if isinstance(c, (str, int, float))]
            for name in names:
                channels.setdefault(name, []).append(path)
            if names:
                details.append(f"{path}: channels {', '.join(names)}")
        if "channel_priority" in data:
            priority, priority_file = str(data["channel_priority"]).lower(), path
    if not files:
        return make_check(cid, OK, "No .condarc files found", "conda uses its built-in settings."), None
    forge = [c for c in channels if _is_conda_forge(c)]
    anaconda = [c for c in channels if _is_anaconda_channel(c)]
    mixing = bool(forge and anaconda)
    loose = len(channels) > 1 and priority != "strict"
    if loose:
        set_where = f" (set in {priority_file})" if priority_file else " (conda's default)"
        details.append(f"channel_priority: {priority}{set_where}")
    if not mixing and not loose:
        if unreadable:
            explanation = "conda cannot read it either: check its YAML syntax."
            return make_check(cid, WARNING, "A .condarc file could not be read", explanation, details), None
        listed = ", ".join(channels) or "none listed"
        explanation = "Packages come from channels that are built to work together."
        return make_check(cid, OK, f"No channel mixing (channels: {listed})", explanation, details), None
    if mixing:
        summary = f"conda-forge is mixed with Anaconda's channels ({', '.join(anaconda)})"
        explanation = (
            "Packages from conda-forge and from Anaconda's defaults channels are built differently; mixing "
            "them gives broken or conflicting environments (and Anaconda's channels need a licence for "
            "many organisations). Use conda-forge alone, with channel_priority: strict."
        )
        status = PROBLEM
    else:
        summary = f"{len(channels)} channels are listed but channel_priority is {priority}, not strict"
        explanation = (
            "With several channels and a priority other than strict, conda may take each package from any of "
            "them, mixing builds that were not made to work together. Set channel_priority: strict."
        )
        status = WARNING
    check = make_check(cid, status, summary, explanation, details)
    # the user's own files only: those listing Anaconda's channels lose them; the last
    # one (the highest priority of the user's) gets channel_priority: strict
    own = [p for p in files if _own_condarc(doctor, p)]
    dropping = {p: [c for c in anaconda if p in channels[c]] for p in own} if mixing else {}
    dropping = {p: names for p, names in dropping.items() if names}
    if mixing and not dropping:
        check.explanation += (
            " Anaconda's channels come from files that are not yours ("
            + ", ".join(str(p) for c in anaconda for p in channels[c])
            + "): list only conda-forge in your ~/.condarc or ask your site."
        )
    targets = list(dict.fromkeys([*dropping, *own[-1:]]))
    if not targets or (mixing and not dropping and not loose):
        return check, None
    check.fix = "; ".join(
        f"In {p}: "
        + (f"drop {', '.join(dropping[p])} from the channels and " if p in dropping else "")
        + "set channel_priority: strict (after copying it to <file>.envmod-backup-<YYYYmmdd-HHMMSS>)"
        for p in targets
    )

    def apply(changed: list[str]) -> str:
        errors: list[str] = []
        done: list[str] = []
        for path in targets:
            try:
                copy = backup(path, changed)
                rewrite(path, _strict_condarc(read(path), drop_anaconda=path in dropping))
            except (OSError, YAMLError, ValueError) as err:
                errors.append(f"{path}: {err}")
                continue
            changed.append(str(path))
            done.append(f"{path} (backup {copy})")
        return failed(errors, f"Updated {', '.join(done)}." if done else "")

    return check, apply


def _strict_condarc(text: str, *, drop_anaconda: bool) -> str:
    """``text`` (a .condarc) with Anaconda's channels dropped (when asked) and
    ``channel_priority: strict``, edited round-trip so comments and order stay."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    yaml = YAML()
    yaml.preserve_quotes = True
    if re.search(r"^[ \t]+- ", text, re.MULTILINE):  # keep an indented list style
        yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(text)
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise ValueError("the file is not a YAML mapping")
    listed = data.get("channels")
    if drop_anaconda and isinstance(listed, list):
        for i in reversed(range(len(listed))):
            if isinstance(listed[i], str) and _is_anaconda_channel(listed[i]):
                del listed[i]
    elif drop_anaconda and isinstance(listed, str) and _is_anaconda_channel(listed):
        data["channels"] = []
    data["channel_priority"] = "strict"
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()
