"""Doctor: checks of the user's setup for the usual breakages, each with a fix that
runs only when asked for by name.

:class:`Doctor` runs the checks listed in :data:`CHECK_IDS` and reports each as a
:class:`Check` (status, one-line summary, explanation, details, and the fix on
offer). :meth:`Doctor.fix` re-runs the named checks and applies their fixes; files
are copied to a backup or moved aside before they change, so nothing the user wrote
is lost. Synchronous and without tornado: the server calls it in a worker thread,
the CLI directly. Reading is cheap (a few small files and directory scans); the
only subprocess is one run of ``quota`` when that tool exists.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import os
import re
import shlex
import shutil
import stat
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import EnvModError, InvalidInput

if TYPE_CHECKING:
    from .config import EnvMod
    from .discovery import Environment
    from .siteinfo import ModuleSystemInfo

STATUSES = ("ok", "warning", "problem")
OK, WARNING, PROBLEM = STATUSES

CHECK_IDS: tuple[str, ...] = (
    "user-site",
    "pythonpath",
    "pip-user",
    "caches",
    "disk-space",
    "orphan-kernels",
    "orphan-modules",
    "interrupted",
    "environments-txt",
    "module-system",
    "condarc-channels",
)

TITLES = {
    "user-site": "User site-packages",
    "pythonpath": "PYTHONPATH",
    "pip-user": "pip --user installs",
    "caches": "Package caches in $HOME",
    "disk-space": "Free space and quota",
    "orphan-kernels": "Orphan kernels",
    "orphan-modules": "Orphan module files",
    "interrupted": "Interrupted environments",
    "environments-txt": "conda's environments.txt",
    "module-system": "Module system",
    "condarc-channels": "Channels in .condarc",
}

#: shell startup files searched for PYTHONPATH (and PIP_USER) assignments
STARTUP_FILES = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".cshrc", ".tcshrc")
#: what a line commented out by the pythonpath and pip-user fixes starts with
DISABLED_PREFIX = "# disabled by jupyter envmod doctor: "
GIB = 1024**3
#: free space / free inodes below which disk-space reports a problem, resp. a warning
PROBLEM_FREE, WARNING_FREE = 1 * GIB, 5 * GIB
PROBLEM_INODES, WARNING_INODES = 2.0, 10.0
QUOTA_TIMEOUT = 10.0  # seconds; `quota` on a busy login node (NFS) can hang
QUOTA_LINES = 20  # lines of its output kept in the details
_TRUE = ("1", "true", "yes", "on")

#: channel names of Anaconda's own repository ("defaults" and what it expands to)
_ANACONDA_CHANNELS = frozenset(
    {"defaults", "main", "r", "msys2", "free", "pro", "anaconda"}
    | {"pkgs/main", "pkgs/r", "pkgs/msys2", "pkgs/free", "pkgs/pro"}
)

_T = TypeVar("_T")


@dataclass
class Check:
    """The outcome of one check."""

    id: str
    title: str
    status: str
    summary: str
    explanation: str
    details: list[str] = field(default_factory=list)
    #: what :meth:`Doctor.fix` would do now, exactly; None when nothing can be fixed automatically
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "explanation": self.explanation,
            "details": list(self.details),
            "fix": self.fix,
        }


@dataclass
class FixResult:
    """What one fix did."""

    id: str
    fixed: bool
    message: str
    changed: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def report(checks: Sequence[Check]) -> dict[str, Any]:
    """``{"checks": [...], "counts": {"ok": n, "warning": n, "problem": n}}``."""
    counts = dict.fromkeys(STATUSES, 0)
    for check in checks:
        counts[check.status] = counts.get(check.status, 0) + 1
    return {"checks": [c.to_json() for c in checks], "counts": counts}


class FixFailed(EnvModError):
    """Part of a fix could not be done; the message lists what and why."""

    reason = "fix-failed"


#: applies a fix, appending every path it writes, moves or removes to the list; returns what it did
Fixer = Callable[[list[str]], str]
Outcome = tuple[Check, Fixer | None]


# -- small helpers ---------------------------------------------------------------------------


def human_size(size: float) -> str:
    """``size`` bytes as "512 B", "3.0 MiB", "1.2 GiB"."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _beside(path: Path, label: str) -> Path:
    """A free name next to ``path``: ``<name>.<label>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``
    appended when two fixes run within one second)."""
    base = f"{path.name}.{label}-{_stamp()}"
    candidate = path.with_name(base)
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{base}-{number}")
        number += 1
    return candidate


def _backup(path: Path, changed: list[str]) -> Path:
    """Copy ``path`` (its content, following a symlink) to ``<path>.envmod-backup-<stamp>``."""
    dest = _beside(path, "envmod-backup")
    shutil.copy2(path, dest)
    changed.append(str(dest))
    return dest


