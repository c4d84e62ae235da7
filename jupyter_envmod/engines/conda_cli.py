"""The ``conda`` engine: the site's conda, mamba or micromamba executable, driven
through its ``--json`` interface.

Every operation is one child process started with :meth:`Task.run` (an argv list,
never a shell; a cancel kills its process group). The argv always has the form
``EXE SUBCOMMAND OPTIONS… SPECS…``: ``--json``, the yes flag, ``--dry-run`` for dry
runs, ``-p PREFIX``, ``--override-channels -c CH …`` (the request's channels, else
``EnvMod.channels``) and ``--strict-channel-priority`` when
``EnvMod.channel_priority`` is ``strict`` (``flexible`` is passed as
``CONDA_CHANNEL_PRIORITY``/``MAMBA_CHANNEL_PRIORITY=flexible``, as neither tool has
a flag for it); the specs come last and none may start with ``-``.

Two dialects, chosen by the executable's file name:

``conda`` (also any unknown name)
    ``conda create`` accepts an existing directory without ``conda-meta/`` (it asks
    "continue creating environment", answered by ``--yes``), so a new environment is
    made with ``create`` into the prefix that already holds our ``.envmod/``. Results
    are ``{"success": true, "actions": {"LINK": […], "UNLINK": […], "PREFIX": …},
    "prefix": …}`` (plus ``"dry_run": true``), preceded while downloading by
    NUL-separated ``{"fetch": …, "progress": …}`` lines; errors are
    ``{"exception_name": …, "message": …, "error": …, "caused_by": …}`` with exit
    code 1. ``create --file`` with an ``@EXPLICIT`` file prints no JSON result at all
    (and nothing for ``--dry-run``).

``micromamba`` / ``mamba``
    ``create`` refuses a non-empty directory without ``conda-meta/`` ("Non-conda
    folder exists at prefix - aborting.") and, with ``-y``, *deletes* one that has
    it, so a new environment is made by writing an empty ``conda-meta/history``
    (what ``create`` itself writes for an empty environment) and running ``install``.
    Results are ``{"actions": {"FETCH", "LINK", "UNLINK", "PREFIX"}, "dry_run": …,
    "prefix": …, "success": …}`` with full package records in ``LINK``; an
    unsolvable request prints ``{"success": false, "solver_problems": […]}``; other
    errors are only ``critical libmamba …`` lines on stderr, exit code 1. ``remove``
    takes no channel options.

``conda create`` (conda and micromamba alike) with ``--yes`` replaces an existing
conda environment by deleting the whole prefix directory, ``.envmod/`` included;
:meth:`CondaCliEngine.create` therefore refuses a prefix that already holds
conda packages.

Explicit installs write an ``@EXPLICIT`` file (``url#sha256``, else ``url#md5``:
conda >= 24.9 and mamba >= 2.1 read 64-digit sha256 hashes, older ones only md5)
and pass it with ``--file``; the plan is the difference of ``conda-meta`` before
and after, and packages the list does not name are removed with ``remove --force``
so the prefix holds exactly the list. A dry run of an explicit install is computed
from the URLs without running anything.

The package cache is ``CONDA_PKGS_DIRS`` = ``EnvMod.cache_path("conda")`` when
``EnvMod.cache_dir`` is set (micromamba reads that variable too), else each tool's
own default. micromamba needs a root prefix for its own files: sites set
``MAMBA_ROOT_PREFIX`` in the server's environment (it is passed through).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, OperationFailed, Unsatisfiable
from ..models import Change, Package, Plan, diff_packages
from ..tasks import OUTPUT_TAIL, ProcessResult
from .base import CondaEngine

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..specs import ExplicitEntry
    from ..tasks import Task

#: conda/mamba exception names that mean "the solver found no answer" (HTTP 422).
UNSATISFIABLE_ERRORS = frozenset(
    {
        "PackagesNotFoundError",
        "PackageNotFoundError",
        "NoPackagesFoundError",
        "ResolvePackageNotFound",
        "UnsatisfiableError",
        "UnsatisfiableSpecifications",
        "LibMambaUnsatisfiableError",
        "SpecsConfigurationConflictError",
    }
)
#: update: a named package is not installed.
NOT_INSTALLED_ON_UPDATE = frozenset({"PackageNotInstalledError"})
#: remove: a named package is not installed (conda says PackagesNotFoundError here).
NOT_INSTALLED_ON_REMOVE = frozenset({"PackageNotInstalledError", "PackagesNotFoundError"})

_NAME_RE = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")
_PYTHON_RE = re.compile(r"\A[0-9]+(?:\.[0-9]+){1,2}\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CRITICAL_RE = re.compile(r"^\s*critical\s+libmamba\s+(.*\S)\s*$")
_PACKAGE_SUFFIXES = (".conda", ".tar.bz2")


@dataclass(frozen=True)
class Dialect:
    """What differs between conda's and micromamba's command lines."""

    name: str
    yes_flag: str
    #: ``create`` may target an existing, non-empty directory without conda-meta/
    create_into_existing_dir: bool
    #: ``remove`` accepts ``-c``/``--override-channels``
    channels_on_remove: bool


CONDA = Dialect("conda", "--yes", create_into_existing_dir=True, channels_on_remove=True)
MICROMAMBA = Dialect("micromamba", "-y", create_into_existing_dir=False, channels_on_remove=False)


def dialect_for(executable: str) -> Dialect:
    """micromamba and mamba (1.x wraps conda but accepts the same flags, 2.x is
    micromamba) get the micromamba dialect; conda and any other name get conda's."""
    stem = os.path.basename(executable).lower()
    for suffix in (".exe", ".bat", ".cmd"):
        stem = stem.removesuffix(suffix)
    if stem.startswith(("micromamba", "mamba")):
        return MICROMAMBA
    return CONDA


