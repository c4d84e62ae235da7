"""pip operations on any Python environment through uv.

:class:`UvPip` installs, removes and syncs PyPI packages in a venv or a conda
environment by running ``uv pip … --python <prefix>/bin/python`` through
:meth:`Task.run <jupyter_envmod.tasks.Task.run>` (argv lists, never a shell, so a
cancel kills uv's whole process group). What is installed is read straight from the
``*.dist-info`` directories of the prefix's site-packages, without a subprocess.

uv is told only what the site configured: the package cache (``EnvMod.cache_dir``,
as ``UV_CACHE_DIR``) and the index (``EnvMod.pip_index_url``, as
``UV_DEFAULT_INDEX``). Everything else comes from the user's and the site's own uv
configuration (``uv.toml``), as it would for ``uv`` run by hand.

Distributions that conda installed (``INSTALLER`` is ``conda``, or no ``INSTALLER``
at all in a prefix with ``conda-meta/``) belong to the conda side: they are not
listed as pip packages, not frozen, and :meth:`UvPip.sync` never removes them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..config import EnvMod
from ..errors import InvalidInput, OperationFailed, Unsatisfiable
from ..models import Change, Package, Plan, diff_packages
from ..tasks import ProcessResult, Task, failure_details

#: Variables of the server's own environment that would point uv (or the Python it
#: inspects) at another environment than the one named with ``--python``.
LEAKING_VARIABLES = (
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "UV_SYSTEM_PYTHON",
    "UV_PYTHON",
    "UV_PROJECT_ENVIRONMENT",
    "PYTHONPATH",
    "PYTHONHOME",
)

#: One line of uv's change list: `` + six==1.16.0``, `` - six==1.15.0``,
#: `` + pkg==0.1.0 (from file:///src)`` or, in dry runs, `` + pkg @ file:///src``.
_CHANGE_LINE = re.compile(
    r"^ (?P<sign>[-+~]) (?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?"
    r"(?:==(?P<version>\S+))?(?: @ (?P<url>\S+))?(?: \(from (?P<source>.+)\))?\s*$"
)
_ERROR_LINES = 15  # lines of uv's error text carried in an exception's message


@functools.lru_cache(maxsize=1)
def uv_bin() -> str:
    """Path of the uv executable shipped with the ``uv`` Python package."""
    from uv import find_uv_bin

    return str(find_uv_bin())


def check_requirements(reqs: list[str], *, field: str = "packages") -> list[str]:
    """Refuse anything uv could read as an option or as more than one requirement:
    empty strings, a leading ``-`` and line breaks. Returns ``reqs`` unchanged."""
    for req in reqs:
        if not isinstance(req, str) or not req.strip():
            raise InvalidInput("An empty package requirement was given.", details={"field": field})
        if req.lstrip().startswith("-"):
            raise InvalidInput(
                f"{req!r} is not a package requirement: requirements must not start with '-'.",
                details={"field": field, "value": req},
            )
        if any(c in req for c in "\r\n\0"):
            raise InvalidInput(
                f"{req!r} is not a package requirement: it contains a line break.",
                details={"field": field, "value": req},
            )
    return reqs


def requirement_name(req: str) -> str:
    """The canonical project name of a PEP 508 requirement string."""
    try:
        return canonicalize_name(Requirement(req).name)
    except InvalidRequirement as err:
        raise InvalidInput(f"{req!r} is not a valid package requirement: {err}", details={"value": req}) from err


def uv_error_text(result: ProcessResult) -> str:
    """uv's own explanation of a failure: its ``error:`` line and what follows
    (causes, hints), trimmed; else the last lines of its output."""
    lines = (result.stdout + result.stderr).splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("error:")), None)
    picked = lines[start:] if start is not None else lines[-5:]
    text = [line.strip() for line in picked if line.strip()]
    if text and text[0].startswith("error: "):
        text[0] = text[0][len("error: ") :]
    return "\n".join(text[:_ERROR_LINES]) or f"exit code {result.returncode}"


def uv_failure(result: ProcessResult, what: str) -> Exception:
    """The error to raise for a failed uv run: :class:`Unsatisfiable` when the
    resolver found no solution, else :class:`OperationFailed`. Both carry argv,
    exit code and output tail in ``details``."""
    text = uv_error_text(result)
    details = failure_details(result)
    if "No solution found when resolving" in result.stdout + result.stderr:
        return Unsatisfiable(f"{what}: no set of packages satisfies the request.\n{text}", details=details)
    return OperationFailed(f"{what} failed (uv exit code {result.returncode}):\n{text}", details=details)


class UvProgress:
    """Turns uv's output lines into task phases and progress.

    Without a terminal uv prints one line per stage (``Resolved``, ``Prepared``,
    ``Installed``) and a ``Downloading``/``Downloaded`` or ``Building``/``Built``
    pair for each large download and each build: phases follow the stages and the
    progress is the fraction of announced downloads and builds that finished."""

    def __init__(self, task: Task, first_phase: str = "resolving"):
        self.task = task
        self.started = 0
        self.finished = 0
        self.phase = first_phase
        task.set_phase(first_phase)

    def _phase(self, phase: str, progress: float | None = None) -> None:
        if phase != self.phase:
            self.phase = phase
            self.task.set_phase(phase, progress)

    def __call__(self, line: str) -> None:
        text = line.strip()
        if text.startswith(("Resolved ", "Audited ", "Checked ")):
            self._phase("downloading")
        elif text.startswith(("Downloading ", "Building ")):
            self._phase("downloading")
            self.started += 1
            self.task.set_progress(self.finished / self.started)
        elif text.startswith(("Downloaded ", "Built ")):
            self.finished += 1
            self.task.set_progress(self.finished / max(self.started, self.finished))
        elif text.startswith(("Prepared ", "Installed ")):
            self._phase("installing")


@dataclass
class _Dist:
    """One distribution found in site-packages."""

    name: str  # canonical
    version: str
    path: Path
    installer: str
    requested: bool
    conda: bool
    requires: list[str]


def site_packages(prefix: Path) -> list[Path]:
    """The prefix's site-packages directory (``lib/python3.X/site-packages``), as a
    list with one entry, or none. With several Python versions' directories (left
    over from a Python upgrade) the one of the prefix's ``bin/python`` wins."""
    candidates = sorted(
        p for pattern in ("lib/python3*/site-packages", "lib/pypy3*/site-packages") for p in prefix.glob(pattern)
    )
    candidates = [p for p in candidates if p.is_dir()]
    if len(candidates) <= 1:
        return candidates
    version = _python_version(prefix)
    for path in candidates:
        if version and path.parent.name in (f"python{version}", f"python{version}t", f"pypy{version}"):
            return [path]
    return [max(candidates, key=lambda p: _version_key(p.parent.name))]


