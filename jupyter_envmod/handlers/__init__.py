"""REST handlers under ``<base_url>/envmod``: thin shells over the core."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from ..errors import ConfigError
from ..manager import EnvModManager
from .base import MANAGER_SETTING
from .site import SiteHandler

#: (path under <base_url>/envmod, handler). The one table of endpoints.
ROUTES: list[tuple[str, type]] = [
    (r"/site", SiteHandler),
]


def setup_handlers(web_app: Any, manager: EnvModManager | ConfigError) -> None:
    base_url = web_app.settings["base_url"]
    web_app.settings[MANAGER_SETTING] = manager
    web_app.add_handlers(
        ".*$",
        [(url_path_join(base_url, "envmod") + pattern, handler) for pattern, handler in ROUTES],
    )
