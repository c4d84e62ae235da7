"""Plain data the core passes around and serialises: packages, change plans and
requests. No behaviour beyond ``to_json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Source = Literal["conda", "pypi"]
Manager = Literal["conda", "pip"]
Action = Literal["install", "update", "remove", "update-all"]


@dataclass
class Package:
    """One installed package as the user sees it."""

    name: str
    version: str
    source: Source
    build: str = ""
    #: conda: the channel's name or URL; pip packages: "pypi"
    channel: str = "pypi"
    #: asked for by the user (not only pulled in as a dependency)
    requested: bool = False
    #: conda: the package URL and its sha256, what an explicit export needs
    url: str = ""
    sha256: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Change:
    """One line of a plan: a package added, removed or changed (version or build)."""

    name: str
    source: Source
    old: str | None = None  # "version build" before, None when added
    new: str | None = None  # "version build" after, None when removed

    @property
    def kind(self) -> str:
        if self.old is None:
            return "add"
        if self.new is None:
            return "remove"
        return "change"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "old": self.old, "new": self.new, "kind": self.kind}


@dataclass
class Plan:
    """What an operation changes (or, for a dry run, would change)."""

    changes: list[Change] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"changes": [c.to_json() for c in self.changes]}

    def extend(self, other: Plan) -> None:
        self.changes.extend(other.changes)

    def summary(self) -> str:
        if not self.changes:
            return "nothing to change"
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        words = {"add": "to add", "remove": "to remove", "change": "to change"}
        return ", ".join(f"{n} {words[k]}" for k, n in sorted(counts.items()))


def diff_packages(before: list[Package], after: list[Package]) -> Plan:
    """The plan that takes the package set ``before`` to ``after``."""

    def key(p: Package) -> tuple[str, str]:
        return (p.source, p.name.lower())

    def label(p: Package) -> str:
        return f"{p.version} {p.build}".strip()

    old = {key(p): p for p in before}
    new = {key(p): p for p in after}
    changes: list[Change] = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a is None and b is not None:
            changes.append(Change(b.name, b.source, None, label(b)))
        elif b is None and a is not None:
            changes.append(Change(a.name, a.source, label(a), None))
        elif a is not None and b is not None and label(a) != label(b):
            changes.append(Change(b.name, b.source, label(a), label(b)))
    return Plan(changes)


@dataclass
class CreateRequest:
    """What to put into a new environment (already validated by ``specs``)."""

    python: str
    packages: list[str] = field(default_factory=list)  # conda specs (conda engines) / PEP 508 (venv)
    pip_packages: list[str] = field(default_factory=list)  # PEP 508, installed with uv pip after the conda step
    channels: list[str] = field(default_factory=list)  # empty: EnvMod.channels
    #: an explicit (or lock) spec: install exactly these package URLs, no solve
    explicit: list[Any] = field(default_factory=list)  # list[specs.ExplicitEntry]
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class ChangeRequest:
    """Install, update or remove packages in an existing environment."""

    action: Action
    specs: list[str]
    manager: Manager = "conda"
    channels: list[str] = field(default_factory=list)