def _python_version(prefix: Path) -> str:
    """``3.X`` of the prefix's Python, from pyvenv.cfg or the bin/python link."""
    try:
        for line in (prefix / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version_info", "version"):
                return ".".join(value.strip().split(".")[:2])
    except OSError:
        pass
    for name in ("python3", "python"):
        try:
            target = os.readlink(prefix / "bin" / name)
        except OSError:
            continue
        match = re.search(r"python(3\.\d+)", os.path.basename(target))
        if match:
            return match.group(1)
    return ""


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", name))


def _read_headers(path: Path) -> Any:
    """The header fields of a METADATA/PKG-INFO file (the body is not read)."""
    lines: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                break
            lines.append(line)
    return HeaderParser().parsestr("".join(lines))


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _distributions(prefix: Path) -> Iterator[_Dist]:
    """Every distribution in the prefix's site-packages, one per project name."""
    is_conda_prefix = (prefix / "conda-meta").is_dir()
    seen: set[str] = set()
    for sp in site_packages(prefix):
        try:
            entries = sorted(os.scandir(sp), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".dist-info"):
                meta_file = "METADATA"
            elif entry.name.endswith(".egg-info"):
                meta_file = "PKG-INFO"
            else:
                continue
            path = Path(entry.path)
            if not entry.is_dir():
                continue
            try:
                headers = _read_headers(path / meta_file)
            except OSError:
                continue
            raw_name, version = headers.get("Name"), headers.get("Version")
            if not raw_name or not version:
                continue
            name = canonicalize_name(str(raw_name))
            if name in seen:
                continue
            seen.add(name)
            installer = (_read_text(path / "INSTALLER") or "").strip()
            requires = [str(r) for r in headers.get_all("Requires-Dist") or []]
            if meta_file == "PKG-INFO":
                requires.extend(_egg_requires(path))
            yield _Dist(
                name=name,
                version=str(version).strip(),
                path=path,
                installer=installer,
                requested=(path / "REQUESTED").exists(),
                conda=installer.lower() == "conda" or (not installer and is_conda_prefix),
                requires=requires,
            )


def _egg_requires(path: Path) -> list[str]:
    """Requirements listed in an egg-info ``requires.txt`` (extras sections too)."""
    text = _read_text(path / "requires.txt") or ""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("[")]


