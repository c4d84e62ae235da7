"""REST handlers under ``<base_url>/envmod``: thin shells over the core."""

from __future__ import annotations

from typing import Any

from jupyter_server.utils import url_path_join

from ..errors import ConfigError
from ..manager import EnvModManager
from .base import MANAGER_SETTING
from .doctor import DoctorFixHandler, DoctorHandler
from .environments import (
    AdoptHandler,
    CloneHandler,
    EnvironmentHandler,
    EnvironmentsHandler,
    ExportHandler,
    HistoryHandler,
    OutdatedHandler,
    PackagesHandler,
    RestoreHandler,
    RetryHandler,
    RevisionHandler,
    ShareHandler,
)
from .outputs import AvailableModulesHandler, KernelHandler, KernelsHandler, ModuleHandler, ModulesHandler
from .search import PackageSearchHandler
from .site import SiteHandler
from .tasks import TaskHandler, TasksHandler

_ENV = r"/environments/(?P<env_id>[^/]+)"

#: (path under <base_url>/envmod, handler). The one table of endpoints; the OpenAPI
#: file describes each (tests/handlers/test_openapi.py checks both ways).
ROUTES: list[tuple[str, type]] = [
    (r"/site", SiteHandler),
    (r"/environments", EnvironmentsHandler),
    (r"/environments/adopt", AdoptHandler),
    (_ENV, EnvironmentHandler),
    (_ENV + "/clone", CloneHandler),
    (_ENV + "/retry", RetryHandler),
    (_ENV + "/packages", PackagesHandler),
    (_ENV + "/export", ExportHandler),
    (_ENV + "/history", HistoryHandler),
    (_ENV + r"/history/(?P<rev>[^/]+)", RevisionHandler),
    (_ENV + r"/history/(?P<rev>[^/]+)/restore", RestoreHandler),
    (_ENV + "/outdated", OutdatedHandler),
    (_ENV + "/share", ShareHandler),
    (_ENV + "/kernel", KernelHandler),
    (_ENV + "/module", ModuleHandler),
    (r"/kernels", KernelsHandler),
    (r"/modules", ModulesHandler),
    (r"/modules/available", AvailableModulesHandler),
    (r"/packages/search", PackageSearchHandler),
    (r"/tasks", TasksHandler),
    (r"/tasks/(?P<tid>[^/]+)", TaskHandler),
    (r"/doctor", DoctorHandler),
    (r"/doctor/fix", DoctorFixHandler),
]


def setup_handlers(web_app: Any, manager: EnvModManager | ConfigError) -> None:
    base_url = web_app.settings["base_url"]
    web_app.settings[MANAGER_SETTING] = manager
    web_app.add_handlers(
        ".*$",
        [(url_path_join(base_url, "envmod") + pattern, handler) for pattern, handler in ROUTES],
    )
