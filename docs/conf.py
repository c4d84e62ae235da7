"""Sphinx configuration of the jupyter_envmod documentation.

Build with warnings as errors:

    sphinx-build -W --keep-going -b html docs docs/_build/html

The configuration and CLI references are generated at build time from the code by
the local extension ``_ext/envmod_config.py`` into ``reference/_generated/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# The package is normally installed (editable) in the docs environment; the checkout
# is a fallback so that `import jupyter_envmod` also works from a plain clone.
sys.path.append(str(HERE.parent))

import jupyter_envmod  # noqa: E402

project = "jupyter_envmod"
author = "jupyter_envmod contributors"
copyright = "jupyter_envmod contributors"
version = jupyter_envmod.__version__
release = version

extensions = [
    "myst_parser",
    "envmod_config",
    "envmod_openapi",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "reference/_generated", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["colon_fence", "deflist"]
# Help texts quote literal values ('strict', 'module use'); keep them straight so
# they can be copied.
smartquotes = False

html_theme = "furo"
html_title = f"jupyter_envmod {release}"
html_show_sourcelink = False