def _direct_url(dist: _Dist) -> str | None:
    """The ``name @ url`` form of a distribution installed from a URL, a VCS or a
    local directory (PEP 610 ``direct_url.json``), else None."""
    text = _read_text(dist.path / "direct_url.json")
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    url: str = data["url"]
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") and vcs.get("commit_id"):
        url = f"{vcs['vcs']}+{url}@{vcs['commit_id']}"
    subdirectory = data.get("subdirectory")
    if isinstance(subdirectory, str) and subdirectory and "#" not in url:
        url += f"#subdirectory={subdirectory}"
    if any(c.isspace() for c in url):
        return None
    return f"{dist.name} @ {url}"


def parse_changes(output: str) -> Plan:
    """The plan in uv's change list (`` - name==old`` / `` + name==new`` lines),
    what ``--dry-run`` prints. Reinstalls of the same version (``~``) are left out,
    as a diff of the installed packages would."""
    removed: dict[str, str] = {}
    added: dict[str, str] = {}
    for line in output.splitlines():
        match = _CHANGE_LINE.match(line)
        if not match or match["sign"] == "~":
            continue
        label = match["version"] or match["url"] or ""
        target = added if match["sign"] == "+" else removed
        target[canonicalize_name(match["name"])] = label
    changes = []
    for name in sorted(set(removed) | set(added)):
        old, new = removed.get(name), added.get(name)
        if old != new:
            changes.append(Change(name, "pypi", old, new))
    return Plan(changes)


def prefix_of(python: Path) -> Path:
    """The environment prefix of ``<prefix>/bin/python`` (links are not followed: a
    venv's bin/python points at its base interpreter)."""
    return Path(os.path.abspath(python)).parent.parent


