"""Revisions: the exact package set of an environment after each change, so every
change can be undone.

``<prefix>/.envmod/history/<N>.json`` holds revision ``N``: when, which action made
it (``create``, ``clone``, ``install``, ``update``, ``remove``, ``update-all``,
``restore``, ``ipykernel``; ``outside`` when the packages changed without this
project, ``baseline`` for the first record of an environment made before revisions
existed), the request, the conda packages as exact records (URL and checksums, as in
an explicit file), the pip packages as pins, what the user had asked for, and the
difference to the revision before.

The operations layer calls :func:`ensure_current` before a change (so the state the
change starts from is always a revision, even when someone changed the environment
outside this project) and :func:`record` after it succeeds. A failed change is
rolled back and leaves no revision. Reading is plain file reads: no subprocess.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import InvalidInput, NotFound
from .state import STATE_DIR

HISTORY_DIR = "history"
FORMAT = 1


@dataclass
class Snapshot:
    """The packages of an environment at one moment."""

    #: conda records: {"name", "version", "build", "channel", "url", "sha256", "md5"}
    conda: list[dict[str, str]] = field(default_factory=list)
    #: pip packages: {"name", "version", "pin", "requested"}; ``pin`` is what ``uv pip sync`` takes
    pip: list[dict[str, Any]] = field(default_factory=list)

    def versions(self) -> dict[tuple[str, str], str]:
        """(source, name) → version, the basis of diffs and comparisons."""
        found = {("conda", r["name"]): _conda_version(r) for r in self.conda}
        found.update({("pypi", p["name"]): str(p["version"]) for p in self.pip})
        return found

    def same_packages(self, other: Snapshot) -> bool:
        return self.versions() == other.versions() and {r["url"] for r in self.conda} == {r["url"] for r in other.conda}


@dataclass
class Revision:
    rev: int
    action: str
    time: float
    snapshot: Snapshot
    #: the request that made it: {"specs", "manager"} for package changes, {"revision"} for restore
    request: dict[str, Any] = field(default_factory=dict)
    requested_conda: list[str] = field(default_factory=list)
    requested_pip: list[str] = field(default_factory=list)
    #: {"added": [...], "removed": [...], "changed": [...]} against the revision before
    diff: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    user: str = ""

    def to_json(self, *, packages: bool = True) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = FORMAT
        data["packages"] = len(self.snapshot.conda) + len(self.snapshot.pip)
        if not packages:
            del data["snapshot"]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Revision:
        snap = data.get("snapshot") or {}
        return cls(
            rev=int(data["rev"]),
            action=str(data.get("action", "")),
            time=float(data.get("time", 0)),
            snapshot=Snapshot(conda=list(snap.get("conda", [])), pip=list(snap.get("pip", []))),
            request=dict(data.get("request") or {}),
            requested_conda=list(data.get("requested_conda") or []),
            requested_pip=list(data.get("requested_pip") or []),
            diff=dict(data.get("diff") or {}),
            user=str(data.get("user", "")),
        )

    def summary(self) -> str:
        """One line: what the revision changed, e.g. "+numpy 1.26.4, scipy 1.11 → 1.12"."""
        parts = [f"+{c['name']} {c['new']}" for c in self.diff.get("added", [])]
        parts += [f"-{c['name']} {c['old']}" for c in self.diff.get("removed", [])]
        parts += [f"{c['name']} {c['old']} → {c['new']}" for c in self.diff.get("changed", [])]
        return ", ".join(parts) or "no package changes"


def history_dir(prefix: Path) -> Path:
    return prefix / STATE_DIR / HISTORY_DIR


def _conda_version(record: dict[str, str]) -> str:
    return f"{record['version']}={record.get('build', '')}" if record.get("build") else str(record["version"])


def diff(old: Snapshot | None, new: Snapshot) -> dict[str, list[dict[str, str]]]:
    """What changed from ``old`` to ``new``: added, removed and changed packages
    (a conda package whose build changed counts as changed)."""
    before = old.versions() if old else {}
    after = new.versions()
    result: dict[str, list[dict[str, str]]] = {"added": [], "removed": [], "changed": []}
    for key in sorted(set(before) | set(after), key=lambda k: (k[1], k[0])):
        source, name = key
        if key not in before:
            result["added"].append({"name": name, "source": source, "new": after[key]})
        elif key not in after:
            result["removed"].append({"name": name, "source": source, "old": before[key]})
        elif before[key] != after[key]:
            result["changed"].append({"name": name, "source": source, "old": before[key], "new": after[key]})
    return result


def _numbers(prefix: Path) -> list[int]:
    """The revision numbers on disk, ascending."""
    try:
        names = os.listdir(history_dir(prefix))
    except OSError:
        return []
    return sorted(int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit())


def _read(prefix: Path, rev: int) -> Revision | None:
    try:
        with open(history_dir(prefix) / f"{rev}.json", encoding="utf-8") as f:
            return Revision.from_json(json.load(f))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def revisions(prefix: Path) -> list[Revision]:
    """Every revision of the environment, oldest first (unreadable files skipped)."""
    return [r for r in (_read(prefix, n) for n in _numbers(prefix)) if r is not None]


def latest(prefix: Path, numbers: list[int] | None = None) -> Revision | None:
    """The newest readable revision (reads one file, not all); ``numbers``: the
    revision numbers when the caller listed them already."""
    for number in reversed(_numbers(prefix) if numbers is None else numbers):
        found = _read(prefix, number)
        if found is not None:
            return found
    return None


def get(prefix: Path, rev: int) -> Revision:
    found = _read(prefix, rev)
    if found is not None:
        return found
    known = _numbers(prefix)
    raise NotFound(
        f"{prefix} has no revision {rev}"
        + (f"; its revisions are {known[0]} to {known[-1]}." if known else "; it has no revisions yet."),
        details={"field": "revision", "revision": rev, "revisions": known},
    )


def record(
    prefix: Path,
    action: str,
    snapshot: Snapshot,
    *,
    request: dict[str, Any] | None = None,
    requested_conda: list[str] | None = None,
    requested_pip: list[str] | None = None,
) -> Revision:
    """Write the next revision (atomically: temp file + rename) and return it."""
    numbers = _numbers(prefix)
    previous = latest(prefix, numbers)
    revision = Revision(
        rev=numbers[-1] + 1 if numbers else 0,
        action=action,
        time=time.time(),
        snapshot=snapshot,
        request=request or {},
        requested_conda=list(requested_conda or []),
        requested_pip=list(requested_pip or []),
        diff=diff(previous.snapshot if previous else None, snapshot),
        user=_user(),
    )
    directory = history_dir(prefix)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{revision.rev}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(revision.to_json(), separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, directory / f"{revision.rev}.json")
    return revision


def ensure_current(
    prefix: Path, snapshot: Snapshot, *, requested_conda: list[str], requested_pip: list[str]
) -> Revision:
    """Make sure the environment's present packages are its latest revision: record a
    ``baseline`` (no revisions yet) or ``outside`` (changed without this project)
    revision when they are not."""
    previous = latest(prefix)
    if previous is not None and previous.snapshot.same_packages(snapshot):
        return previous
    return record(
        prefix,
        "baseline" if previous is None else "outside",
        snapshot,
        requested_conda=requested_conda,
        requested_pip=requested_pip,
    )


def parse_rev(raw: str | int) -> int:
    """A revision number from a request (CLI argument or URL)."""
    try:
        rev = int(raw)
    except (TypeError, ValueError):
        rev = -1
    if rev < 0:
        raise InvalidInput(
            f"revision {str(raw)[:40]!r}: give a revision number (0, 1, …) as 'history' lists them.",
            details={"field": "revision"},
        )
    return rev


def _user() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
