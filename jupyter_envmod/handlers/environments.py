"""Environments: list, create, adopt, details, delete, clone, retry, packages,
export, history and restore, outdated, share.

Each verb checks the body against the OpenAPI schema, maps it to the core and
answers JSON; work that changes disk is a task (202, ``Location:`` of the task).
The core's operations are imported on first use, not when the server starts.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput
from .base import OUTPUT_FIELDS, EnvModHandler, request_fields

if TYPE_CHECKING:
    from ..models import Action
    from ..operations import CreateOptions
    from ..outputs import OutputOptions

ACTIONS: tuple[Action, ...] = ("install", "update", "remove")


def output_options(body: dict[str, Any]) -> OutputOptions:
    """The ``kernel`` and ``module`` objects of a request. Where files go is the site's
    choice (kernel_dir, module_dir), never the request's."""
    from ..outputs import OutputOptions

    kernel = body.get("kernel") or {}
    module = body.get("module") or {}
    return OutputOptions(
        kernel=bool(kernel.get("create", False)),
        display_name=kernel.get("display_name"),
        module=bool(module.get("create", False)),
        formats=module.get("formats"),
        module_deps=list(module.get("dependencies", [])),
    )


def create_options(body: dict[str, Any]) -> CreateOptions:
    from ..operations import CreateOptions
    from ..specs import REQUEST_SOURCE, parse_spec_text

    spec = None
    if "spec" in body:
        spec = parse_spec_text(
            body["spec"]["content"],
            fmt=body["spec"].get("format"),
            source=body["spec"].get("filename") or REQUEST_SOURCE,
        )
    return CreateOptions(
        name=body.get("name"),
        path=body.get("path"),
        engine=body.get("engine"),
        python=body.get("python"),
        packages=list(body.get("packages", [])),
        pip_packages=list(body.get("pip_packages", [])),
        channels=list(body.get("channels", [])),
        spec=spec,
        dry_run=bool(body.get("dry_run", False)),
        outputs=output_options(body),
    )


class EnvironmentsHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        envs = await asyncio.to_thread(self.manager.environments.all)
        self.write_json([env.to_json() for env in envs])

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("CreateRequest")
        environments = self.manager.environments
        opts = create_options(body)
        with request_fields(OUTPUT_FIELDS):
            plan = await asyncio.to_thread(environments.validate_create, opts)
        await self.answer_task(environments.start_create(plan), dry_run=plan.dry_run)


class AdoptHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("AdoptRequest")
        with request_fields(OUTPUT_FIELDS):
            self.accepted(self.manager.environments.adopt(body["path"], output_options(body)))


class EnvironmentHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        env = await self.environment(env_id)
        self.write_json(await asyncio.to_thread(self.manager.environments.details, env))

    @web.authenticated
    @authorized
    async def delete(self, env_id: str) -> None:
        env = await self.environment(env_id)
        self.accepted(self.manager.environments.delete(env))


class CloneHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def post(self, env_id: str) -> None:
        body = self.json_body("CloneRequest")
        env = await self.environment(env_id)
        self.accepted(self.manager.environments.clone(env, to_name=body.get("name"), to_path=body.get("path")))


class RetryHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def post(self, env_id: str) -> None:
        env = await self.environment(env_id)
        self.accepted(self.manager.environments.retry(env))


class PackagesHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        env = await self.environment(env_id)
        packages = await asyncio.to_thread(self.manager.environments.packages, env)
        self.write_json([p.to_json() for p in packages])

    @web.authenticated
    @authorized
    async def post(self, env_id: str) -> None:
        body = self.json_body("PackagesRequest")
        asked: list[str] = [action for action in ACTIONS if body.get(action)]
        if body.get("update_all"):
            asked.append("update_all")
        if len(asked) != 1:
            raise InvalidInput(
                "Give exactly one non-empty list of packages (install, update or remove) or update_all: true "
                f"(got {', '.join(asked) or 'none'}).",
                details={"field": asked[1] if len(asked) > 1 else "install"},
            )
        from ..models import ChangeRequest

        manager = body.get("manager", "conda")
        channels = list(body.get("channels", []))
        if asked[0] == "update_all":
            request = ChangeRequest("update-all", [], manager, channels)
        else:
            action: Action = asked[0]  # type: ignore[assignment]
            request = ChangeRequest(action, list(body[action]), manager, channels)
        env = await self.environment(env_id)
        dry_run = bool(body.get("dry_run", False))
        await self.answer_task(self.manager.environments.change(env, request, dry_run=dry_run), dry_run=dry_run)


def download_name(env_name: str, fmt: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", env_name).lstrip(".") or "environment"
    return {
        "yml": f"{stem}-environment.yml",
        "history": f"{stem}-history.yml",
        "requirements": f"{stem}-requirements.txt",
        "explicit": f"{stem}-explicit.txt",
    }[fmt]


class ExportHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        fmt = self.get_query_argument("format", "yml")
        env = await self.environment(env_id)
        _, text = await asyncio.to_thread(self.manager.environments.export, env, fmt)
        name = download_name(env.name, fmt)
        content_type = "application/x-yaml" if name.endswith(".yml") else "text/plain"
        self.set_header("Content-Disposition", f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}")
        self.finish(text.encode("utf-8"), set_content_type=f"{content_type}; charset=utf-8")


class HistoryHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        env = await self.environment(env_id)
        revisions = await asyncio.to_thread(self.manager.environments.history, env)
        self.write_json([r.to_json(packages=False) for r in revisions])


class RevisionHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str, rev: str) -> None:
        from ..history import get, parse_rev

        number = parse_rev(rev)
        env = await self.environment(env_id)
        revision = await asyncio.to_thread(get, env.prefix, number)
        self.write_json(revision.to_json())


class RestoreHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def post(self, env_id: str, rev: str) -> None:
        from ..history import parse_rev

        body = self.json_body("RestoreRequest")
        number = parse_rev(rev)
        env = await self.environment(env_id)
        dry_run = bool(body.get("dry_run", False))
        await self.answer_task(self.manager.environments.restore(env, number, dry_run=dry_run), dry_run=dry_run)


class OutdatedHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        env = await self.environment(env_id)
        task = self.manager.environments.outdated(env)
        if await self.finished(task):
            self.write_json({**(task.result or {}), "task": task.id})


class ShareHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self, env_id: str) -> None:
        env = await self.environment(env_id)
        self.write_json(await asyncio.to_thread(self.manager.environments.share, env))
