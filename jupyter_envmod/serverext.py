"""Glue between Jupyter Server and the core: build the manager, register handlers."""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from .config import load_envmod
from .errors import ConfigError
from .handlers import setup_handlers
from .handlers.base import MANAGER_SETTING
from .manager import EnvModManager


def load(serverapp: Any) -> None:
    """Called by Jupyter Server at start. An invalid site configuration is logged
    (naming each trait and value) and every endpoint then answers with that error,
    so the Lab panel shows it instead of a generic 'extension missing'.

    Nothing slow runs here (see :func:`start`)."""
    manager: EnvModManager | ConfigError
    try:
        manager = EnvModManager(load_envmod(serverapp.config))
    except ConfigError as err:
        serverapp.log.error("jupyter_envmod: %s", err.message)
        manager = err
    setup_handlers(serverapp.web_app, manager)
    serverapp.log.info("jupyter_envmod: extension loaded at %senvmod", serverapp.base_url)


#: seconds after the server started before cut-off operations are looked for, so the
#: server answers its first requests (the browser loading JupyterLab) first
RECONCILE_DELAY = 2.0


def start(serverapp: Any) -> None:
    """Called by Jupyter Server once its event loop runs: a little later, find the
    environments whose operation was cut off by a previous server's end (in a thread;
    it also imports the core operations, so the first request need not)."""
    manager = serverapp.web_app.settings.get(MANAGER_SETTING)
    if isinstance(manager, EnvModManager):
        IOLoop.current().call_later(RECONCILE_DELAY, manager.reconcile, serverapp.log)
