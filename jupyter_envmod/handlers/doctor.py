"""GET /envmod/doctor runs the setup checks; POST /envmod/doctor/fix applies the
fixes the request names (naming them is the user's confirmation) and checks again.
Both run the core's :class:`~jupyter_envmod.doctor.Doctor` in a thread: sizing caches
and reading config files must not hold up the event loop."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import EnvModHandler

if TYPE_CHECKING:
    from ..doctor import Doctor


class _DoctorHandler(EnvModHandler):
    async def doctor(self) -> Doctor:
        from ..doctor import Doctor

        info = await self.manager.site_info()
        return Doctor(self.manager.envmod, module_system=info.module_system)


class DoctorHandler(_DoctorHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        from ..doctor import report

        doctor = await self.doctor()
        checks = await asyncio.to_thread(doctor.run)
        self.write_json(report(checks))


class DoctorFixHandler(_DoctorHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        from ..doctor import report

        body = self.json_body("DoctorFixRequest")
        doctor = await self.doctor()

        def fix_then_check() -> dict[str, Any]:
            results = doctor.fix(body["checks"])
            return {"results": [r.to_json() for r in results], **report(doctor.run())}

        self.write_json(await asyncio.to_thread(fix_then_check))
