"""The core's entry object: holds the site configuration and the caches that the
REST handlers and the CLI share. No tornado below this line."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from .config import EnvMod
from .siteinfo import SiteInfo, SiteInfoCache
from .tasks import TaskManager

if TYPE_CHECKING:
    from .operations import Environments
    from .pkgsearch import PackageSearch


class EnvModManager:
    """One per server (or CLI run). Building it is cheap: nothing is detected,
    scanned or imported that a request does not need — the operations (and the
    libraries they use: rattler, ruamel.yaml, packaging, jinja2) are imported on
    first use, which the start-up reconciliation does in a thread."""

    def __init__(self, envmod: EnvMod):
        self.envmod = envmod
        self._site = SiteInfoCache(envmod)
        self.tasks = TaskManager(retention=envmod.task_retention)
        self._environments: Environments | None = None
        self._search: PackageSearch | None = None

    @property
    def environments(self) -> Environments:
        if self._environments is None:
            from .operations import Environments

            self._environments = Environments(self.envmod, self.tasks)
        return self._environments

    async def site_info(self, refresh: bool = False) -> SiteInfo:
        """Engines, module system and effective configuration (cached; ``refresh``
        re-detects)."""
        return await self._site.get(refresh=refresh)

    @property
    def search(self) -> PackageSearch:
        """Package-name completion, made on first use (its caches live as long as the
        server)."""
        if self._search is None:
            from .pkgsearch import PackageSearch

            self._search = PackageSearch(self.envmod)
        return self._search

    async def reconcile(self, log: logging.Logger | None = None) -> None:
        """Mark environments whose operation was cut off (the server stopped during a
        create or install) as interrupted. Runs in a thread once the server started."""
        try:
            marked = await asyncio.to_thread(lambda: self.environments.reconcile())
        except Exception:  # start-up must not fail for this; say why in the log
            if log is not None:
                log.exception("jupyter_envmod: could not check for interrupted operations")
            return
        if log is not None:
            for env in marked:
                log.warning("jupyter_envmod: %s was interrupted (%s); retry or delete it", env.path, env.state)
