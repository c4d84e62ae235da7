"""Engines: what actually solves and installs packages into a prefix.

``rattler`` (embedded py-rattler), ``conda`` (the site's conda/mamba/micromamba
executable) and ``venv`` (uv). All implement :class:`~.base.Engine`; the
operations layer (``environments``) picks one and wraps it in a task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import EnvMod
    from .base import Engine


def get_engine(name: str, envmod: EnvMod) -> Engine:
    """The engine called ``name`` ("rattler", "conda" or "venv"), imported on demand
    so that loading the server extension stays cheap."""
    if name == "rattler":
        from .rattler_engine import RattlerEngine

        return RattlerEngine(envmod)
    if name == "conda":
        from .conda_cli import CondaCliEngine

        return CondaCliEngine(envmod)
    if name == "venv":
        from .venv_engine import VenvEngine

        return VenvEngine(envmod)
    from ..errors import InvalidInput

    raise InvalidInput(f"Unknown engine {name!r}: use rattler, conda or venv.", details={"field": "engine"})
