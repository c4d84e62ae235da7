"""The one base handler: authorization resource, manager access, and the single
place that turns domain errors into HTTP status codes and JSON bodies."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Iterator
from http import HTTPStatus
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import (
    Busy,
    Cancelled,
    ConfigError,
    EnvModError,
    InvalidInput,
    NotFound,
    NotPermitted,
    OperationFailed,
    Unsatisfiable,
)
from ..manager import EnvModManager

if TYPE_CHECKING:
    from ..discovery import Environment
    from ..tasks import Task

MANAGER_SETTING = "envmod_manager"
#: longest message quoted from a rejected value (a fuzzer's megabyte string stays out of answers and logs)
QUOTE_LIMIT = 200

#: Domain error class -> HTTP status. Subclasses inherit their parent's status.
STATUS_FOR_ERROR: dict[type[EnvModError], int] = {
    ConfigError: 500,
    InvalidInput: 400,
    NotFound: 404,
    NotPermitted: 403,
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


def status_for_reason(reason: str) -> int:
    """The status of an error known only by its reason (a failed task's error)."""
    for cls, status in STATUS_FOR_ERROR.items():
        if cls.reason == reason:
            return status
    return 500


@contextlib.contextmanager
def request_fields(names: dict[str, str]) -> Iterator[None]:
    """Name fields as the request has them: the core's InvalidInput says e.g.
    ``module_deps`` (the CLI's name) where the body said ``module.dependencies``."""
    try:
        yield
    except InvalidInput as err:
        field = err.details.get("field")
        if field in names:
            err.details["field"] = names[field]
        raise


#: core field name -> body field, for bodies with ``kernel`` and ``module`` objects
OUTPUT_FIELDS = {
    "module_deps": "module.dependencies",
    "formats": "module.formats",
    "display_name": "kernel.display_name",
}


@functools.cache
def openapi() -> dict[str, Any]:
    """The shipped OpenAPI description (read on first use, never at server start)."""
    from ruamel.yaml import YAML

    spec: dict[str, Any] = YAML(typ="safe").load(files("jupyter_envmod").joinpath("openapi.yaml").read_text())
    return spec


@functools.cache
def _validator(schema_name: str) -> Any:
    import jsonschema

    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": openapi()["components"]}
    return jsonschema.Draft202012Validator(schema)


def _field_of(error: Any) -> tuple[str, str]:
    """(field, sentence) for a jsonschema error: names the field as a dotted path."""
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    where = "".join(parts).lstrip(".")
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        field = ".".join(filter(None, [where, missing[0] if missing else ""]))
        return field, f"{field} is required"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(str(k) for k in error.instance if k not in known)
        name = extra[0] if extra else "?"
        field = ".".join(filter(None, [where, name]))
        return field, f"unknown field {name[:QUOTE_LIMIT]!r}; accepted fields: {', '.join(known)}"
    message = error.message if len(error.message) <= QUOTE_LIMIT else error.message[:QUOTE_LIMIT] + "…"
    return where or "body", f"{where or 'the request body'}: {message}"


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

    def json_body(self, schema_name: str) -> dict[str, Any]:
        """The request's JSON body, checked against ``schema_name`` of the OpenAPI
        file; InvalidInput (400) naming the field otherwise. An empty body is {}."""
        raw = self.request.body or b"{}"
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise InvalidInput(f"The request body is not JSON: {err}", details={"field": "body"}) from None
        from jsonschema.exceptions import best_match

        error = best_match(_validator(schema_name).iter_errors(data))
        if error is not None:
            field, sentence = _field_of(error)
            raise InvalidInput(f"Invalid request: {sentence}.", details={"field": field})
        return data  # type: ignore[no-any-return]

    def int_argument(self, name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= maximum:
            raise InvalidInput(f"{name} must be a whole number from {minimum} to {maximum}.", details={"field": name})
        return value

    def flag_argument(self, name: str) -> bool:
        return self.get_query_argument(name, "0").lower() in ("1", "true", "yes")

    async def environment(self, env_id: str) -> Environment:
        """The environment with id ``env_id`` (NotFound → 404). Looked up in a thread."""
        return await asyncio.to_thread(self.manager.environments.find, env_id=env_id)

    def task_url(self, task: Task) -> str:
        return url_path_join(self.base_url, "envmod", "tasks", task.id)

    def accepted(self, task: Task) -> None:
        """202, ``Location:`` of the task, and the task as the body."""
        self.set_header("Location", self.task_url(task))
        self.write_json(task.to_json(), 202)

    async def answer_task(self, task: Task, *, dry_run: bool) -> None:
        """A write: 202 with the task (:meth:`accepted`). A dry run changes nothing:
        wait for the task, then answer 200 with it, or its error with the error's
        status (422 unsatisfiable …)."""
        if not dry_run:
            self.accepted(task)
            return
        if await self.finished(task):
            self.write_json(task.to_json())

    async def finished(self, task: Task) -> bool:
        """Wait for a task that changes nothing. True when it succeeded; else its
        error has been answered, with the error's status."""
        await task.wait()
        if task.error is None:
            return True
        body = {**task.error, "details": {**(task.error.get("details") or {}), "task": task.id}}
        self.write_json(body, status_for_reason(str(task.error.get("reason"))))
        return False

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
                # no traceback for the client: the server log has it (log_exception)
                message = f"Internal error in jupyter_envmod ({type(exc).__name__}); the server log has the details."
            body = {"message": message, "reason": reason.lower().replace(" ", "-"), "details": {}}
        self.set_status(status_code)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))