class UvPip:
    """pip operations (install, uninstall, sync, list, freeze) on the Python
    environment of a given interpreter, through uv."""

    def __init__(self, envmod: EnvMod):
        self.envmod = envmod

    # -- environment of uv children ------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for uv children: the server's own, without variables that
        would redirect uv to another environment, plus the site's cache and index."""
        env = dict(os.environ)
        for name in LEAKING_VARIABLES:
            env.pop(name, None)
        cache = self.envmod.cache_path("uv")
        if cache is not None:
            env["UV_CACHE_DIR"] = str(cache)
        if self.envmod.pip_index_url:
            env.pop("UV_INDEX_URL", None)  # the older spelling would compete with ours
            env["UV_DEFAULT_INDEX"] = self.envmod.pip_index_url
        return env

    async def uv(
        self, task: Task, args: list[str], *, what: str, prefix: Path | None = None, progress: UvProgress | None = None
    ) -> ProcessResult:
        """Run ``uv <args>`` for ``task``; a failure raises :func:`uv_failure`."""
        workdir = uv_workdir(prefix)
        result = await task.run(
            [uv_bin(), "--color", "never", *args], env=self.env(), cwd=workdir, check=False, on_line=progress
        )
        if result.returncode != 0:
            raise uv_failure(result, what)
        return result

    # -- changing an environment ------------------------------------------------------
    async def install(
        self,
        python: Path,
        reqs: list[str],
        *,
        task: Task,
        upgrade: bool = False,
        upgrade_all: bool = False,
        dry_run: bool = False,
    ) -> Plan:
        """Install the PEP 508 requirements ``reqs`` into ``python``'s environment.
        ``upgrade`` moves the named packages to the newest version allowed (their
        dependencies only as far as needed); ``upgrade_all`` moves every package
        the resolution touches. Returns what changed (or would)."""
        check_requirements(reqs)
        if not reqs:
            return Plan()
        prefix = prefix_of(python)
        args = ["pip", "install", f"--python={python}"]
        if upgrade_all:
            args.append("--upgrade")
            upgrade = True
        elif upgrade:
            args += [f"--upgrade-package={requirement_name(r)}" for r in reqs]
        args += ["--dry-run"] if dry_run else []
        args += ["--", *reqs]
        what = "Installing " + ", ".join(reqs)
        if dry_run:
            result = await self.uv(task, args, what=what, prefix=prefix, progress=UvProgress(task))
            return parse_changes(result.stdout + result.stderr)
        before = self.installed(prefix)
        was = {p.name: p.requested for p in before}
        asked = {requirement_name(r) for r in reqs}

        def requested(name: str) -> bool:
            if upgrade_all:  # every name was passed only to move it
                return was.get(name, True)
            if name in asked:  # an update keeps a dependency a dependency
                return was.get(name, True) if upgrade else True
            return was.get(name, False)

        try:
            await self.uv(task, args, what=what, prefix=prefix, progress=UvProgress(task))
        finally:
            _mark_requested(prefix, requested)
        return diff_packages(before, self.installed(prefix))

    async def update_all(self, python: Path, requested: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        """Move every pip package to the newest version the index offers and the
        user's requirements ``requested`` (their version limits kept) allow."""
        prefix = prefix_of(python)
        named = {requirement_name(r) for r in requested}
        others = [d.name for d in _distributions(prefix) if not d.conda and d.name not in named]
        reqs = [*requested, *sorted(others)]
        if not reqs:
            task.log("no pip packages to update")
            return Plan()
        return await self.install(python, reqs, task=task, upgrade_all=True, dry_run=dry_run)

    async def newest(self, python: Path, *, task: Task) -> dict[str, str]:
        """Name → newest version on the index, for each pip package that has a newer
        one (``uv pip list --outdated``)."""
        prefix = prefix_of(python)
        args = ["pip", "list", "--outdated", "--format=json", f"--python={python}"]
        result = await self.uv(task, args, what="Listing outdated pip packages", prefix=prefix)
        try:
            rows = json.loads(result.stdout or "[]")
        except ValueError:
            raise OperationFailed(
                "uv pip list --outdated printed no JSON list.",
                details={"argv": [uv_bin(), *args], "output_tail": result.stdout.splitlines()[-20:]},
            ) from None
        return {
            canonicalize_name(str(row["name"])): str(row["latest_version"])
            for row in rows
            if isinstance(row, dict) and row.get("name") and row.get("latest_version")
        }

    async def uninstall(self, python: Path, names: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        """Remove the named pip packages (only those). A name that is not installed
        as a pip package raises :class:`InvalidInput` before anything runs."""
        check_requirements(names, field="names")
        if not names:
            return Plan()
        prefix = prefix_of(python)
        self.check_installed(prefix, names)
        args = ["pip", "uninstall", f"--python={python}"] + (["--dry-run"] if dry_run else [])
        before = [] if dry_run else self.installed(prefix)
        progress = UvProgress(task, "removing")
        result = await self.uv(
            task, [*args, "--", *names], what="Removing " + ", ".join(names), prefix=prefix, progress=progress
        )
        if dry_run:
            return parse_changes(result.stdout + result.stderr)
        return diff_packages(before, self.installed(prefix))

    def check_installed(self, prefix: Path, names: list[str]) -> None:
        """Raise :class:`InvalidInput` naming each of ``names`` that is not
        installed in ``prefix`` as a pip package."""
        dists = {d.name: d for d in _distributions(prefix)}
        missing = [n for n in names if canonicalize_name(n) not in dists]
        if missing:
            raise InvalidInput(
                f"Not installed in {prefix}: {', '.join(missing)}.", details={"field": "names", "names": missing}
            )
        by_conda = [n for n in names if dists[canonicalize_name(n)].conda]
        if by_conda:
            raise InvalidInput(
                f"Installed by conda, not pip, in {prefix}: {', '.join(by_conda)}; remove them as conda packages.",
                details={"field": "names", "names": by_conda},
            )

    async def sync(self, python: Path, pins: list[str], *, task: Task, requested: Iterable[str] | None = None) -> Plan:
        """Make the environment hold exactly the pip packages ``pins`` (``name==version``
        or ``name @ url``, as :meth:`freeze` gives): ``uv pip sync``, no dependency
        resolution beyond the pins. Packages conda installed are kept as they are.

        ``requested`` names the packages the user asked for (the source's
        ``Package.requested`` when cloning or rolling back); without it packages
        already there keep their flag and new ones count as requested."""
        check_requirements(pins, field="pins")
        prefix = prefix_of(python)
        pinned = {requirement_name(p) for p in pins}
        keep = [
            _pin(d.name, d.version) for d in _distributions(prefix) if d.conda and d.name not in pinned
        ]  # uv would remove conda's packages as extraneous
        before = self.installed(prefix)
        was = {p.name: p.requested for p in before}
        wanted = None if requested is None else {canonicalize_name(n) for n in requested}
        with tempfile.TemporaryDirectory(prefix="envmod-sync-") as tmp:
            reqfile = Path(tmp) / "requirements.txt"
            reqfile.write_text("".join(line + "\n" for line in [*pins, *keep]), encoding="utf-8")
            args = ["pip", "sync", f"--python={python}", "--allow-empty-requirements", "--", str(reqfile)]
            try:
                await self.uv(task, args, what="Syncing the pip packages", prefix=prefix, progress=UvProgress(task))
            finally:
                _mark_requested(prefix, lambda name: was.get(name, True) if wanted is None else name in wanted)
        return diff_packages(before, self.installed(prefix))

    # -- reading an environment -------------------------------------------------------
    def installed(self, prefix: Path, *, include_conda: bool = False) -> list[Package]:
        """The pip packages in ``prefix``, read from its site-packages (no
        subprocess), sorted by name. ``include_conda`` adds the Python
        distributions conda installed."""
        return [
            Package(name=d.name, version=d.version, source="pypi", channel="pypi", requested=d.requested)
            for d in sorted(_distributions(prefix), key=lambda d: d.name)
            if include_conda or not d.conda
        ]

    def snapshot(self, prefix: Path) -> list[dict[str, Any]]:
        """The pip packages as revisions keep them: name, version, the pin that
        reinstalls exactly it (as :meth:`freeze`) and whether the user asked for it."""
        return [
            {
                "name": d.name,
                "version": d.version,
                "pin": _direct_url(d) or _pin(d.name, d.version),
                "requested": d.requested,
            }
            for d in sorted(_distributions(prefix), key=lambda d: d.name)
            if not d.conda
        ]

    def freeze(self, prefix: Path) -> list[str]:
        """The pip packages of ``prefix`` as requirements that reinstall exactly them:
        ``name==version``, or ``name @ url`` for ones installed from a URL, a VCS
        commit or a local directory (editable installs come back non-editable)."""
        pins = [_direct_url(d) or _pin(d.name, d.version) for d in _distributions(prefix) if not d.conda]
        return sorted(pins)

    def orphans(self, prefix: Path, names: list[str]) -> list[str]:
        """Pip packages that only ``names`` need: not asked for by the user
        (no ``REQUESTED``), reachable from ``names`` through dependencies and not
        needed by anything that stays. Markers and extras are ignored, which can
        only keep more, never remove something still needed."""
        dists = {d.name: d for d in _distributions(prefix)}
        graph = {name: _dependency_names(d.requires) for name, d in dists.items()}
        removed: set[str] = {canonicalize_name(n) for n in names}
        reachable = _closure(removed, graph) - removed
        candidates = {n for n in reachable if n in dists and not dists[n].requested and not dists[n].conda}
        roots = set(dists) - removed - candidates
        needed = _closure(roots, graph)
        return sorted(candidates - needed)


def uv_workdir(prefix: Path | None) -> str | None:
    """Where uv runs: beside the environment, so that uv's output names it and its
    configuration comes from the user's and the site's files around it, never from
    whatever directory the server was started in."""
    if prefix is None:
        return None
    parent = prefix.parent
    return str(parent) if parent.is_dir() else None


def _mark_requested(prefix: Path, requested: Callable[[str], bool]) -> None:
    """Give each distribution uv installed the ``REQUESTED`` marker it should have.

    uv writes ``REQUESTED`` into every distribution it installs, dependencies too
    (astral-sh/uv#13278), so after each change the markers are set again from what
    the user asked for: ``requested(name)``. The RECORD entry follows the file."""
    for dist in _distributions(prefix):
        if dist.conda or dist.installer.lower() != "uv":
            continue
        want = requested(dist.name)
        if want == dist.requested:
            continue
        marker = dist.path / "REQUESTED"
        entry = f"{dist.path.name}/REQUESTED"
        record = dist.path / "RECORD"
        lines = (_read_text(record) or "").splitlines()
        kept = [line for line in lines if line.split(",", 1)[0] != entry]
        try:
            if want:
                marker.write_bytes(b"")
                kept.append(f"{entry},,")
            else:
                marker.unlink()
            if lines:
                record.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        except OSError:
            continue


def _pin(name: str, version: str) -> str:
    try:
        Version(version)
    except InvalidVersion:
        return f"{name}==={version}"
    return f"{name}=={version}"


def _dependency_names(requires: list[str]) -> set[str]:
    names: set[str] = set()
    for req in requires:
        try:
            names.add(canonicalize_name(Requirement(req).name))
        except InvalidRequirement:
            continue
    return names


def _closure(start: set[str], graph: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = list(start)
    while todo:
        for dep in graph.get(todo.pop(), set()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen
