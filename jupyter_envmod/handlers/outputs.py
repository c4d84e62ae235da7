"""Kernels and module files: per environment (PUT writes, DELETE removes) and the
site-wide listings with orphans flagged, plus the modules a dependency can name.
The core modules are imported on first use, not when the server starts."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import EnvModHandler, request_fields

#: core field name -> body field of KernelRequest and ModuleRequest
FIELDS = {"module_deps": "dependencies"}

if TYPE_CHECKING:
    from ..outputs import OutputOptions

#: how long a removal may take before the answer goes out with the task still running
QUICK_TASK_WAIT = 5.0


def _options(body: dict[str, Any]) -> OutputOptions:
    from ..outputs import OutputOptions

    return OutputOptions(
        display_name=body.get("display_name"),
        formats=body.get("formats"),
        module_deps=list(body.get("dependencies", [])),
    )


class _RemovingHandler(EnvModHandler):
    what: str = ""

    async def remove(self, env_id: str) -> None:
        env = await self.environment(env_id)
        task = self.manager.environments.remove_outputs(env, "kernel" if self.what == "kernel" else "module")
        # removing files is quick: answer with the outcome when it is there in time
        await asyncio.wait([asyncio.ensure_future(task.wait())], timeout=QUICK_TASK_WAIT)
        self.accepted(task)


class KernelHandler(_RemovingHandler):
    what = "kernel"

    @web.authenticated
    @authorized
    async def put(self, env_id: str) -> None:
        body = self.json_body("KernelRequest")
        env = await self.environment(env_id)
        with request_fields(FIELDS):
            self.accepted(self.manager.environments.kernel(env, _options(body)))

    @web.authenticated
    @authorized
    async def delete(self, env_id: str) -> None:
        await self.remove(env_id)


class ModuleHandler(_RemovingHandler):
    what = "module"

    @web.authenticated
    @authorized
    async def put(self, env_id: str) -> None:
        body = self.json_body("ModuleRequest")
        env = await self.environment(env_id)
        with request_fields(FIELDS):
            self.accepted(self.manager.environments.module_task(env, _options(body)))

    @web.authenticated
    @authorized
    async def delete(self, env_id: str) -> None:
        await self.remove(env_id)


class KernelsHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..kernels import list_kernels

        found = await asyncio.to_thread(list_kernels, self.manager.envmod)
        self.write_json([k.to_json() for k in found])


class ModulesHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..modulefiles import list_module_files

        found = await asyncio.to_thread(list_module_files, self.manager.envmod)
        self.write_json([f.to_json() for f in found])


class AvailableModulesHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..modsys import AVAILABLE, loaded_modules

        refresh = self.flag_argument("refresh")
        available = await asyncio.to_thread(AVAILABLE.get, refresh=refresh)
        self.write_json({"loaded": loaded_modules(), "available": available})
