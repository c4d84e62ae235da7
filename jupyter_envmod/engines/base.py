"""The interface every engine implements.

An engine works on one prefix. Conda engines (``rattler``, ``conda``) handle conda
packages only; pip packages inside a conda environment are the operations layer's
job (it calls :class:`~.pip.UvPip` after the conda step). The ``venv`` engine's
packages are all pip packages.

Contract for every method that takes ``dry_run``: with ``dry_run=True`` nothing on
disk changes; the returned :class:`~jupyter_envmod.models.Plan` says what would.
Methods report through ``task`` (``set_phase``, ``set_progress``, ``log``) and run
child processes only through ``task.run`` so a cancel kills them. Failures raise
:mod:`jupyter_envmod.errors` classes: ``Unsatisfiable`` for a solve with no answer,
``OperationFailed`` (with argv and output tail) when a step fails, ``InvalidInput``
for a request this engine cannot do.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..config import EnvMod
    from ..models import Package, Plan
    from ..specs import ExplicitEntry
    from ..tasks import Task


class Engine(ABC):
    #: "rattler" | "conda" | "venv"
    name: ClassVar[str]
    #: the kind of environment it makes: "conda" (has conda-meta/) or "venv" (has pyvenv.cfg)
    kind: ClassVar[str]

    def __init__(self, envmod: EnvMod):
        self.envmod = envmod

    def channels(self, requested: list[str]) -> list[str]:
        """The request's channels, else the site's EnvMod.channels."""
        return list(requested) if requested else list(self.envmod.channels)

    @abstractmethod
    async def create(
        self, prefix: Path, *, python: str, specs: list[str], channels: list[str], task: Task, dry_run: bool = False
    ) -> Plan:
        """Make a new environment at ``prefix`` with Python ``python`` (X.Y or X.Y.Z)
        and ``specs`` (conda MatchSpecs; PEP 508 requirements for venv). ``prefix``
        exists already (it holds ``.envmod/``) unless ``dry_run``."""

    @abstractmethod
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
        """Add ``specs`` (``update``: update the named packages to the newest the
        solver accepts), keeping what the user asked for before satisfied."""

    @abstractmethod
    async def remove(self, prefix: Path, names: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        """Remove the named packages (and what only they needed, where the engine can tell)."""

    @abstractmethod
    async def update_all(
        self,
        prefix: Path,
        *,
        channels: list[str],
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """Move every package to the newest version the solver accepts given what the
        user asked for (conda engines read that from conda-meta; venv takes
        ``requested``, the user's PEP 508 requirements with their version limits)."""

    async def newest(self, names: list[str], *, channels: list[str]) -> dict[str, str]:
        """Name → newest version the channels offer, for the named packages (without
        solving). Engines that cannot tell return {}."""
        return {}

    @abstractmethod
    def packages(self, prefix: Path) -> list[Package]:
        """The packages this engine manages in ``prefix`` (conda engines: conda
        packages; venv: pip packages), read from files — never a subprocess."""


class CondaEngine(Engine):
    """Extra operations of engines that make conda environments."""

    kind = "conda"

    @abstractmethod
    async def install_explicit(
        self,
        prefix: Path,
        entries: list[ExplicitEntry],
        *,
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """Make ``prefix`` hold exactly the packages ``entries`` name (URLs with
        hashes), no solve: create from an explicit/lock file, clone, roll back,
        restore. ``requested``: the specs to record as asked for (restore puts back a
        revision's), where the engine records them."""

    def explicit(self, prefix: Path) -> list[ExplicitEntry]:
        """The installed conda packages as explicit entries (URL + sha256)."""
        from ..specs import ExplicitEntry
        from .condameta import read_records

        return [ExplicitEntry(r["url"], r.get("sha256") or None, r.get("md5") or None) for r in read_records(prefix)]

    def packages(self, prefix: Path) -> list[Package]:
        from .condameta import conda_packages

        return conda_packages(prefix)
