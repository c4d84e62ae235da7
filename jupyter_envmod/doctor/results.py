"""What the doctor reports: the check names and statuses, :class:`Check` and
:class:`FixResult`, the JSON report, and the error a fix raises when part of it fails."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import EnvModError

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


def make_check(cid: str, status: str, summary: str, explanation: str, details: Iterable[str] = ()) -> Check:
    """A :class:`Check` of ``cid`` under its title."""
    return Check(cid, TITLES[cid], status, summary, explanation, list(details))


def reason(err: Exception) -> str:
    """An exception as a reason for people: the message of ours and of OS and value
    errors, the type too for anything unexpected."""
    if isinstance(err, EnvModError):
        return err.message
    if isinstance(err, (OSError, ValueError)):
        return str(err)
    return f"{type(err).__name__}: {err}"


def failed(errors: list[str], done: str) -> str:
    """``done`` when there are no ``errors``; else :class:`FixFailed` listing them (and what was done)."""
    if errors:
        raise FixFailed("; ".join(errors) + (f" ({done})" if done else ""))
    return done
