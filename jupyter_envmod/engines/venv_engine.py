"""The ``venv`` engine: Python virtual environments made and filled by uv.

``create`` runs ``uv venv`` on a Python interpreter already on this machine (the
system's, or one a loaded module puts on PATH) and then installs the requested PEP
508 requirements with :class:`~.pip.UvPip`. uv never downloads a Python here
(``--no-python-downloads``) and does not use Pythons it manages itself
(``--no-managed-python``): those live in one user's home directory, so an
environment built on one would break for the group members it is shared with, or
when that user removes it. A version not found is reported with the versions that
were.

The new environment gets no ``pip`` (uv does not seed it): packages are changed
through jupyter_envmod, which records what the user asked for; creating is faster
and smaller; and ``%pip`` in a notebook then fails plainly ("No module named pip")
instead of installing somewhere else. Users who want pip ask for ``pip`` as one of
the packages.

Conda channels mean nothing to a venv: they are ignored, with a line in the log.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidInput, OperationFailed
from ..models import Package, Plan
from ..tasks import Task, failure_details
from .base import Engine
from .pip import UvPip, check_requirements, uv_bin, uv_error_text, uv_workdir

if TYPE_CHECKING:
    from ..config import EnvMod

_PYTHON_VERSION = re.compile(r"^\d+(\.\d+){1,2}$")


class VenvEngine(Engine):
    """Engine of Python virtual environments (``pyvenv.cfg``), all packages from
    PyPI or the site's index through uv."""

    name = "venv"
    kind = "venv"

    def __init__(self, envmod: EnvMod):
        super().__init__(envmod)
        self.pip = UvPip(envmod)

    @staticmethod
    def python(prefix: Path) -> Path:
        """The environment's interpreter."""
        return prefix / "bin" / "python"

    # -- Engine interface -----------------------------------------------------------------
    async def create(
        self, prefix: Path, *, python: str, specs: list[str], channels: list[str], task: Task, dry_run: bool = False
    ) -> Plan:
        """Make a venv at ``prefix`` (which exists and holds ``.envmod/``, kept as it
        is) on a local Python ``python`` and install ``specs`` into it. A dry run
        builds a throwaway venv in a temporary directory to resolve against, so that
        a missing Python is reported just as a real run would."""
        if not _PYTHON_VERSION.match(python):
            raise InvalidInput(
                f"{python!r} is not a Python version: give X.Y or X.Y.Z, e.g. 3.11.", details={"field": "python"}
            )
        check_requirements(specs)
        self._ignore_channels(channels, task)
        if dry_run:
            with tempfile.TemporaryDirectory(prefix="envmod-dry-run-") as tmp:
                scratch = Path(tmp) / "venv"
                await self._make_venv(scratch, python, task)
                return await self.pip.install(self.python(scratch), specs, task=task, dry_run=True)
        if (prefix / "pyvenv.cfg").exists() or (prefix / "conda-meta").exists():
            raise InvalidInput(f"{prefix} already holds an environment.", details={"field": "path"})
        await self._make_venv(prefix, python, task)
        return await self.pip.install(self.python(prefix), specs, task=task)

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
        """Install ``specs``; with ``update`` the named packages move to the newest
        version allowed (``--upgrade-package``), the rest stays where it can."""
        self._ignore_channels(channels, task)
        return await self.pip.install(self._interpreter(prefix), specs, task=task, upgrade=update, dry_run=dry_run)

    async def update_all(
        self,
        prefix: Path,
        *,
        channels: list[str],
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """Every package to the newest version the index offers within ``requested``'s limits."""
        self._ignore_channels(channels, task)
        return await self.pip.update_all(self._interpreter(prefix), list(requested or []), task=task, dry_run=dry_run)

    async def remove(self, prefix: Path, names: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        """Remove the named packages and the dependencies only they needed (ones
        the user never asked for and nothing else requires)."""
        python = self._interpreter(prefix)
        check_requirements(names, field="names")
        self.pip.check_installed(prefix, names)
        orphans = self.pip.orphans(prefix, names)
        if orphans:
            task.log(f"Also removing {', '.join(orphans)}: only the packages being removed needed them.")
        return await self.pip.uninstall(python, [*names, *orphans], task=task, dry_run=dry_run)

    def packages(self, prefix: Path) -> list[Package]:
        """The pip packages of the venv, read from its dist-info directories."""
        return self.pip.installed(prefix)

    # -- extras ------------------------------------------------------------------------
    async def sync(self, prefix: Path, pins: list[str], *, task: Task, requested: Iterable[str] | None = None) -> Plan:
        """Make the venv hold exactly ``pins`` (from :meth:`UvPip.freeze`): clone and
        roll back. ``requested``: the names the user asked for, see :meth:`UvPip.sync`."""
        return await self.pip.sync(self._interpreter(prefix), pins, task=task, requested=requested)

    # -- helpers ------------------------------------------------------------------------
    def _interpreter(self, prefix: Path) -> Path:
        python = self.python(prefix)
        if not (prefix / "pyvenv.cfg").is_file() or not python.exists():
            raise InvalidInput(
                f"{prefix} is not a working venv environment (no pyvenv.cfg or bin/python).",
                details={"field": "path"},
            )
        return python

    @staticmethod
    def _ignore_channels(channels: list[str], task: Task) -> None:
        if channels:
            task.log(
                f"Ignoring channels {', '.join(channels)}: venv environments take packages from PyPI or the index."
            )

    async def _make_venv(self, prefix: Path, python: str, task: Task) -> None:
        """``uv venv`` at ``prefix``; files already there (``.envmod/``) stay."""
        task.set_phase("creating")
        argv = [
            uv_bin(),
            "venv",
            "--allow-existing",  # keep .envmod/; without it uv refuses an existing directory
            "--no-project",  # never pick up a pyproject.toml around the server's directory
            "--no-python-downloads",
            "--no-managed-python",
            f"--python={python}",
            "--color",
            "never",
            "--",
            str(prefix),
        ]
        result = await task.run(argv, env=self.pip.env(), cwd=uv_workdir(prefix), check=False)
        if result.returncode == 0:
            return
        output = result.stdout + result.stderr
        details = failure_details(result)
        if "No interpreter found" in output or "No Python" in output:
            found = await self._pythons(task)
            versions = sorted({f["version"] for f in found}, key=_version_key, reverse=True)
            listing = ", ".join(versions) if versions else "none"
            raise InvalidInput(
                f"Python {python} was not found on this machine, and jupyter_envmod does not download "
                f"Pythons. Pythons found: {listing}. Load a module that provides Python {python}, or "
                "choose a version that was found.",
                details={"field": "python", "python": python, "found": found, **details},
            )
        raise OperationFailed(
            f"Creating the venv with Python {python} failed (uv exit code {result.returncode}):\n"
            + uv_error_text(result),
            details=details,
        )

    async def _pythons(self, task: Task) -> list[dict[str, str]]:
        """The Python interpreters uv can see (not its managed ones): version and path."""
        argv = [
            uv_bin(),
            "python",
            "list",
            "--only-installed",
            "--no-managed-python",
            "--no-python-downloads",
            "--output-format",
            "json",
            "--color",
            "never",
        ]
        result = await task.run(argv, env=self.pip.env(), check=False, log_stdout=False)
        try:
            entries = json.loads(result.stdout) if result.returncode == 0 else []
        except ValueError:
            entries = []
        found: list[dict[str, str]] = []
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict) and entry.get("version") and entry.get("path"):
                item = {"version": str(entry["version"]), "path": str(entry["path"])}
                if item not in found:
                    found.append(item)
        return found


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))
