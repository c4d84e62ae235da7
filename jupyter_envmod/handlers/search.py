"""Package-name completion for the create and install forms."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import EnvModHandler


class PackageSearchHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answers from the cache at once; a missing or stale source is loaded in the
        background (``complete`` is false until it is)."""
        manager = self.manager
        channels = self.get_query_arguments("channel") or None
        result = await manager.search.search(
            self.get_query_argument("q", ""),
            engine=self.get_query_argument("engine", manager.envmod.default_engine),
            channels=channels,
            limit=self.int_argument("limit", 50, minimum=1, maximum=500),
        )
        self.write_json(result)
