"""Glue between Jupyter Server and the core: build the manager, register handlers."""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from .config import load_envmod
from .errors import ConfigError
from .handlers import setup_handlers
from .manager import EnvModManager


def load(serverapp: Any) -> None:
    """Called by Jupyter Server at start. An invalid site configuration is logged
    (naming each trait and value) and every endpoint then answers with that error,
    so the Lab panel shows it instead of a generic 'extension missing'.

    Nothing slow runs here: finding environments whose operation was cut off by a
    previous server's end is scheduled on the event loop and runs in a thread."""
    manager: EnvModManager | ConfigError
    try:
        manager = EnvModManager(load_envmod(serverapp.config))
    except ConfigError as err:
        serverapp.log.error("jupyter_envmod: %s", err.message)
        manager = err
    setup_handlers(serverapp.web_app, manager)
    if isinstance(manager, EnvModManager):
        IOLoop.current().add_callback(manager.reconcile, serverapp.log)
    serverapp.log.info("jupyter_envmod: extension loaded at %senvmod", serverapp.base_url)
