"""jupyter_envmod: create and manage conda and venv environments on HPC clusters,
with Jupyter kernels and environment-module files, from JupyterLab or a CLI.

Importing this package must stay cheap: Jupyter Server imports every enabled
extension at start. Heavy modules are imported inside the functions below.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-envmod"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "jupyter_envmod"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    from .serverext import load

    load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    from .serverext import start

    start(serverapp)
