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