# -- reading the JSON output ---------------------------------------------------------------


def parse_json_output(stdout: str) -> dict[str, Any] | None:
    """The result document of a ``--json`` run: the last JSON object on stdout that is
    not a ``{"fetch": …}`` progress line (conda separates those with NUL characters).
    Text printed around the document is skipped. None when there is none."""
    found: dict[str, Any] | None = None
    decoder = json.JSONDecoder()
    for chunk in stdout.split("\0"):
        text = chunk.strip()
        if not text:
            continue
        candidates: list[Any] = []
        try:
            candidates.append(json.loads(text))
        except ValueError:
            # a document after other output: try each line that opens an object
            offset = 0
            for line in text.splitlines(keepends=True):
                if line.startswith("{"):
                    try:
                        value = decoder.raw_decode(text, offset)[0]
                    except ValueError:
                        pass
                    else:
                        candidates.append(value)
                offset += len(line)
        for value in candidates:
            if isinstance(value, dict) and "fetch" not in value:
                found = value
    return found


def _split_dist(text: str) -> tuple[str, str, str] | None:
    """``name-version-build`` from a dist string, file name or URL (channel prefix
    ``conda-forge/linux-64::`` and package suffix removed)."""
    text = text.rsplit("::", 1)[-1].rsplit("/", 1)[-1]
    for suffix in _PACKAGE_SUFFIXES:
        text = text.removesuffix(suffix)
    parts = text.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None
    return parts[0], parts[1], parts[2]


def _action_entry(entry: Any) -> tuple[str, str] | None:
    """(name, "version build") of one LINK/UNLINK entry: conda's dist fields
    (name, version, build_string, dist_name), micromamba's package record (name,
    version, build, fn) or an old conda dist string."""
    if isinstance(entry, dict):
        name, version = entry.get("name"), entry.get("version")
        build = entry.get("build_string") or entry.get("build")
        if name and version:
            return str(name), f"{version} {build or ''}".strip()
        for key in ("dist_name", "fn", "url"):
            if entry.get(key):
                entry = str(entry[key])
                break
        else:
            return None
    if isinstance(entry, str):
        parts = _split_dist(entry)
        if parts:
            return parts[0], f"{parts[1]} {parts[2]}"
    return None


def plan_from_json(doc: dict[str, Any]) -> Plan:
    """The plan in a result document's ``actions``: UNLINK only = remove, LINK only =
    add, both = change (same version and build in both: a reinstall, left out)."""
    actions = doc.get("actions")
    groups = actions if isinstance(actions, list) else [actions]
    unlink: dict[str, tuple[str, str]] = {}
    link: dict[str, tuple[str, str]] = {}
    for group in groups:
        if not isinstance(group, dict):
            continue
        for key, sink in (("UNLINK", unlink), ("LINK", link)):
            for entry in group.get(key) or []:
                parsed = _action_entry(entry)
                if parsed:
                    sink[parsed[0].lower()] = parsed
    changes: list[Change] = []
    for key in sorted(set(unlink) | set(link)):
        old, new = unlink.get(key), link.get(key)
        if old and new:
            if old[1] != new[1]:
                changes.append(Change(new[0], "conda", old[1], new[1]))
        elif new:
            changes.append(Change(new[0], "conda", None, new[1]))
        elif old:
            changes.append(Change(old[0], "conda", old[1], None))
    return Plan(changes)


