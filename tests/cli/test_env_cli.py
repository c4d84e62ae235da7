"""`jupyter envmod` environment commands through the installed entry point, with the
site configuration in a Jupyter config file: conda-env-mod flags, --json output,
confirmation rules and exit codes (0 done, 1 failed, 2 rejected)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def cli(tmp_path, local_channel):
    home = tmp_path / "home"
    home.mkdir()
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    site = {
        "env_dirs": [str(tmp_path / "envs")],
        "cache_dir": str(cache),
        "channels": [local_channel.url],
        "default_python": ".".join(local_channel.python_version.split(".")[:2]),
    }
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({"EnvMod": site}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDA", "JUPYTER", "VIRTUAL_ENV"))}
    env.update({"HOME": str(home), "JUPYTER_CONFIG_DIR": str(config_dir)})
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [jupyter, "envmod", *args], capture_output=True, text=True, env=env, input=stdin, timeout=240
        )

    run.root = tmp_path / "envs"  # type: ignore[attr-defined]
    return run


def test_create_list_packages_install_export_delete(cli, tmp_path):
    done = cli("create", "-n", "demo", "-y", "tinypy=1.0", "beta")
    assert done.returncode == 0, done.stderr
    assert "create: done" in done.stdout

    listed = json.loads(cli("list", "--json").stdout)
    [entry] = listed
    for key in ("name", "path", "engine", "python_version", "state"):
        assert key in entry
    assert (entry["name"], entry["engine"], entry["state"]) == ("demo", "rattler", "ready")
    table = cli("list").stdout
    assert "demo" in table
    assert "rattler" in table

    packages = json.loads(cli("packages", "-n", "demo", "--json").stdout)
    by_name = {p["name"]: p for p in packages}
    assert by_name["tinypy"]["version"] == "1.0"
    assert by_name["tinypy"]["source"] == "conda"
    assert by_name["tinypy"]["requested"]

    dry = cli("install", "-n", "demo", "--dry-run", "gamma")
    assert dry.returncode == 0, dry.stderr
    assert "Dry run" in dry.stdout
    assert "gamma" not in cli("packages", "-n", "demo").stdout

    # standard input is not a terminal: changes proceed without -y
    assert cli("update", "-p", entry["path"], "tinypy").returncode == 0
    assert "1.1" in cli("packages", "-n", "demo").stdout
    assert cli("remove", "-n", "demo", "beta").returncode == 0
    pip = cli("install", "-n", "demo", "--pip", "six==1.16.0")
    assert pip.returncode == 0, pip.stderr
    sources = {p["name"]: p["source"] for p in json.loads(cli("packages", "-n", "demo", "--json").stdout)}
    assert sources["six"] == "pypi"

    out = tmp_path / "demo.yml"
    assert cli("export", "-n", "demo", "--format", "history", "-f", str(out)).returncode == 0
    text = out.read_text()
    assert "tinypy" in text
    assert "six==1.16.0" in text
    assert "@EXPLICIT" in cli("export", "-n", "demo", "--format", "explicit").stdout

    again = cli("create", "-f", str(out), "-n", "fromfile")
    assert again.returncode == 0, again.stderr
    clone = cli("clone", "-n", "demo", "--to-name", "copy", "-y")
    assert clone.returncode == 0, clone.stderr

    refused = cli("delete", "-n", "demo")  # no terminal, no -y: refuse
    assert refused.returncode == 2
    assert "-y" in refused.stderr
    assert Path(entry["path"]).exists()
    assert cli("delete", "-n", "demo", "-y").returncode == 0
    assert not Path(entry["path"]).exists()
    assert {e["name"] for e in json.loads(cli("list", "--json").stdout)} == {"fromfile", "copy"}


def test_exit_codes_for_rejected_input_and_failures(cli, tmp_path):
    bad_name = cli("create", "-n", "-bad", "-y")
    assert bad_name.returncode == 2
    bad_spec = cli("create", "-n", "ok", "-y", "--", "--override-channels")
    assert bad_spec.returncode == 2
    assert "packages" in bad_spec.stderr
    yml = tmp_path / "environment.yml"
    yml.write_text("name: x\ndependencies:\n  - alpha\nsurprise: 1\n")
    bad_file = cli("create", "-f", str(yml), "-y")
    assert bad_file.returncode == 2
    assert "line 4" in bad_file.stderr
    assert "surprise" in bad_file.stderr
    missing = cli("packages", "-n", "nope")
    assert missing.returncode == 2
    assert "nope" in missing.stderr
    unsat = cli("create", "-n", "sad", "-y", "needsmissing")
    assert unsat.returncode == 1
    assert "doesnotexist" in unsat.stderr
    usage = cli("create", "-n", "a", "-p", "/tmp/b")
    assert usage.returncode == 2
    assert not (cli.root / "ok").exists()
    assert not (cli.root / "sad").exists()
    assert not (cli.root / "x").exists()


def test_venv_engine_from_requirements(cli, tmp_path):
    req = tmp_path / "requirements.txt"
    (tmp_path / "more.txt").write_text("idna==3.6  # pinned\n")
    req.write_text("six==1.16.0\n-r more.txt\n")
    done = cli("create", "--engine", "venv", "-n", "plain", "-f", str(req), "-y")
    assert done.returncode == 0, done.stderr
    packages = {p["name"]: p for p in json.loads(cli("packages", "-n", "plain", "--json").stdout)}
    assert packages["six"]["version"] == "1.16.0"
    assert packages["idna"]["source"] == "pypi"
    pins = cli("export", "-n", "plain", "--format", "requirements").stdout
    assert "six==1.16.0" in pins
    assert "idna==3.6" in pins


def test_history_restore_outdated_update_all_share(cli, tmp_path):
    assert cli("create", "-n", "hist", "-y", "tinypy=1.0", "gamma").returncode == 0
    assert cli("install", "-n", "hist", "tinypy").returncode == 0  # asked for without a version now

    outdated = cli("outdated", "-n", "hist")
    assert outdated.returncode == 0, outdated.stderr
    lines = outdated.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SOURCE", "INSTALLED", "LATEST", "UPDATE", "--ALL"]
    assert ["alpha", "conda", "1.0", "2.0", "held", "back"] in [line.split() for line in lines]
    assert ["tinypy", "conda", "1.0", "1.1", "1.1"] in [line.split() for line in lines]
    report = json.loads(cli("outdated", "-n", "hist", "--json").stdout)
    assert {r["name"] for r in report["outdated"]} == {"alpha", "tinypy"}

    bad = cli("update", "-n", "hist")
    assert bad.returncode == 2
    assert "--all" in bad.stderr
    dry = cli("update", "-n", "hist", "--all", "--dry-run")
    assert "Dry run: 1 to change" in dry.stdout
    done = cli("update", "-n", "hist", "--all")
    assert done.returncode == 0, done.stderr
    assert "tinypy (conda) 1.0 py_0 -> 1.1 py_0" in done.stdout

    history = cli("history", "-n", "hist")
    assert history.returncode == 0, history.stderr
    text = history.stdout
    assert "rev 0" in text
    assert "rev 2" in text
    assert "update-all" in text
    assert "~ tinypy 1.0=py_0 -> 1.1=py_0 (conda)" in text
    revs = json.loads(cli("history", "-n", "hist", "--json").stdout)
    assert [r["action"] for r in revs] == ["create", "install", "update-all"]
    assert "snapshot" not in revs[0]

    assert cli("restore", "-n", "hist", "7").returncode == 2
    restored = cli("restore", "-n", "hist", "0")
    assert restored.returncode == 0, restored.stderr
    assert "restore: done (1 to change)" in restored.stdout
    packages = {p["name"]: p["version"] for p in json.loads(cli("packages", "-n", "hist", "--json").stdout)}
    assert packages["tinypy"] == "1.0"

    spec = tmp_path / "to-send.yml"
    share = cli("share", "-n", "hist", "-f", str(spec))
    assert share.returncode == 0, share.stderr
    assert f"jupyter envmod create -n hist -f {spec}" in share.stdout
    assert "tinypy=1.0" in spec.read_text()
