"""`jupyter envmod site`: the CLI reads the same configuration files as the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
    return subprocess.run([jupyter, "envmod", *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture
def jp_server_config(jp_config_dir, tmp_path):
    """The site configuration lives in a config file (not in the server's
    in-memory config) so that the server and the CLI both have to read it."""
    (jp_config_dir / "jupyter_server_config.json").write_text(
        json.dumps(
            {"EnvMod": {"env_dirs": [str(tmp_path / "envs")], "default_engine": "venv", "module_app": "py-envs"}}
        )
    )
    return {"ServerApp": {"jpserver_extensions": {"jupyter_envmod": True}}}


async def test_cli_and_server_agree(jp_fetch, tmp_path):
    from_server = json.loads((await jp_fetch("envmod", "site")).body)
    cli = run_cli("site", "--json", env=dict(os.environ))
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)
    assert from_cli["config"]["env_dirs"] == [str(tmp_path / "envs")]
    assert from_cli["config"]["default_engine"] == "venv"
    assert from_cli["config"]["module_app"] == "py-envs"
    assert from_cli["config"] == from_server["config"]
    assert from_cli["engines"] == from_server["engines"]


def test_cli_text_output(jp_environ, jp_server_config):
    cli = run_cli("site", env=dict(os.environ))
    assert cli.returncode == 0, cli.stderr
    assert "Engines:" in cli.stdout
    assert "venv (default): available" in cli.stdout
    assert "(new environments)" in cli.stdout


def test_cli_names_bad_configuration(jp_environ, jp_config_dir):
    (jp_config_dir / "jupyter_server_config.py").write_text("c.EnvMod.default_engine = 'pip'\n")
    cli = run_cli("site", env=dict(os.environ))
    assert cli.returncode == 2
    assert "EnvMod.default_engine = 'pip'" in cli.stderr
    assert "Traceback" not in cli.stderr
