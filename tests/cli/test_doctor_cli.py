"""`jupyter envmod doctor`: text and JSON reports, fixes confirmed with -y or on a
terminal, refusal without either, and the exit status. The command is registered on
a parser of its own with ``add_parser`` (as cli/__init__.py does) and run in-process
against a temporary HOME whose configuration it reads like every other command."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from jupyter_envmod.cli.doctor import add_parser
from jupyter_envmod.doctor import CHECK_IDS, DISABLED_PREFIX
from jupyter_envmod.errors import ConfigError, InvalidInput, NotFound, NotPermitted
from tests.modsys import LMOD_CMD


class Terminal(io.StringIO):
    """Standard input that is a terminal, with the user's answers typed in."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary HOME and Jupyter config directory holding the site configuration,
    and none of the variables that point at the real user's files."""
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "config"
    config.mkdir()
    site = {
        "EnvMod": {
            "env_dirs": [str(home / "envs")],
            "kernel_dir": str(home / "kernels"),
            "module_dir": str(home / "modules"),
            "activate_dir": str(home / "activate"),
        }
    }
    (config / "jupyter_server_config.json").write_text(json.dumps(site))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(config))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("LMOD_CMD", str(LMOD_CMD))  # the real Lmod: module files can be loaded
    for var in (
        *("CONDA_ENVS_PATH", "CONDARC", "CONDA_ROOT", "CONDA_PREFIX", "CONDA_EXE", "MAMBA_EXE", "VIRTUAL_ENV"),
        *("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "PIP_CONFIG_FILE", "PIP_USER", "PYTHONPATH", "PYTHONUSERBASE"),
        *("PIP_CACHE_DIR", "UV_CACHE_DIR", "RATTLER_CACHE_DIR", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"),
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal unless a test says so
    return home


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`jupyter envmod doctor ARGV`: (exit status, stdout, stderr), errors mapped to exit
    statuses as the CLI's main() does."""
    parser = argparse.ArgumentParser(prog="jupyter envmod")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["doctor", *argv])
    try:
        code = int(args.func(args))
    except (InvalidInput, NotFound, NotPermitted, ConfigError) as err:
        print(f"jupyter envmod: {err.message}", file=sys.stderr)
        code = 2
    out = capsys.readouterr()
    return code, out.out, out.err


def test_clean_home_text_report(home, capsys):
    code, out, err = run(capsys)
    assert code == 0, err
    assert "ok        User site-packages: No packages in" in out
    assert "ok        PYTHONPATH: PYTHONPATH is not set" in out
    assert "ok        Module system: Lmod" in out
    assert f"{len(CHECK_IDS)} check(s): " in out.splitlines()[-1]
    assert "PROBLEM" not in out


def test_problem_text_report_and_exit_status(home, capsys):
    bashrc = home / ".bashrc"
    bashrc.write_text("export PYTHONPATH=/opt/lib\n")
    code, out, _ = run(capsys)
    assert code == 1
    lines = out.splitlines()
    start = lines.index("PROBLEM   PYTHONPATH: PYTHONPATH is set in your startup files")
    block = "\n".join(lines[start : start + 8])
    assert f"{bashrc}:1: export PYTHONPATH=/opt/lib" in block
    assert "A global PYTHONPATH" in block
    assert "Fix available: Comment out the lines that set PYTHONPATH" in block
    assert "(run: jupyter envmod doctor --fix)" in block
    assert "1 problem(s)" in lines[-1]
    assert bashrc.read_text() == "export PYTHONPATH=/opt/lib\n"  # a report changes nothing


def test_json_report(home, capsys):
    (home / ".bashrc").write_text("export PYTHONPATH=/opt/lib\n")
    code, out, _ = run(capsys, "--json")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"checks", "counts"}
    assert [c["id"] for c in data["checks"]] == list(CHECK_IDS)
    for check in data["checks"]:
        assert set(check) == {"id", "title", "status", "summary", "explanation", "details", "fix"}
    pythonpath = data["checks"][CHECK_IDS.index("pythonpath")]
    assert pythonpath["status"] == "problem"
    assert pythonpath["fix"].startswith("Comment out")
    assert data["counts"]["problem"] == 1
    assert sum(data["counts"].values()) == len(CHECK_IDS)

    code, out, _ = run(capsys, "--json", "--check", "caches", "--check", "pythonpath")
    assert [c["id"] for c in json.loads(out)["checks"]] == ["pythonpath", "caches"]


def test_fix_with_yes(home, capsys):
    bashrc = home / ".bashrc"
    bashrc.write_text("export PYTHONPATH=/opt/lib\n")
    code, out, err = run(capsys, "--fix", "-y")
    assert code == 0, err
    assert "fixed     pythonpath: Commented out the PYTHONPATH lines" in out
    assert "After the fixes:" in out
    assert "ok        PYTHONPATH: PYTHONPATH is not set" in out.split("After the fixes:")[1]
    assert bashrc.read_text() == DISABLED_PREFIX + "export PYTHONPATH=/opt/lib\n"
    assert len(list(home.glob(".bashrc.envmod-backup-*"))) == 1


def test_fix_with_yes_json(home, capsys):
    (home / ".condarc").write_text("channels:\n  - conda-forge\n  - defaults\n")
    code, out, _ = run(capsys, "--fix", "-y", "--json", "--check", "condarc-channels")
    assert code == 0
    data = json.loads(out)
    assert [r["id"] for r in data["results"]] == ["condarc-channels"]
    (result,) = data["results"]
    assert result["fixed"] is True
    assert str(home / ".condarc") in result["changed"]
    assert [c["status"] for c in data["checks"]] == ["ok"]


def test_fix_without_terminal_or_yes_is_refused(home, capsys):
    bashrc = home / ".bashrc"
    bashrc.write_text("export PYTHONPATH=/opt/lib\n")
    code, _, err = run(capsys, "--fix")
    assert code == 2
    assert "pass -y" in err
    assert bashrc.read_text() == "export PYTHONPATH=/opt/lib\n"
    assert list(home.glob(".bashrc.envmod-backup-*")) == []


def test_fix_asks_on_a_terminal(home, capsys, monkeypatch):
    bashrc = home / ".bashrc"
    bashrc.write_text("export PYTHONPATH=/opt/lib\n")
    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    code, out, _ = run(capsys, "--fix", "--check", "pythonpath")
    assert code == 1
    assert "PYTHONPATH: Comment out the lines that set PYTHONPATH" in out  # the question
    assert "[y/N]" in out
    assert "Nothing was changed." in out
    assert bashrc.read_text() == "export PYTHONPATH=/opt/lib\n"

    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    code, out, _ = run(capsys, "--fix", "--check", "pythonpath")
    assert code == 0
    assert bashrc.read_text() == DISABLED_PREFIX + "export PYTHONPATH=/opt/lib\n"


def test_problem_that_remains_after_fixing_exits_1(home, capsys, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/opt/lib")  # set for the session: no automatic fix
    (home / ".bashrc").write_text("export PYTHONPATH=/opt/lib\n")
    code, out, _ = run(capsys, "--fix", "-y", "--check", "pythonpath")
    assert code == 1
    assert "fixed     pythonpath:" in out
    assert "log in again" in out
    after = out.split("After the fixes:")[1]
    assert "PROBLEM   PYTHONPATH: PYTHONPATH is set in this session's environment" in after
    assert "Fix available" not in after


def test_unknown_check_is_bad_usage(home, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(capsys, "--check", "nope")
    assert exit_info.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
