"""The one base handler: authorization resource, manager access, and the single
place that turns domain errors into HTTP status codes and JSON bodies."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import Busy, Cancelled, ConfigError, EnvModError, InvalidInput, NotFound, OperationFailed, Unsatisfiable
from ..manager import EnvModManager

MANAGER_SETTING = "envmod_manager"

#: Domain error class -> HTTP status. Subclasses inherit their parent's status.
STATUS_FOR_ERROR: dict[type[EnvModError], int] = {
    ConfigError: 500,
    InvalidInput: 400,
    NotFound: 404,
    Busy: 409,
    Unsatisfiable: 422,
    Cancelled: 409,
    OperationFailed: 500,
    EnvModError: 500,
}


def status_for(err: EnvModError) -> int:
    for cls in type(err).__mro__:
        if cls in STATUS_FOR_ERROR:
            return STATUS_FOR_ERROR[cls]
    return 500


class EnvModHandler(APIHandler):
    """Base of every jupyter_envmod handler. Each verb of a subclass carries
    ``@web.authenticated`` then ``@authorized``; ``auth_resource`` is "envmod"."""

    auth_resource = "envmod"

    @property
    def manager(self) -> EnvModManager:
        manager = self.settings[MANAGER_SETTING]
        if isinstance(manager, ConfigError):
            # A fresh exception each time: re-raising the stored one would grow its traceback.
            raise ConfigError(manager.problems)
        return manager  # type: ignore[no-any-return]

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, EnvModError):
            self.log.warning("jupyter_envmod: %s %s: %s", self.request.method, self.request.path, value.message)
        else:
            super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Every error body is {"message", "reason", "details"}."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, EnvModError):
            status_code = status_for(exc)
            body = exc.to_json()
        else:
            try:
                reason = HTTPStatus(status_code).phrase
            except ValueError:
                reason = "Error"
            message = reason
            if isinstance(exc, web.HTTPError) and exc.log_message:
                message = exc.log_message % exc.args if exc.args else exc.log_message
            elif exc is not None and status_code >= 500:
                message = f"Internal error in jupyter_envmod: {exc}"
            body = {"message": message, "reason": reason.lower().replace(" ", "-"), "details": {}}
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))