def _output_tail(result: ProcessResult) -> list[str]:
    text = result.stdout.replace("\0", "") + result.stderr
    return text.splitlines()[-OUTPUT_TAIL:]


def _critical_message(stderr: str) -> str | None:
    """micromamba's error: its last ``critical libmamba …`` line."""
    message = None
    for line in stderr.splitlines():
        match = _CRITICAL_RE.match(line)
        if match:
            message = match.group(1)
    return message


# -- the engine --------------------------------------------------------------------------------


@dataclass
class _Run:
    """One resolved invocation: the executable, its dialect and the child's environment."""

    exe: str
    dialect: Dialect
    env: dict[str, str]

    @property
    def label(self) -> str:
        return os.path.basename(self.exe)


class CondaCliEngine(CondaEngine):
    """Conda environments made and changed by the site's conda, mamba or micromamba."""

    name = "conda"

    # -- the executable and its command lines ----------------------------------------------
    def _resolve(self) -> _Run:
        configured = self.envmod.conda_executable.strip()
        env = dict(os.environ)
        found: str | None
        if os.path.isabs(configured):
            found = configured if os.path.isfile(configured) and os.access(configured, os.X_OK) else None
            where = "(no executable file there)"
        else:
            found = shutil.which(configured, path=env.get("PATH")) if configured else None
            where = "on PATH"
        if not found:
            raise OperationFailed(
                f"The conda engine needs a conda, mamba or micromamba executable, but {configured!r} was not "
                f"found {where}. Install one, or set EnvMod.conda_executable to its name or absolute path.",
                details={"executable": configured, "setting": "EnvMod.conda_executable"},
            )
        cache = self.envmod.cache_path("conda")
        if cache is not None:
            env["CONDA_PKGS_DIRS"] = str(cache)
        for var in ("CONDA_CHANNEL_PRIORITY", "MAMBA_CHANNEL_PRIORITY"):
            if self.envmod.channel_priority == "strict":
                env.pop(var, None)  # the flag says it; micromamba refuses a flag and a differing variable
            else:
                env[var] = self.envmod.channel_priority
        return _Run(found, dialect_for(found), env)

    def _argv(
        self,
        run: _Run,
        command: str,
        prefix: Path,
        *,
        dry_run: bool,
        channels: list[str] | None = None,
        extra: list[str] | None = None,
        specs: list[str] | None = None,
    ) -> list[str]:
        argv = [run.exe, command, "--json", run.dialect.yes_flag]
        if dry_run:
            argv.append("--dry-run")
        argv += ["-p", str(prefix)]
        if channels is not None:
            argv.append("--override-channels")
            for channel in channels:
                argv += ["-c", channel]
            if self.envmod.channel_priority == "strict":
                argv.append("--strict-channel-priority")
        argv += extra or []
        argv += specs or []
        return argv

    # -- running ----------------------------------------------------------------------------
    async def _call(
        self,
        run: _Run,
        argv: list[str],
        task: Task,
        *,
        json_required: bool = True,
        not_installed: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """Run ``argv``; the JSON result document (None when there is none and
        ``json_required`` is false). Raises the domain error the output describes."""
        result = await task.run(argv, env=run.env, log_stdout=False, check=False, on_line=self._progress_reader(task))
        doc = parse_json_output(result.stdout)
        command = f"{run.label} {argv[1]}"
        failed = result.returncode != 0 or (doc is not None and doc.get("success") is False)
        if not failed:
            if doc is None and json_required:
                raise OperationFailed(
                    f"{command} printed no JSON result, so what it did is unknown. Check that "
                    f"EnvMod.conda_executable ({self.envmod.conda_executable!r}) is conda, mamba or micromamba.",
                    details=self._details(result, None),
                )
            return doc
        raise self._error(command, result, doc, not_installed)

    @staticmethod
    def _details(result: ProcessResult, exception_name: str | None, **more: Any) -> dict[str, Any]:
        return {
            "argv": result.argv,
            "returncode": result.returncode,
            "exception_name": exception_name,
            "output_tail": _output_tail(result),
            **more,
        }

    def _error(
        self, command: str, result: ProcessResult, doc: dict[str, Any] | None, not_installed: frozenset[str]
    ) -> Exception:
        """The domain error for a failed run: InvalidInput when the tool says a named
        package is not installed (``not_installed``), Unsatisfiable for solver
        failures, else OperationFailed; the message is the tool's own."""
        doc = doc or {}
        exception_name = doc.get("exception_name") or doc.get("error_type")
        exception_name = str(exception_name) if exception_name else None
        message = doc.get("message") or doc.get("error")
        message = str(message).strip() if message else None
        problems = doc.get("solver_problems")
        if problems:  # micromamba: the solver found no answer
            lines = [str(p) for p in problems] if isinstance(problems, list) else [str(problems)]
            text = "Could not solve for environment specs:\n" + "\n".join(f"  - {line}" for line in lines)
            return Unsatisfiable(text, details=self._details(result, exception_name, solver_problems=lines))
        if exception_name in not_installed:
            return InvalidInput(
                message or f"{command}: a named package is not installed",
                details={"field": "packages", **self._details(result, exception_name)},
            )
        if exception_name in UNSATISFIABLE_ERRORS:
            return Unsatisfiable(
                message or f"{command} found no packages satisfying the request",
                details=self._details(result, exception_name),
            )
        if not message:
            message = _critical_message(result.stderr)
        if message:
            text = f"{command} failed: {message}"
        elif result.returncode != 0 and not (result.stdout.strip("\0 \n") or result.stderr.strip()):
            text = f"{command} failed with exit code {result.returncode} and printed nothing"
        elif doc:
            text = f"{command} reported failure (exit code {result.returncode})"
        else:
            text = f"{command} failed with exit code {result.returncode} and printed no JSON result"
        return OperationFailed(text, details=self._details(result, exception_name))

    @staticmethod
    def _progress_reader(task: Task) -> Callable[[str], None]:
        """conda's ``{"fetch": "name | size | ", "finished": …}`` lines, logged per package."""

        def read(line: str) -> None:
            line = line.strip("\0 ")
            if not line.startswith('{"fetch"'):
                return
            try:
                data = json.loads(line)
            except ValueError:
                return
            if isinstance(data, dict) and data.get("finished"):
                task.log(f"downloaded {str(data.get('fetch', '')).split('|')[0].strip()}")

        return read

    # -- checks ---------------------------------------------------------------------------------
    @staticmethod
    def _check_specs(specs: list[str], *, field: str = "packages") -> list[str]:
        checked = []
        for spec in specs:
            text = str(spec).strip()
            if not text or text.startswith("-") or _CONTROL_RE.search(text):
                raise InvalidInput(
                    f"{spec!r} is not a package spec (it must not be empty, start with '-' or hold control characters)",
                    details={"field": field},
                )
            checked.append(text)
        return checked

    def _check_installed(self, prefix: Path, names: list[str], verb: str) -> None:
        installed = {p.name.lower() for p in self.packages(prefix)}
        missing = [n for n in names if n.lower() not in installed]
        if missing:
            raise InvalidInput(
                f"Cannot {verb} {', '.join(missing)}: not installed in {prefix}.", details={"field": "packages"}
            )

    @staticmethod
    def _env_state(prefix: Path) -> str:
        """ "none" (no conda-meta/), "empty" (conda-meta/ without packages or history)
        or "env"."""
        meta = prefix / "conda-meta"
        if not meta.is_dir():
            return "none"
        if any(meta.glob("*.json")):
            return "env"
        history = meta / "history"
        if history.is_file() and history.stat().st_size > 0:
            return "env"
        return "empty"

    @staticmethod
    def _require_env(prefix: Path) -> None:
        if not (prefix / "conda-meta").is_dir():
            raise InvalidInput(
                f"{prefix} is not a conda environment (it has no conda-meta/).", details={"field": "path"}
            )

    @staticmethod
    def _seed(prefix: Path) -> bool:
        """Make ``prefix`` an empty conda environment (conda-meta/history, as ``create``
        writes for one) so ``install`` accepts it. True when conda-meta/ was made here."""
        meta = prefix / "conda-meta"
        made = not meta.exists()
        meta.mkdir(parents=True, exist_ok=True)
        history = meta / "history"
        if not history.exists():
            history.touch()
        return made

    @staticmethod
    def _unseed(prefix: Path) -> None:
        meta = prefix / "conda-meta"
        if meta.is_dir() and not any(meta.glob("*.json")):
            shutil.rmtree(meta, ignore_errors=True)

    # -- operations -----------------------------------------------------------------------------
    async def create(
        self, prefix: Path, *, python: str, specs: list[str], channels: list[str], task: Task, dry_run: bool = False
    ) -> Plan:
        prefix = Path(os.path.abspath(prefix))
        if not _PYTHON_RE.match(python or ""):
            raise InvalidInput(f"Python version {python!r}: give X.Y or X.Y.Z, e.g. 3.12", details={"field": "python"})
        all_specs = [f"python={python}", *self._check_specs(specs)]
        chans = self._check_specs(self.channels(channels), field="channels")
        run = self._resolve()
        if dry_run:
            task.set_phase(f"solving with {run.label} (dry run)")
            argv = self._argv(run, "create", prefix, dry_run=True, channels=chans, specs=all_specs)
            doc = await self._call(run, argv, task)
            return plan_from_json(doc or {})
        state = self._env_state(prefix)
        if state == "env":
            raise InvalidInput(
                f"{prefix} already holds a conda environment; '{run.label} create' would delete the whole "
                "directory to replace it. Delete the environment first or choose another path.",
                details={"field": "path"},
            )
        seeded = False
        if state == "none" and run.dialect.create_into_existing_dir:
            command = "create"
        else:
            seeded = self._seed(prefix)
            command = "install"
        task.set_phase(f"solving and installing with {run.label}")
        argv = self._argv(run, command, prefix, dry_run=False, channels=chans, specs=all_specs)
        try:
            doc = await self._call(run, argv, task)
        except BaseException:
            if seeded:
                self._unseed(prefix)
            raise
        return plan_from_json(doc or {})

    async def install(
        self,
        prefix: Path,
        specs: list[str],
        *,
        channels: list[str],
        task: Task,
        update: bool = False,
        dry_run: bool = False,
    ) -> Plan:
        prefix = Path(os.path.abspath(prefix))
        checked = self._check_specs(specs)
        if not checked:
            raise InvalidInput("Name at least one package.", details={"field": "packages"})
        chans = self._check_specs(self.channels(channels), field="channels")
        self._require_env(prefix)
        if update:
            bad = [s for s in checked if not _NAME_RE.match(s)]
            if bad:
                raise InvalidInput(
                    f"update takes package names, not specs: {', '.join(bad)} (use install to ask for versions)",
                    details={"field": "packages"},
                )
            self._check_installed(prefix, checked, "update")
        run = self._resolve()
        if not dry_run:
            self._seed(prefix)  # conda changes only prefixes with conda-meta/history
        command = "update" if update else "install"
        task.set_phase(f"solving with {run.label}" + (" (dry run)" if dry_run else ""))
        argv = self._argv(run, command, prefix, dry_run=dry_run, channels=chans, specs=checked)
        doc = await self._call(run, argv, task, not_installed=NOT_INSTALLED_ON_UPDATE if update else frozenset())
        return plan_from_json(doc or {})

    async def update_all(
        self,
        prefix: Path,
        *,
        channels: list[str],
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """``conda update --all``: conda reads what was asked for from the prefix's history."""
        prefix = Path(os.path.abspath(prefix))
        chans = self._check_specs(self.channels(channels), field="channels")
        self._require_env(prefix)
        run = self._resolve()
        if not dry_run:
            self._seed(prefix)
        task.set_phase(f"solving with {run.label}" + (" (dry run)" if dry_run else ""))
        argv = self._argv(run, "update", prefix, dry_run=dry_run, channels=chans, extra=["--all"])
        doc = await self._call(run, argv, task)
        return plan_from_json(doc or {})

    async def remove(self, prefix: Path, names: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        prefix = Path(os.path.abspath(prefix))
        checked = self._check_specs(names)
        if not checked:
            raise InvalidInput("Name at least one package to remove.", details={"field": "packages"})
        bad = [n for n in checked if not _NAME_RE.match(n)]
        if bad:
            raise InvalidInput(f"remove takes package names: {', '.join(bad)}", details={"field": "packages"})
        self._require_env(prefix)
        self._check_installed(prefix, checked, "remove")
        run = self._resolve()
        if not dry_run:
            self._seed(prefix)
        chans = list(self.envmod.channels) if run.dialect.channels_on_remove else None
        task.set_phase(f"removing with {run.label}" + (" (dry run)" if dry_run else ""))
        argv = self._argv(run, "remove", prefix, dry_run=dry_run, channels=chans, specs=checked)
        doc = await self._call(run, argv, task, not_installed=NOT_INSTALLED_ON_REMOVE)
        return plan_from_json(doc or {})

    async def install_explicit(
        self,
        prefix: Path,
        entries: list[ExplicitEntry],
        *,
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """``requested`` is not used: conda records no requested specs for explicit installs."""
        prefix = Path(os.path.abspath(prefix))
        wanted: list[tuple[ExplicitEntry, Package]] = []
        seen: set[str] = set()
        for entry in entries:
            url = str(entry.url)
            parts = _split_dist(url) if url.endswith(_PACKAGE_SUFFIXES) else None
            if parts is None or url.startswith("-") or _CONTROL_RE.search(url) or "#" in url:
                raise InvalidInput(
                    f"{url!r} is not a conda package URL (…/name-version-build.conda or .tar.bz2)",
                    details={"field": "explicit"},
                )
            if parts[0].lower() in seen:
                raise InvalidInput(f"{parts[0]} is listed twice", details={"field": "explicit"})
            seen.add(parts[0].lower())
            wanted.append((entry, Package(name=parts[0], version=parts[1], build=parts[2], source="conda", url=url)))
        before = self.packages(prefix)
        current = {(p.name.lower(), p.version, p.build) for p in before}
        to_link = [e for e, p in wanted if (p.name.lower(), p.version, p.build) not in current]
        extras = sorted(p.name for p in before if p.name.lower() not in seen)
        if dry_run:
            task.log("explicit package list: the plan is the difference to the installed packages (nothing run)")
            return diff_packages(before, [p for _, p in wanted])
        if not to_link and not extras:
            task.log(f"{prefix} already holds exactly these packages")
            return Plan()
        run = self._resolve()
        if to_link:
            await self._link_explicit(run, prefix, to_link, task)
        if extras:
            task.set_phase(f"removing packages the list does not name with {run.label}")
            argv = self._argv(run, "remove", prefix, dry_run=False, extra=["--force"], specs=extras)
            await self._call(run, argv, task, json_required=False)
        after = self.packages(prefix)
        have = {(p.name.lower(), p.version, p.build) for p in after}
        want = {(p.name.lower(), p.version, p.build) for _, p in wanted}
        if have != want:
            missing = sorted(f"{n}-{v}-{b}" for n, v, b in want - have)
            unexpected = sorted(f"{n}-{v}-{b}" for n, v, b in have - want)
            raise OperationFailed(
                f"After the explicit install {prefix} does not hold exactly the listed packages"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not listed: {', '.join(unexpected)}" if unexpected else ""),
                details={"missing": missing, "unexpected": unexpected},
            )
        return diff_packages(before, after)

    async def _link_explicit(self, run: _Run, prefix: Path, entries: list[ExplicitEntry], task: Task) -> None:
        seeded = False
        if self._env_state(prefix) == "none" and run.dialect.create_into_existing_dir:
            command = "create"
        else:
            seeded = self._seed(prefix)
            command = "install"
        lines = ["# jupyter_envmod explicit package list", "@EXPLICIT"]
        for entry in entries:
            digest = entry.sha256 or entry.md5
            lines.append(f"{entry.url}#{digest}" if digest else str(entry.url))
        task.set_phase(f"installing {len(entries)} listed packages with {run.label}")
        with tempfile.TemporaryDirectory(prefix="envmod-explicit-") as tmp:
            path = os.path.join(tmp, "explicit.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            argv = self._argv(run, command, prefix, dry_run=False, extra=["--file", path])
            try:
                # conda prints no JSON result for explicit files; errors still are JSON
                await self._call(run, argv, task, json_required=False)
            except BaseException:
                if seeded:
                    self._unseed(prefix)
                raise
