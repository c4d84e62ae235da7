"""GET /envmod/site: version, effective configuration, engines, module system."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import EnvModHandler


class SiteHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        refresh = self.get_query_argument("refresh", "0").lower() in ("1", "true", "yes")
        info = await self.manager.site_info(refresh=refresh)
        self.write_json(info.to_json())
