"""The core's entry object: holds the site configuration and the caches that the
REST handlers and the CLI share. No tornado below this line."""

from __future__ import annotations

from .config import EnvMod
from .operations import Environments
from .siteinfo import SiteInfo, SiteInfoCache
from .tasks import TaskManager


class EnvModManager:
    """One per server (or CLI run)."""

    def __init__(self, envmod: EnvMod):
        self.envmod = envmod
        self._site = SiteInfoCache(envmod)
        self.tasks = TaskManager()
        self.environments = Environments(envmod, self.tasks)

    async def site_info(self, refresh: bool = False) -> SiteInfo:
        """Engines, module system and effective configuration (cached; ``refresh``
        re-detects)."""
        return await self._site.get(refresh=refresh)