def _rewrite(path: Path, text: str) -> None:
    """Replace the content of ``path`` (the file a symlink points at, for dotfiles kept
    in a repository) atomically, keeping its mode."""
    real = Path(os.path.realpath(path))
    tmp = real.with_name(f".{real.name}.envmod-{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(text)
        shutil.copymode(real, tmp)
        os.replace(tmp, real)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def _inside(path: str | Path, directory: str | Path) -> bool:
    """``path`` is ``directory`` or below it (real paths compared)."""
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return real == top or real.startswith(top.rstrip("/") + "/")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


def _disk_usage(top: Path) -> int:
    """Bytes used on disk below ``top`` (like ``du``: allocated blocks, each hard-linked
    file once, symlinks not followed), by an ``os.scandir`` walk."""
    total = 0
    linked: set[tuple[int, int]] = set()
    stack = [str(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
            elif st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in linked:
                    continue
                linked.add(key)
            total += st.st_blocks * 512
    return total


def _rmtree(path: Path) -> None:
    """Remove a directory tree, also one with read-only directories in it (some tools
    write their caches so)."""
    try:
        shutil.rmtree(path)
        return
    except PermissionError:
        pass
    stack = [str(path)]
    while stack:
        directory = stack.pop()
        with contextlib.suppress(OSError):
            os.chmod(directory, stat.S_IMODE(os.lstat(directory).st_mode) | stat.S_IRWXU)
        try:
            with os.scandir(directory) as it:
                stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
    shutil.rmtree(path)


def _empty_directory(directory: Path) -> None:
    """Delete everything inside ``directory``, keeping the directory itself."""
    with os.scandir(directory) as it:
        entries = list(it)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _rmtree(Path(entry.path))
        else:
            os.unlink(entry.path)


def _run_async(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to its end from synchronous code: on a fresh event loop, in a
    helper thread when this thread already runs one."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def _reason(err: Exception) -> str:
    """An exception as a reason for people: the message of ours and of OS and value
    errors, the type too for anything unexpected."""
    if isinstance(err, EnvModError):
        return err.message
    if isinstance(err, (OSError, ValueError)):
        return str(err)
    return f"{type(err).__name__}: {err}"


def _failed(errors: list[str], done: str) -> str:
    if errors:
        raise FixFailed("; ".join(errors) + (f" ({done})" if done else ""))
    return done


# -- reading startup files, pip and conda configuration ---------------------------------------


def _assigns(line: str, variable: str) -> bool:
    """Whether a shell startup file line sets ``variable`` for the session: ``export
    VAR=…``, ``VAR=…`` (not as a prefix of a command: ``VAR=x prog`` sets it for
    ``prog`` only) or csh's ``setenv VAR …``."""
    stripped = line.strip()
    if re.match(rf"setenv\s+{variable}(\s|$)", stripped):
        return True
    match = re.match(rf"(export\s+|declare\s+-x\s+|typeset\s+-x\s+)?{variable}=", stripped)
    if match is None:
        return False
    if match.group(1):
        return True
    try:
        lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: count it rather than miss it
        return True
    return len(tokens) < 2 or tokens[1] in (";", "&&", "||", "&")


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


def _is_anaconda_channel(channel: str) -> bool:
    low = channel.strip().rstrip("/").lower()
    if low in _ANACONDA_CHANNELS or "repo.anaconda.com" in low or "repo.continuum.io" in low:
        return True
    return low.endswith("conda.anaconda.org/anaconda")


def _is_conda_forge(channel: str) -> bool:
    return channel.strip().rstrip("/").lower().rsplit("/", 1)[-1] == "conda-forge"


# -- the doctor ------------------------------------------------------------------------------


class Doctor:
    """Runs the checks and their fixes for the user whose environment is ``environ``."""

    def __init__(
        self,
        envmod: EnvMod,
        *,
        environ: Mapping[str, str] | None = None,
        module_system: ModuleSystemInfo | None = None,
    ):
        self.envmod = envmod
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        home = self.environ.get("HOME")
        self.home = Path(home) if home else Path.home()
        self._module_system = module_system
        self._checks: dict[str, Callable[[], Outcome]] = {
            "user-site": self._user_site,
            "pythonpath": self._pythonpath,
            "pip-user": self._pip_user,
            "caches": self._caches,
            "disk-space": self._disk_space,
            "orphan-kernels": self._orphan_kernels,
            "orphan-modules": self._orphan_modules,
            "interrupted": self._interrupted,
            "environments-txt": self._environments_txt,
            "module-system": self._module_system_check,
            "condarc-channels": self._condarc_channels,
        }

    @property
    def module_system(self) -> ModuleSystemInfo:
        if self._module_system is None:
            from .siteinfo import detect_module_system

            self._module_system = detect_module_system(dict(self.environ))
        return self._module_system

    # -- public ------------------------------------------------------------------------------
    def run(self, ids: Sequence[str] | None = None) -> list[Check]:
        """The checks ``ids`` (all when None or empty), in :data:`CHECK_IDS` order."""
        wanted = set(self._known(ids)) if ids else set(CHECK_IDS)
        return [self._run_one(cid)[0] for cid in CHECK_IDS if cid in wanted]

    def fix(self, ids: Sequence[str]) -> list[FixResult]:
        """Apply the fixes of the checks ``ids`` (each checked again first). One fix
        failing does not stop the others."""
        if not ids:
            raise InvalidInput(
                f"checks: name at least one check to fix; known checks: {', '.join(CHECK_IDS)}.",
                details={"field": "checks"},
            )
        results: list[FixResult] = []
        for cid in dict.fromkeys(self._known(ids)):
            check, fixer = self._run_one(cid)
            if fixer is None or check.fix is None:
                message = "nothing to fix" if check.status == OK else f"no automatic fix: {check.explanation}"
                results.append(FixResult(cid, False, message))
                continue
            changed: list[str] = []
            try:
                message = fixer(changed)
            except Exception as err:  # reported, never raised: the other fixes still run
                results.append(FixResult(cid, False, f"the fix failed: {_reason(err)}", changed))
                continue
            results.append(FixResult(cid, True, message, changed))
        return results

    # -- plumbing ----------------------------------------------------------------------------
    @staticmethod
    def _known(ids: Sequence[str]) -> list[str]:
        if isinstance(ids, str):
            ids = [ids]
        unknown = [str(i) for i in ids if i not in CHECK_IDS]
        if unknown:
            raise InvalidInput(
                f"checks: unknown check {', '.join(repr(u) for u in unknown)}; known checks: {', '.join(CHECK_IDS)}.",
                details={"field": "checks", "value": unknown},
            )
        return list(ids)

    def _run_one(self, cid: str) -> Outcome:
        try:
            check, fixer = self._checks[cid]()
        except Exception as err:  # a check that cannot run says why instead of failing the report
            text = _reason(err)
            return (
                Check(
                    cid,
                    TITLES[cid],
                    WARNING,
                    f"This check could not run: {text}",
                    "Something needed for this check could not be read. The other checks are not affected.",
                ),
                None,
            )
        if check.status == OK:
            check.fix, fixer = None, None
        elif fixer is None:
            check.fix = None
        return check, fixer

    def _check(self, cid: str, status: str, summary: str, explanation: str, details: Iterable[str] = ()) -> Check:
        return Check(cid, TITLES[cid], status, summary, explanation, list(details))

    def _environments(self) -> list[Environment]:
        from .discovery import list_environments

        return list_environments(self.envmod)

    # -- user-site ---------------------------------------------------------------------------
    def _user_base(self) -> Path:
        raw = self.environ.get("PYTHONUSERBASE")
        return Path(os.path.expanduser(raw)) if raw else self.home / ".local"

    def _templates_without_nousersite(self) -> list[str]:
        """The site's kernel launcher and module templates (those generated here) that
        do not set PYTHONNOUSERSITE."""
        from .templating import Templates

        templates = Templates.for_site(self.envmod)
        names = ["launcher.py"]
        by_format = {"lua": "modulefile.lua", "tcl": "modulefile.tcl", "sh": "activate.sh", "csh": "activate.csh"}
        names += [by_format[f] for f in self.envmod.module_formats if f in by_format]
        missing = []
        for name in names:
            source = templates.source_of(name)
            try:
                if "PYTHONNOUSERSITE" not in Path(source).read_text(encoding="utf-8"):
                    missing.append(source)
            except OSError:
                missing.append(source)
        return missing

    def _env_packages(self, env: Environment) -> dict[str, str]:
        """Normalised name -> version of the Python packages in an environment (read
        from its dist-info directories and conda-meta records, no subprocess)."""
        from packaging.utils import canonicalize_name

        from .engines.condameta import conda_packages
        from .engines.pip import UvPip

        found: dict[str, str] = {}
        if env.kind == "conda":
            for pkg in conda_packages(env.prefix):
                found.setdefault(canonicalize_name(pkg.name), pkg.version)
        for pkg in UvPip(self.envmod).installed(env.prefix, include_conda=True):
            found[canonicalize_name(pkg.name)] = pkg.version
        return found

    @staticmethod
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

    def _user_site(self) -> Outcome:
        cid = "user-site"
        base = self._user_base()
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
                return self._check(cid, WARNING, f"Could not read {pattern}", explanation, details), None
            explanation = "Nothing installed with pip install --user can shadow the packages of your environments."
            return self._check(cid, OK, f"No packages in {pattern}", explanation), None

        shadows: list[str] = []
        environments = [e for e in self._environments() if e.python_version and self._sees_user_site(e)]
        packages: dict[str, dict[str, str]] = {}
        for sp, dists in filled:
            xy = sp.parent.name[len("python") :].rstrip("t")
            for env in environments:
                if ".".join((env.python_version or "").split(".")[:2]) != xy:
                    continue
                if env.path not in packages:
                    packages[env.path] = self._env_packages(env)
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
        missing = self._templates_without_nousersite()
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
            check = self._check(cid, PROBLEM, summary, explanation, shadows + details)
        else:
            total = sum(len(d) for _, d in filled)
            where = ", ".join(str(sp) for sp, _ in filled)
            summary = f"{total} package(s) installed with pip --user in {where}" if total else f"Files in {where}"
            check = self._check(cid, WARNING, summary, explanation, details)
        check.fix = fix

        def apply(changed: list[str]) -> str:
            moved = []
            for sp, _ in filled:
                dest = _beside(sp, "envmod-disabled")
                os.rename(sp, dest)
                changed += [str(sp), str(dest)]
                moved.append(f"{sp} -> {dest}")
            return "Moved " + "; ".join(moved) + ". Move it back to undo."

        return check, apply

    # -- pythonpath ---------------------------------------------------------------------------
    def _startup_lines(self, variable: str) -> tuple[dict[Path, list[int]], list[str]]:
        """{startup file: [line numbers that set ``variable``]} and the files that could
        not be read."""
        found: dict[Path, list[int]] = {}
        unreadable: list[str] = []
        for name in STARTUP_FILES:
            path = self.home / name
            if not path.is_file():
                continue
            try:
                lines = _read(path).splitlines()
            except (OSError, UnicodeDecodeError) as err:
                unreadable.append(f"{path}: cannot be read ({err})")
                continue
            numbers = [n for n, line in enumerate(lines, 1) if _assigns(line, variable)]
            if numbers:
                found[path] = numbers
        return found, unreadable

    def _pythonpath(self) -> Outcome:
        cid = "pythonpath"
        value = self.environ.get("PYTHONPATH", "")
        found, unreadable = self._startup_lines("PYTHONPATH")
        details: list[str] = []
        if value:
            details.append(f"PYTHONPATH is set in this environment: {value}")
        for path, numbers in found.items():
            lines = _read(path).splitlines()
            details += [f"{path}:{n}: {lines[n - 1].strip()}" for n in numbers]
        details += unreadable
        if not value and not found:
            if unreadable:
                explanation = "These startup files could not be searched for PYTHONPATH; check their permissions."
                return self._check(cid, WARNING, "Some startup files could not be read", explanation, details), None
            explanation = "Neither this session nor your shell startup files set PYTHONPATH."
            return self._check(cid, OK, "PYTHONPATH is not set", explanation), None
        if self.envmod.kernel_keep_pythonpath:
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
        check = self._check(cid, PROBLEM, f"PYTHONPATH is set {where_set}", explanation, details)
        if not found:
            return check, None
        places = ", ".join(f"{p}:{n}" for p, numbers in found.items() for n in numbers)
        check.fix = (
            f"Comment out the lines that set PYTHONPATH ({places}) after copying each file to "
            "<file>.envmod-backup-<YYYYmmdd-HHMMSS>; log in again afterwards"
        )
        return check, lambda changed: self._comment_out(found, "PYTHONPATH", changed)

    def _comment_out(self, found: dict[Path, list[int]], variable: str, changed: list[str]) -> str:
        errors: list[str] = []
        done: list[str] = []
        for path, numbers in found.items():
            try:
                lines = _read(path).splitlines(keepends=True)
                wanted = [n for n in numbers if n <= len(lines) and _assigns(lines[n - 1], variable)]
                if not wanted:
                    continue
                backup = _backup(path, changed)
                for n in wanted:
                    lines[n - 1] = DISABLED_PREFIX + lines[n - 1]
                _rewrite(path, "".join(lines))
                changed.append(str(path))
                done.append(f"{path} (backup {backup})")
            except OSError as err:
                errors.append(f"{path}: {err}")
        summary = f"Commented out the {variable} lines in {', '.join(done)}." if done else ""
        if done and self.environ.get(variable):
            summary += f" {variable} stays set in sessions started before: log in again."
        return _failed(errors, summary) or "Nothing left to change."

    # -- pip-user ----------------------------------------------------------------------------
    def _pip_config_files(self) -> list[Path]:
        files: list[Path] = []
        xdg = self.environ.get("XDG_CONFIG_HOME")
        if xdg:
            files.append(Path(xdg) / "pip" / "pip.conf")
        files += [self.home / ".config" / "pip" / "pip.conf", self.home / ".pip" / "pip.conf"]
        explicit = self.environ.get("PIP_CONFIG_FILE")
        if explicit:
            files.append(Path(os.path.expanduser(explicit)))
        unique: dict[str, Path] = {}
        for path in files:
            unique.setdefault(os.path.realpath(path), path)
        return list(unique.values())

    @staticmethod
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

    def _pip_user(self) -> Outcome:
        cid = "pip-user"
        details: list[str] = []
        problems = 0
        env_value = self.environ.get("PIP_USER")
        if _truthy(env_value):
            problems += 1
            details.append(f"PIP_USER={env_value} is set in this environment")
            found, _ = self._startup_lines("PIP_USER")
            details += [f"{p}:{n}: sets PIP_USER" for p, numbers in found.items() for n in numbers]
        fixable: dict[Path, list[int]] = {}
        unreadable = 0
        if self.environ.get("PIP_CONFIG_FILE") == os.devnull:
            details.append(f"PIP_CONFIG_FILE={os.devnull}: pip reads no configuration files")
            files: list[Path] = []
        else:
            files = [p for p in self._pip_config_files() if p.is_file()]
        for path in files:
            parser = configparser.RawConfigParser(strict=False)
            try:
                text = _read(path)
                parser.read_string(text, source=str(path))
            except (OSError, UnicodeDecodeError, configparser.Error) as err:
                unreadable += 1
                details.append(f"{path}: cannot be read ({err})")
                continue
            sections = [s for s in ("global", "install") if parser.has_option(s, "user")]
            if not any(_truthy(parser.get(s, "user")) for s in sections):
                continue
            problems += 1
            numbers = self._user_lines(text)
            details += [f"{path}:{n}: {text.splitlines()[n - 1].strip()}" for n in numbers]
            if _inside(path, self.home):
                fixable[path] = numbers
            else:
                details.append(f"{path} is not in your home directory: ask whoever manages it, or override it")
        if not problems:
            if unreadable:
                explanation = "pip may not be able to read it either: check its syntax (INI sections and options)."
                summary = "A pip configuration file could not be read"
                return self._check(cid, WARNING, summary, explanation, details), None
            explanation = "pip installs into the active environment, as it should."
            return self._check(cid, OK, "pip is not configured for --user installs", explanation, details), None
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
        check = self._check(cid, PROBLEM, "pip is configured for --user installs", explanation, details)
        if not fixable:
            return check, None
        places = ", ".join(f"{p}:{n}" for p, numbers in fixable.items() for n in numbers)
        check.fix = (
            f"Comment out the user option ({places}) after copying each file to <file>.envmod-backup-<YYYYmmdd-HHMMSS>"
        )

        def apply(changed: list[str]) -> str:
            errors: list[str] = []
            done: list[str] = []
            for path in fixable:
                try:
                    lines = _read(path).splitlines(keepends=True)
                    numbers = self._user_lines("".join(lines))
                    if not numbers:
                        continue
                    backup = _backup(path, changed)
                    for n in numbers:
                        lines[n - 1] = DISABLED_PREFIX + lines[n - 1]
                    _rewrite(path, "".join(lines))
                    changed.append(str(path))
                    done.append(f"{path} (backup {backup})")
                except OSError as err:
                    errors.append(f"{path}: {err}")
            message = f"Commented out the user option in {', '.join(done)}." if done else "Nothing left to change."
            if _truthy(env_value):
                message += " PIP_USER is still set in this environment: remove it where it is set and log in again."
            return _failed(errors, message)

        return check, apply

    # -- caches ------------------------------------------------------------------------------
    def _cache_dirs(self) -> list[tuple[str, Path]]:
        """(label, directory) of the package caches that lie in $HOME, each once."""
        xdg = Path(self.environ.get("XDG_CACHE_HOME") or self.home / ".cache")
        candidates: list[tuple[str, Path]] = [
            ("pip cache", Path(self.environ.get("PIP_CACHE_DIR") or xdg / "pip")),
            ("uv cache", Path(self.environ.get("UV_CACHE_DIR") or xdg / "uv")),
            ("rattler cache", Path(self.environ.get("RATTLER_CACHE_DIR") or xdg / "rattler")),
            ("conda package cache", self.home / ".conda" / "pkgs"),
            ("mamba package cache", self.home / ".mamba" / "pkgs"),
        ]
        if self.envmod.cache_dir:
            with contextlib.suppress(ValueError):
                candidates.append(("jupyter envmod cache (EnvMod.cache_dir)", Path(self.envmod.expanded("cache_dir"))))
        present = [
            (label, Path(os.path.expanduser(path)))
            for label, path in candidates
            if os.path.isdir(os.path.expanduser(path)) and _inside(os.path.expanduser(path), self.home)
        ]
        result: list[tuple[str, Path]] = []
        reals = [os.path.realpath(p) for _, p in present]
        for i, (label, path) in enumerate(present):
            real = reals[i]
            # one cache inside another (e.g. cache_dir = ~/.cache) is counted with the outer one
            if any(j != i and other != real and _inside(real, other) for j, other in enumerate(reals)):
                continue
            if real in reals[:i]:
                continue
            result.append((label, path))
        return result

    def _caches(self) -> Outcome:
        cid = "caches"
        sized = [(label, path, _disk_usage(path)) for label, path in self._cache_dirs()]
        full = [(label, path, size) for label, path, size in sized if any(path.iterdir())]
        if not full:
            explanation = "pip, uv, rattler, conda and mamba keep no downloaded packages in your home directory."
            return self._check(cid, OK, f"No package caches with content in {self.home}", explanation), None
        total = sum(size for _, _, size in full)
        details = [f"{label}: {path} — {human_size(size)}" for label, path, size in full]
        explanation = (
            "Package caches in your home directory count against its quota, and home directories are often "
            "small. Deleting them is safe: packages are downloaded again when needed. To keep them out of $HOME "
            "for good, ask your site to set EnvMod.cache_dir (e.g. to scratch space), or set PIP_CACHE_DIR, "
            "UV_CACHE_DIR and conda's pkgs_dirs yourself."
        )
        summary = f"{len(full)} package cache(s) in {self.home} hold {human_size(total)}"
        check = self._check(cid, WARNING, summary, explanation, details)
        check.fix = "Delete the contents of " + "; ".join(f"{path} ({human_size(size)})" for _, path, size in full)

        def apply(changed: list[str]) -> str:
            errors: list[str] = []
            done: list[str] = []
            for _, path, size in full:
                try:
                    _empty_directory(path)
                except OSError as err:
                    errors.append(f"{path}: {err}")
                    continue
                changed.append(str(path))
                done.append(f"{path} ({human_size(size)})")
            return _failed(errors, f"Emptied {', '.join(done)}." if done else "")

        return check, apply

    # -- disk-space ---------------------------------------------------------------------------
    def _space(self, path: Path) -> tuple[str, str]:
        """(status, detail line) for the file system holding ``path``."""
        st = os.statvfs(path)
        free = st.f_bavail * st.f_frsize
        total = st.f_blocks * st.f_frsize
        used = 100.0 * (total - st.f_bfree * st.f_frsize) / total if total else 0.0
        status = PROBLEM if free < PROBLEM_FREE else WARNING if free < WARNING_FREE else OK
        line = f"{path}: {human_size(free)} free of {human_size(total)} ({used:.0f}% used)"
        if st.f_files:
            inodes = 100.0 * st.f_favail / st.f_files
            line += f", {st.f_favail:,} of {st.f_files:,} inodes free ({inodes:.1f}%)"
            if inodes < PROBLEM_INODES:
                status = PROBLEM
            elif inodes < WARNING_INODES and status == OK:
                status = WARNING
        else:
            line += ", inode counts not reported by this file system"
        return status, line

    def _quota(self) -> list[str]:
        import subprocess

        tool = shutil.which("quota", path=self.environ.get("PATH", os.defpath))
        if tool is None:
            return ["no quota tool found on PATH: ask your site how to see your quotas"]
        try:
            proc = subprocess.run(
                [tool],
                capture_output=True,
                text=True,
                timeout=QUOTA_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
                env=self.environ,
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            return [f"{tool} could not be run: {err}"]
        lines = [line.rstrip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        shown = [f"quota: {line}" for line in lines[:QUOTA_LINES]]
        if len(lines) > QUOTA_LINES:
            shown.append(f"quota: … ({len(lines) - QUOTA_LINES} more lines)")
        if proc.returncode != 0:
            shown.append(f"{tool} exited with status {proc.returncode}")
        return shown or [f"{tool} printed nothing"]

    def _disk_space(self) -> Outcome:
        cid = "disk-space"
        rank = {OK: 0, WARNING: 1, PROBLEM: 2}
        worst = OK
        details: list[str] = []
        tight: list[str] = []
        places = [("$HOME", self.home)] + [("environment directory", root) for root in self.envmod.env_roots]
        seen: set[str] = set()
        checked: list[str] = []
        for _, path in places:
            if str(path) in seen:
                continue
            seen.add(str(path))
            if not path.exists():
                details.append(f"{path}: does not exist yet (it is made with the first environment)")
                continue
            try:
                status, line = self._space(path)
            except OSError as err:
                details.append(f"{path}: cannot be checked ({err.strerror})")
                worst = max(worst, WARNING, key=rank.__getitem__)
                continue
            details.append(line)
            checked.append(str(path))
            if status != OK:
                tight.append(str(path))
            worst = max(worst, status, key=rank.__getitem__)
        details += self._quota()
        explanation = (
            "Creating environments and installing packages fails half way when a file system is full or out of "
            "inodes (many small files). Delete environments you no longer use, empty the package caches, or ask "
            "your site for more space; quotas can be tighter than the free space shown."
        )
        if worst == OK:
            summary = f"Enough free space and inodes in {', '.join(checked)}"
        else:
            summary = f"Little free space or few free inodes in {', '.join(tight)}"
        return self._check(cid, worst, summary, explanation, details), None

    # -- orphans ------------------------------------------------------------------------------
    def _orphan_kernels(self) -> Outcome:
        from . import kernels

        cid = "orphan-kernels"
        orphans = [k for k in kernels.list_kernels(self.envmod) if k.orphan]
        where = kernels.kernel_dir(self.envmod)
        if not orphans:
            summary = f"Every kernel written by jupyter envmod in {where} has its environment"
            return self._check(cid, OK, summary, "No kernel in the launcher points at a deleted environment."), None
        details = [f"{k.name} ({k.display_name!r}, {k.dir}): {k.orphan}: {k.env_path}" for k in orphans]
        explanation = (
            "These kernels still appear in JupyterLab's launcher but cannot start: their environment, or its "
            "Python, is gone. Remove them (the fix), or recreate the environment."
        )
        check = self._check(
            cid, WARNING, f"{len(orphans)} kernel(s) without a usable environment", explanation, details
        )
        check.fix = "Remove the kernelspec directories " + ", ".join(str(k.dir) for k in orphans)

        def apply(changed: list[str]) -> str:
            errors: list[str] = []
            for info in orphans:
                try:
                    kernels.remove_kernel(self.envmod, info.name)
                except (OSError, EnvModError) as err:
                    errors.append(f"{info.dir}: {_reason(err)}")
                    continue
                changed.append(str(info.dir))
            return _failed(errors, f"Removed {len(changed)} kernel(s).")

        return check, apply

    def _orphan_modules(self) -> Outcome:
        from . import modulefiles

        cid = "orphan-modules"
        orphans = [f for f in modulefiles.list_module_files(self.envmod) if f.orphan]
        if not orphans:
            summary = "Every module file written by jupyter envmod has its environment"
            return self._check(cid, OK, summary, "No module file points at a deleted environment."), None
        details = [f"{f.path} ({f.module}, {f.format}): {f.orphan}: {f.env_path}" for f in orphans]
        explanation = (
            "module load (or sourcing the activation script) of these files fails: their environment, or its "
            "Python, is gone. Remove them (the fix), or recreate the environment."
        )
        summary = f"{len(orphans)} module file(s) without a usable environment"
        check = self._check(cid, WARNING, summary, explanation, details)
        check.fix = "Remove " + ", ".join(str(f.path) for f in orphans)

        def apply(changed: list[str]) -> str:
            removed = modulefiles.remove_module_files(f.path for f in orphans)
            changed += [str(p) for p in removed]
            left = [str(f.path) for f in orphans if f.path.exists()]
            return _failed([f"{p}: could not be removed" for p in left], f"Removed {len(removed)} file(s).")

        return check, apply

    # -- interrupted --------------------------------------------------------------------------
    def _interrupted(self) -> Outcome:
        from .discovery import INTERRUPTED

        cid = "interrupted"
        stuck = [e for e in self._environments() if e.state == INTERRUPTED]
        if not stuck:
            explanation = "Every environment found is ready, or busy with an operation that still runs."
            return self._check(cid, OK, "No environment has an interrupted operation", explanation), None
        half_made: list[Environment] = []
        details: list[str] = []
        for env in stuck:
            op = (env.state_record.operation if env.state_record else None) or {}
            kind = str(op.get("kind") or "create")
            started = op.get("started")
            when = f", started {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}" if started else ""
            if kind in ("create", "clone"):
                half_made.append(env)
                details.append(f"{env.path}: {kind} interrupted{when}; half made, deleted by the fix")
            else:
                details.append(f"{env.path}: {kind} interrupted{when}; run: jupyter envmod retry -p {env.path}")
        changes = len(stuck) - len(half_made)
        explanation = (
            "An operation on these environments stopped half way (the server or the command was stopped). "
            "A half-made new environment is of no use: the fix deletes it, with its kernel and module files. "
            "An interrupted change to an existing environment is not deleted: "
            "run `jupyter envmod retry -p PATH` to finish it (or delete the environment yourself)."
        )
        parts = []
        if half_made:
            parts.append(f"{len(half_made)} half-made environment(s)")
        if changes:
            parts.append(f"{changes} environment(s) with an interrupted change")
        check = self._check(cid, PROBLEM, " and ".join(parts), explanation, details)
        if not half_made:
            return check, None
        check.fix = (
            "Delete the half-made environment(s) "
            + ", ".join(e.path for e in half_made)
            + " with their kernels and module files"
        )

        def apply(changed: list[str]) -> str:
            errors: list[str] = []
            deleted = []
            for env in half_made:
                try:
                    changed += self._delete_environment(env)
                except Exception as err:
                    errors.append(f"{env.path}: {_reason(err)}")
                    continue
                deleted.append(env.path)
            return _failed(errors, f"Deleted {', '.join(deleted)}." if deleted else "")

        return check, apply

    def _delete_environment(self, env: Environment) -> list[str]:
        """Delete through the operations layer (its checks, its lock, generated files
        removed too); the paths removed."""
        from .operations import Environments
        from .tasks import SUCCEEDED, Task

        async def delete() -> Task:
            task = Environments(self.envmod).delete(env)
            return await task.wait()

        task = _run_async(delete)
        if task.state != SUCCEEDED:
            raise FixFailed(str((task.error or {}).get("message") or f"delete {task.state}"))
        return [str(p) for p in (task.result or {}).get("removed", [])]

    # -- environments-txt ---------------------------------------------------------------------
    def _environments_txt(self) -> Outcome:
        from . import discovery

        cid = "environments-txt"
        txt = discovery.environments_txt()
        roots = {str(p) for p in self.envmod.expanded("env_dirs")} | {
            str(p) for p in self.envmod.expanded("shared_roots")
        }
        registered = {os.path.realpath(p) for p in discovery.registered_prefixes()}
        missing = [
            env
            for env in self._environments()
            if env.kind == "conda"
            and env.found_in in roots
            and env.state not in (discovery.BUSY, discovery.INTERRUPTED)
            and os.path.realpath(env.path) not in registered
        ]
        if not missing:
            explanation = "conda env list shows the conda environments made in the environment directories."
            return self._check(cid, OK, f"Every conda environment here is listed in {txt}", explanation), None
        explanation = (
            f"conda finds environments outside its own envs_dirs through {txt}; the ones listed are missing "
            "there, so `conda env list` and tools that ask conda (e.g. nb_conda_kernels) do not show them. "
            "The fix adds them, as conda itself would."
        )
        summary = f"{len(missing)} conda environment(s) missing from {txt}"
        check = self._check(cid, WARNING, summary, explanation, [env.path for env in missing])
        check.fix = f"Add {', '.join(env.path for env in missing)} to {txt}"

        def apply(changed: list[str]) -> str:
            for env in missing:
                discovery.register_conda_prefix(Path(env.path), add=True)
            changed.append(str(txt))
            return f"Added {len(missing)} environment(s) to {txt}."

        return check, apply

    # -- module-system ------------------------------------------------------------------------
    def _module_system_check(self) -> Outcome:
        cid = "module-system"
        formats = list(self.envmod.module_formats)
        module_formats = [f for f in formats if f in ("lua", "tcl")]
        if not module_formats:
            summary = f"No module files are configured (module_formats: {', '.join(formats) or 'none'})"
            return self._check(cid, OK, summary, "Activation scripts need no module system."), None
        info = self.module_system
        if info.kind is None:
            explanation = (
                f"jupyter envmod is set to write {' and '.join(module_formats)} module files, but no module system "
                "(Lmod or Environment Modules) was found, so `module load` will not work here. Load your site's "
                "module system (log in through a shell that initialises it), or have the site set "
                'EnvMod.module_formats to ["sh", "csh"] to write only activation scripts.'
            )
            return self._check(cid, WARNING, "No module system found", explanation, [info.detail]), None
        if info.kind == "environment-modules" and "lua" in formats and "tcl" not in formats:
            explanation = (
                "Environment Modules cannot read Lua module files, and no TCL module files are written. "
                'Ask your site to add "tcl" to EnvMod.module_formats.'
            )
            summary = "Only Lua module files are written, but the module system is Environment Modules"
            return self._check(cid, WARNING, summary, explanation, [info.detail]), None
        summary = info.detail or f"{info.kind} {info.version or ''}".strip()
        if info.kind == "environment-modules" and "lua" in module_formats:
            explanation = "module load uses the TCL module files written here (Environment Modules skips Lua ones)."
        else:
            explanation = f"module load works with the {' and '.join(module_formats)} module files written here."
        return self._check(cid, OK, summary, explanation), None

    # -- condarc-channels ---------------------------------------------------------------------
    def _own_condarc(self, path: Path) -> bool:
        """A .condarc the user owns: in $HOME and not inside a conda installation."""
        if not _inside(path, self.home):
            return False
        return not any(self.environ.get(v) and _inside(path, self.environ[v]) for v in ("CONDA_PREFIX", "CONDA_ROOT"))

    def _condarc_channels(self) -> Outcome:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        from .discovery import condarc_files

        cid = "condarc-channels"
        yaml = YAML(typ="safe", pure=True)
        details: list[str] = []
        channels: dict[str, list[Path]] = {}
        priority, priority_file = "flexible", None
        unreadable = 0
        files = condarc_files(dict(self.environ))
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
            return self._check(cid, OK, "No .condarc files found", "conda uses its built-in settings."), None
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
                return self._check(cid, WARNING, "A .condarc file could not be read", explanation, details), None
            listed = ", ".join(channels) or "none listed"
            explanation = "Packages come from channels that are built to work together."
            return self._check(cid, OK, f"No channel mixing (channels: {listed})", explanation, details), None
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
        check = self._check(cid, status, summary, explanation, details)
        # the user's own files only: those listing Anaconda's channels lose them; the last
        # one (the highest priority of the user's) gets channel_priority: strict
        own = [p for p in files if self._own_condarc(p)]
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
                    backup = _backup(path, changed)
                    _rewrite(path, _strict_condarc(_read(path), drop_anaconda=path in dropping))
                except (OSError, YAMLError, ValueError) as err:
                    errors.append(f"{path}: {err}")
                    continue
                changed.append(str(path))
                done.append(f"{path} (backup {backup})")
            return _failed(errors, f"Updated {', '.join(done)}." if done else "")

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
