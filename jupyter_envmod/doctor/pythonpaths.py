"""Checks of what Python imports from outside an environment: packages in the user
site-packages (``user-site``), a global ``PYTHONPATH`` (``pythonpath``) and pip set up
for ``--user`` installs (``pip-user``)."""

from __future__ import annotations

import configparser
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from .results import OK, PROBLEM, WARNING, Outcome, failed, make_check
from .userfiles import assigns, beside, comment_out, inside, read, startup_lines

if TYPE_CHECKING:
    from ..discovery import Environment
    from .runner import Doctor

_TRUE = ("1", "true", "yes", "on")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


# -- user-site ---------------------------------------------------------------------------------


def _dist_name_version(path: Path) -> tuple[str, str] | None:
    """(normalised name, version) of a ``*.dist-info`` / ``*.egg-info`` entry, from its
    METADATA/PKG-INFO headers, else from the directory name."""
    from email.parser import HeaderParser

    from packaging.utils import canonicalize_name

    meta = path / ("METADATA" if path.name.endswith(".dist-info") else "PKG-INFO")
    name = version = ""
    try:
        lines: list[str] = []
        with open(meta, encoding="utf-8", errors="replace") as f:
            for line in f:  # the headers end at the first empty line
                if not line.strip():
                    break
                lines.append(line)
        headers = HeaderParser().parsestr("".join(lines))
        name, version = str(headers.get("Name") or ""), str(headers.get("Version") or "")
    except OSError:
        pass
    if not name:
        stem = path.name.rsplit(".", 1)[0]
        name, _, rest = stem.partition("-")
        version = version or rest.split("-", 1)[0]
    if not name:
        return None
    return canonicalize_name(name), version.strip() or "?"


def _user_base(doctor: Doctor) -> Path:
    raw = doctor.environ.get("PYTHONUSERBASE")
    return Path(os.path.expanduser(raw)) if raw else doctor.home / ".local"


def _templates_without_nousersite(doctor: Doctor) -> list[str]:
    """The site's kernel launcher and module templates (those generated here) that
    do not set PYTHONNOUSERSITE."""
    from ..templating import Templates

    templates = Templates.for_site(doctor.envmod)
    names = ["launcher.py"]
    by_format = {"lua": "modulefile.lua", "tcl": "modulefile.tcl", "sh": "activate.sh", "csh": "activate.csh"}
    names += [by_format[f] for f in doctor.envmod.module_formats if f in by_format]
    missing = []
    for name in names:
        source = templates.source_of(name)
        try:
            if "PYTHONNOUSERSITE" not in Path(source).read_text(encoding="utf-8"):
                missing.append(source)
        except OSError:
            missing.append(source)
    return missing


def _env_packages(doctor: Doctor, env: Environment) -> dict[str, str]:
    """Normalised name -> version of the Python distributions in an environment,
    read from the dist-info directories of its site-packages (no subprocess). Conda's
    Python packages install dist-info too, under the name Python imports them by
    (conda's own package names can differ, e.g. pytorch / torch), so the much larger
    conda-meta records need not be read."""
    from packaging.utils import canonicalize_name

    from ..engines.pip import UvPip

    found: dict[str, str] = {}
    for pkg in UvPip(doctor.envmod).installed(env.prefix, include_conda=True):
        found[canonicalize_name(pkg.name)] = pkg.version
    return found


