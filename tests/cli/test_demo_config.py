"""scripts/demo_config.py: the demo's site configuration keeps everything under the
demo folder and picks an engine that can work here, saying which and why."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jupyter_envmod.config import load_envmod

ROOT = Path(__file__).resolve().parents[2]


def write_demo_config(demo: Path, forced: str = "") -> tuple[dict, str]:
    (demo / "config").mkdir(parents=True)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo_config.py"), str(demo), forced],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads((demo / "config" / "jupyter_server_config.json").read_text()), proc.stdout


def test_demo_paths_stay_in_the_demo_folder(tmp_path):
    config, out = write_demo_config(tmp_path / "demo", "venv")
    section = config["EnvMod"]
    for key in ("env_dirs", "kernel_dir", "module_dir"):
        values = section[key] if isinstance(section[key], list) else [section[key]]
        assert all(v.startswith(str(tmp_path / "demo")) for v in values), key
    assert "demo engine: venv (ENVMOD_DEMO_ENGINE=venv)" in out
    # The file is a valid site configuration for the server and the CLI.
    envmod = load_envmod(config_paths=[str(tmp_path / "demo" / "config")])
    assert envmod.default_engine == "venv"


def test_demo_engine_follows_conda_forge_reachability(tmp_path):
    """Whatever the network answers, the choice and its reason are printed: rattler
    when conda-forge answers, else venv (on the CI machine conda-forge is not
    reachable, so this takes the venv branch there)."""
    config, out = write_demo_config(tmp_path / "demo")
    engine = config["EnvMod"]["default_engine"]
    assert engine in ("rattler", "venv")
    if engine == "venv":
        assert "did not answer" in out
        assert "using PyPI through uv instead" in out
    else:
        assert "using conda-forge" in out
