"""The wheel built from a clean copy of the checkout carries the Lab extension and
the jupyter-config file, and installing it into a fresh virtual environment gives
an enabled server extension and Lab extension.

Builds with real uv (build isolation, the project's pyproject build requirements,
jlpm through hatch-jupyter-builder) — what `pip install .` does on a user's machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jupyter_envmod import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging


def uv() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def output(proc: subprocess.CompletedProcess) -> str:
    """stdout + stderr without colour codes (jupyter colours 'enabled'/'OK')."""
    return ANSI.sub("", proc.stdout + proc.stderr)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, **kwargs)
    assert proc.returncode == 0, f"{argv} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory) -> Path:
    """The files a fresh clone would have (tracked + untracked-but-not-ignored)."""
    dest = tmp_path_factory.mktemp("clone") / "jupyter_envmod"
    files = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    assert not (dest / "jupyter_envmod" / "labextension").exists()
    assert not (dest / "node_modules").exists()
    return dest


@pytest.fixture(scope="module")
def wheel(clean_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")))
    run([uv(), "build", "--wheel", "--out-dir", str(out), str(clean_copy)], env=env)
    (built,) = out.glob("jupyter_envmod-*.whl")
    return built


def test_wheel_carries_lab_extension_and_server_config(wheel):
    assert wheel.name.startswith(f"jupyter_envmod-{__version__}-")
    data = f"jupyter_envmod-{__version__}.data/data/"
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        labext = data + "share/jupyter/labextensions/jupyter-envmod/"
        assert labext + "package.json" in names
        assert labext + "install.json" in names
        assert labext + "static/style.js" in names
        assert any(n.startswith(labext + "static/remoteEntry.") for n in names)
        assert labext + "schemas/jupyter-envmod/plugin.json" in names
        config = data + "etc/jupyter/jupyter_server_config.d/jupyter_envmod.json"
        assert json.loads(zf.read(config)) == {"ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}}}
        assert json.loads(zf.read(labext + "package.json"))["version"] == __version__
        assert "jupyter_envmod/_version.py" in names
        assert "jupyter_envmod/openapi.yaml" in names
        # the built-in templates (kernel.json, launcher, module files, scripts) and logos
        from jupyter_envmod.templating import TEMPLATE_NAMES

        for template in (*TEMPLATE_NAMES, "logo-svg.svg", "logo-64x64.png"):
            assert f"jupyter_envmod/templates/{template}" in names


def test_fresh_venv_has_both_extensions_enabled(wheel, tmp_path):
    venv = tmp_path / "venv"
    run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)])
    py = str(venv / "bin" / "python")
    run([uv(), "pip", "install", "--quiet", "--python", py, str(wheel), "jupyterlab>=4.6,<5"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(HOME=str(tmp_path / "home"), PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    server = run([str(venv / "bin" / "jupyter"), "server", "extension", "list"], env=env)
    text = output(server)
    assert "jupyter_envmod enabled" in text
    assert f"jupyter_envmod {__version__} OK" in text
    lab = run([str(venv / "bin" / "jupyter"), "labextension", "list"], env=env)
    text = output(lab)
    assert f"jupyter-envmod v{__version__} enabled OK" in text