def _sees_user_site(env: Environment) -> bool:
    """A venv made without system site-packages never reads the user site (Python's
    site.py turns it off); conda environments and other venvs do."""
    if env.kind != "venv":
        return True
    try:
        text = (env.prefix / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return True
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return True


def user_site(doctor: Doctor) -> Outcome:
    cid = "user-site"
    base = _user_base(doctor)
    pattern = f"{base}/lib/python3.*/site-packages"
    dirs = sorted(p for p in (base / "lib").glob("python3*/site-packages") if p.is_dir() and not p.is_symlink())
    filled: list[tuple[Path, dict[str, str]]] = []
    details: list[str] = []
    for sp in dirs:
        try:
            with os.scandir(sp) as it:
                names = sorted(e.name for e in it)
        except OSError as err:
            details.append(f"{sp}: cannot be read ({err.strerror})")
            continue
        if not names:
            continue
        dists: dict[str, str] = {}
        for name in names:
            if name.endswith((".dist-info", ".egg-info")):
                found = _dist_name_version(sp / name)
                if found is not None:
                    dists.setdefault(*found)
        filled.append((sp, dists))
    if not filled:
        if details:
            explanation = "The user site-packages could not be read; check its permissions."
            return make_check(cid, WARNING, f"Could not read {pattern}", explanation, details), None
        explanation = "Nothing installed with pip install --user can shadow the packages of your environments."
        return make_check(cid, OK, f"No packages in {pattern}", explanation), None

    shadows: list[str] = []
    environments = [e for e in doctor.environments() if e.python_version and _sees_user_site(e)]
    packages: dict[str, dict[str, str]] = {}
    for sp, dists in filled:
        xy = sp.parent.name[len("python") :].rstrip("t")
        for env in environments:
            if ".".join((env.python_version or "").split(".")[:2]) != xy:
                continue
            if env.path not in packages:
                packages[env.path] = _env_packages(doctor, env)
            for name in sorted(set(dists) & set(packages[env.path])):
                shadows.append(
                    f"{name} {dists[name]} shadows {name} {packages[env.path][name]} in {env.name} ({env.path})"
                )
    for sp, dists in filled:
        listed = ", ".join(f"{n} {v}" for n, v in sorted(dists.items())[:10])
        more = f", … ({len(dists)} in all)" if len(dists) > 10 else ""
        if dists:
            details.append(f"{sp}: {len(dists)} distribution(s): {listed}{more}")
        else:
            details.append(f"{sp}: files without distribution metadata (copied in by hand?)")
    missing = _templates_without_nousersite(doctor)
    if missing:
        generated = (
            "The site's templates " + ", ".join(missing) + " do not set PYTHONNOUSERSITE, so what they "
            "generate sees these packages too."
        )
    else:
        generated = (
            "Kernels and module files made by jupyter envmod set PYTHONNOUSERSITE=1 and do not see them, "
            "but python started any other way (a terminal, a batch job, other kernels) does."
        )
    explanation = (
        "Packages installed with pip install --user land here and are imported before those of a conda "
        f"environment with the same Python version. {generated} Move the directory aside (the fix; "
        "nothing is deleted) or uninstall them with pip uninstall, and install packages into an "
        "environment instead."
    )
    moves = [(sp, sp.with_name("site-packages.envmod-disabled-<YYYYmmdd-HHMMSS>")) for sp, _ in filled]
    fix = "Move " + "; ".join(f"{sp} to {dest}" for sp, dest in moves) + "; nothing is deleted"
    if shadows:
        summary = f"{len(shadows)} package(s) in your user site-packages shadow packages of your environments"
        check = make_check(cid, PROBLEM, summary, explanation, shadows + details)
    else:
        total = sum(len(d) for _, d in filled)
        where = ", ".join(str(sp) for sp, _ in filled)
        summary = f"{total} package(s) installed with pip --user in {where}" if total else f"Files in {where}"
        check = make_check(cid, WARNING, summary, explanation, details)
    check.fix = fix

    def apply(changed: list[str]) -> str:
        moved = []
        for sp, _ in filled:
            dest = beside(sp, "envmod-disabled")
            os.rename(sp, dest)
            changed += [str(sp), str(dest)]
            moved.append(f"{sp} -> {dest}")
        return "Moved " + "; ".join(moved) + ". Move it back to undo."

    return check, apply


# -- pythonpath --------------------------------------------------------------------------------


def pythonpath(doctor: Doctor) -> Outcome:
    cid = "pythonpath"
    value = doctor.environ.get("PYTHONPATH", "")
    found, unreadable = startup_lines(doctor, "PYTHONPATH")
    details: list[str] = []
    if value:
        details.append(f"PYTHONPATH is set in this environment: {value}")
    for path, numbers in found.items():
        lines = read(path).splitlines()
        details += [f"{path}:{n}: {lines[n - 1].strip()}" for n in numbers]
    details += unreadable
    if not value and not found:
        if unreadable:
            explanation = "These startup files could not be searched for PYTHONPATH; check their permissions."
            return make_check(cid, WARNING, "Some startup files could not be read", explanation, details), None
        explanation = "Neither this session nor your shell startup files set PYTHONPATH."
        return make_check(cid, OK, "PYTHONPATH is not set", explanation), None
    if doctor.envmod.kernel_keep_pythonpath:
        kernels = "This site's kernels keep it (EnvMod.kernel_keep_pythonpath), so they see it too."
    else:
        kernels = "Kernels made by jupyter envmod drop it, but terminals, batch jobs and other kernels do not."
    where = (
        "Remove it from your startup files (the fix comments those lines out)"
        if found
        else "It is not set in your startup files: look in the modules you load, your site's profile "
        "scripts or whatever started Jupyter; remove it there"
    )
    explanation = (
        "A global PYTHONPATH puts its packages in front of every environment's own, of every Python "
        f"version, which breaks imports in ways that are hard to see. {kernels} {where}, then log in again."
    )
    where_set = "in your startup files" if found else "in this session's environment"
    check = make_check(cid, PROBLEM, f"PYTHONPATH is set {where_set}", explanation, details)
    if not found:
        return check, None
    places = ", ".join(f"{p}:{n}" for p, numbers in found.items() for n in numbers)
    check.fix = (
        f"Comment out the lines that set PYTHONPATH ({places}) after copying each file to "
        "<file>.envmod-backup-<YYYYmmdd-HHMMSS>; log in again afterwards"
    )

    def apply(changed: list[str]) -> str:
        def still_set(path: Path, lines: list[str]) -> list[int]:
            return [n for n in found[path] if n <= len(lines) and assigns(lines[n - 1], "PYTHONPATH")]

        done, errors = comment_out(found, still_set, changed)
        summary = f"Commented out the PYTHONPATH lines in {', '.join(done)}." if done else ""
        if done and doctor.environ.get("PYTHONPATH"):
            summary += " PYTHONPATH stays set in sessions started before: log in again."
        return failed(errors, summary) or "Nothing left to change."

    return check, apply


# -- pip-user ----------------------------------------------------------------------------------


def _pip_config_files(doctor: Doctor) -> list[Path]:
    files: list[Path] = []
    xdg = doctor.environ.get("XDG_CONFIG_HOME")
    if xdg:
        files.append(Path(xdg) / "pip" / "pip.conf")
    files += [doctor.home / ".config" / "pip" / "pip.conf", doctor.home / ".pip" / "pip.conf"]
    explicit = doctor.environ.get("PIP_CONFIG_FILE")
    if explicit:
        files.append(Path(os.path.expanduser(explicit)))
    unique: dict[str, Path] = {}
    for path in files:
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def _user_lines(text: str) -> list[int]:
    """Line numbers of ``user = …`` options in the [global] and [install] sections."""
    section = ""
    numbers = []
    for n, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            section = header.group(1).strip().lower()
        elif section in ("global", "install") and re.match(r"\s*user\s*[=:]", line, re.IGNORECASE):
            numbers.append(n)
    return numbers


def pip_user(doctor: Doctor) -> Outcome:
    cid = "pip-user"
    details: list[str] = []
    problems = 0
    env_value = doctor.environ.get("PIP_USER")
    if _truthy(env_value):
        problems += 1
        details.append(f"PIP_USER={env_value} is set in this environment")
        found, _ = startup_lines(doctor, "PIP_USER")
        details += [f"{p}:{n}: sets PIP_USER" for p, numbers in found.items() for n in numbers]
    fixable: dict[Path, list[int]] = {}
    unreadable = 0
    if doctor.environ.get("PIP_CONFIG_FILE") == os.devnull:
        details.append(f"PIP_CONFIG_FILE={os.devnull}: pip reads no configuration files")
        files: list[Path] = []
    else:
        files = [p for p in _pip_config_files(doctor) if p.is_file()]
    for path in files:
        parser = configparser.RawConfigParser(strict=False)
        try:
            text = read(path)
            parser.read_string(text, source=str(path))
        except (OSError, UnicodeDecodeError, configparser.Error) as err:
            unreadable += 1
            details.append(f"{path}: cannot be read ({err})")
            continue
        sections = [s for s in ("global", "install") if parser.has_option(s, "user")]
        if not any(_truthy(parser.get(s, "user")) for s in sections):
            continue
        problems += 1
        numbers = _user_lines(text)
        details += [f"{path}:{n}: {text.splitlines()[n - 1].strip()}" for n in numbers]
        if inside(path, doctor.home):
            fixable[path] = numbers
        else:
            details.append(f"{path} is not in your home directory: ask whoever manages it, or override it")
    if not problems:
        if unreadable:
            explanation = "pip may not be able to read it either: check its syntax (INI sections and options)."
            summary = "A pip configuration file could not be read"
            return make_check(cid, WARNING, summary, explanation, details), None
        explanation = "pip installs into the active environment, as it should."
        return make_check(cid, OK, "pip is not configured for --user installs", explanation, details), None
    explanation = (
        "With user = true (or PIP_USER) pip installs into ~/.local instead of the active environment: in a "
        "venv it refuses to install, in a conda environment the packages land in the user site-packages and "
        "shadow those of every environment with the same Python version. Remove the setting"
        + (
            "; PIP_USER must be removed where it is set (see the details), then log in again."
            if _truthy(env_value)
            else "."
        )
    )
    check = make_check(cid, PROBLEM, "pip is configured for --user installs", explanation, details)
    if not fixable:
        return check, None
    places = ", ".join(f"{p}:{n}" for p, numbers in fixable.items() for n in numbers)
    check.fix = (
        f"Comment out the user option ({places}) after copying each file to <file>.envmod-backup-<YYYYmmdd-HHMMSS>"
    )

    def apply(changed: list[str]) -> str:
        done, errors = comment_out(fixable, lambda _, lines: _user_lines("".join(lines)), changed)
        message = f"Commented out the user option in {', '.join(done)}." if done else "Nothing left to change."
        if _truthy(env_value):
            message += " PIP_USER is still set in this environment: remove it where it is set and log in again."
        return failed(errors, message)

    return check, apply
