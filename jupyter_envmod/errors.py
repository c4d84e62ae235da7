"""Domain errors of jupyter_envmod.

The core raises these; the REST handlers map each class to an HTTP status in one
place (``handlers/base.py``) and the CLI prints ``message``. Nothing here knows
about HTTP.
"""

from __future__ import annotations

from typing import Any


class EnvModError(Exception):
    """Base class: a message for people, a stable machine-readable reason, details."""

    reason = "error"

    def __init__(self, message: str, *, reason: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.details: dict[str, Any] = details or {}

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "reason": self.reason, "details": self.details}


class ConfigError(EnvModError):
    """The site configuration (the ``EnvMod`` traits) is invalid.

    ``details["problems"]`` lists ``{"trait", "value", "problem"}`` for each bad value.
    """

    reason = "invalid-configuration"

    def __init__(self, problems: list[dict[str, Any]]):
        lines = [f"- EnvMod.{p['trait']} = {p['value']!r}: {p['problem']}" for p in problems]
        message = "Invalid jupyter_envmod site configuration:\n" + "\n".join(lines)
        super().__init__(message, details={"problems": problems})
        self.problems = problems


class InvalidInput(EnvModError):
    """A request or spec file was rejected before anything ran (HTTP 400, CLI exit 2).

    ``details`` names where: ``field`` (request field or CLI argument), and for spec
    files ``file`` and ``line`` (1-based).
    """

    reason = "invalid-input"


class NotFound(EnvModError):
    """No environment (or task) with that name, path or id (HTTP 404)."""

    reason = "not-found"


class NotPermitted(EnvModError):
    """The user cannot change this environment: another user owns it and it is not
    group-writable for them (HTTP 403, CLI exit 2). The message says who can."""

    reason = "not-permitted"


class Busy(EnvModError):
    """Another operation holds the environment's lock (HTTP 409); ``details["task"]``
    names it."""

    reason = "environment-busy"


class Unsatisfiable(EnvModError):
    """The solver found no set of packages meeting the request (HTTP 422)."""

    reason = "unsatisfiable"


class OperationFailed(EnvModError):
    """An engine step failed (HTTP 500); ``details`` carries the failing command
    (argv) and the tail of its output where there was one."""

    reason = "operation-failed"


class Cancelled(EnvModError):
    """The task was cancelled by the user."""

    reason = "cancelled"
