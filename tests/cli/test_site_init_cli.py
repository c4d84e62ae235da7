"""`jupyter envmod site-init` and the users' first-run question, run as subprocesses:
without a terminal (--yes, CI) and on a real pseudo-terminal (stdlib pty) where the
questions are asked one at a time and answered like a person would."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_envmod.config import load_envmod

SITE_INIT = "import sys; from jupyter_envmod.cli.siteinit import main; sys.exit(main(sys.argv[1:]))"
FIRST_RUN = (
    "from jupyter_envmod.cli.siteinit import first_run_question; first_run_question('list'); print('COMMAND RAN')"
)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A user's environment: temp HOME and Jupyter config dir, none of the variables
    that would say where environments go."""
    home = tmp_path / "home"
    home.mkdir()
    drop = ("CONDA", "JUPYTER", "VIRTUAL_ENV", "PROJECT", "SCRATCH", "WORK", "UV_", "PIP_CACHE")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    environ.update({"HOME": str(home), "JUPYTER_CONFIG_DIR": str(tmp_path / "user-config"), "TERM": "dumb"})
    return environ


def site_init(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SITE_INIT, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def site_file(config_dir: Path) -> Path:
    return config_dir / "jupyter_server_config.d" / "jupyter_envmod_site.json"


class Terminal:
    """A subprocess on a pseudo-terminal: read what it prints, type answers."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.output = ""
        self.pos = 0

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 4096)
        except OSError:  # the child closed the terminal
            return False
        if not data:
            return False
        self.output += data.decode(errors="replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait until ``text`` appears after what was already matched; return what came before it."""
        deadline = time.monotonic() + timeout
        while text not in self.output[self.pos :]:
            if time.monotonic() > deadline or (not self._read(0.2) and text not in self.output[self.pos :]):
                raise AssertionError(f"{text!r} did not appear; output so far:\n{self.output}")
        start = self.output.index(text, self.pos)
        before = self.output[self.pos : start]
        self.pos = start + len(text)
        return before

    def answer(self, prompt: str, line: str) -> str:
        before = self.expect(prompt)
        os.write(self.master, (line + "\n").encode())
        return before

    def end_of_input(self, prompt: str) -> None:
        self.expect(prompt)
        os.write(self.master, b"\x04")  # Ctrl-D at the start of a line

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.2) and time.monotonic() < deadline:
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        code = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return code


def test_yes_with_flags_writes_the_site_file_and_samples(env, tmp_path):
    config_dir, samples = tmp_path / "etc" / "jupyter", tmp_path / "samples"
    done = site_init(
        env,
        "--yes",
        "--config-dir",
        str(config_dir),
        "--samples",
        str(samples),
        "--env-dir",
        str(tmp_path / "project" / "{user}" / "envs"),
        "--env-dir",
        "~/.conda/envs",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--engine",
        "venv",
        "--channel",
        "https://mirror.example/conda-forge",
        "--channel-priority",
        "flexible",
        "--pip-index-url",
        "https://pypi.example/simple",
        "--module-system",
        "tcl",
        "--module-dir",
        "/apps/user-modules/{user}",
        "--module-app",
        "py-envs",
        "--no-thread-variables",
        "--kernel-env",
        "MPLBACKEND=Agg",
        "--kernel-env",
        "GREETING=hello world",
        "--shared-root",
        str(tmp_path / "shared"),
    )
    assert done.returncode == 0, done.stderr
    envmod = load_envmod(config_paths=[str(config_dir)])
    assert envmod.env_dirs == [str(tmp_path / "project" / "{user}" / "envs"), "~/.conda/envs"]
    assert envmod.cache_dir == str(tmp_path / "cache")
    assert envmod.default_engine == "venv"
    assert envmod.channels == ["https://mirror.example/conda-forge"]
    assert envmod.channel_priority == "flexible"
    assert envmod.pip_index_url == "https://pypi.example/simple"
    assert envmod.module_formats == ["tcl", "sh", "csh"]
    assert envmod.module_dir == "/apps/user-modules/{user}"
    assert envmod.module_app == "py-envs"
    assert envmod.thread_variables == []
    assert envmod.kernel_env == {"MPLBACKEND": "Agg", "GREETING": "hello world"}
    assert envmod.shared_roots == [str(tmp_path / "shared")]
    assert sorted(p.name for p in samples.iterdir()) == [".condarc", "pip.conf", "uv.toml"]

    out = done.stdout
    assert f"Wrote {site_file(config_dir)}" in out
    for place in ("/etc/jupyter/jupyter_server_config.d/", "/etc/conda/.condarc", "/etc/pip.conf", "/etc/uv/uv.toml"):
        assert place in out
    assert "jupyter envmod site" in out
    assert "jupyter envmod doctor" in out
    assert "'~/.conda/envs' is in the home directory" in done.stderr  # warned, not refused


def test_without_a_terminal_flags_and_defaults_are_taken(env, tmp_path):
    config_dir = tmp_path / "cfg"
    done = site_init(env, "--config-dir", str(config_dir), "--module-system", "none")
    assert done.returncode == 0, done.stderr
    assert "no terminal" in done.stderr
    assert json.loads(site_file(config_dir).read_text()) == {"EnvMod": {"module_formats": ["sh", "csh"]}}


def test_rejected_flags_exit_2_and_write_nothing(env, tmp_path):
    config_dir = tmp_path / "cfg"
    done = site_init(
        env,
        "--yes",
        "--config-dir",
        str(config_dir),
        "--samples",
        str(tmp_path / "samples"),
        "--engine",
        "pip",
        "--kernel-env",
        "NOVALUE",
    )
    assert done.returncode == 2
    assert "--engine 'pip'" in done.stderr
    assert "rattler, conda, venv" in done.stderr
    assert "--kernel-env 'NOVALUE'" in done.stderr
    assert "Traceback" not in done.stderr
    assert not config_dir.exists()
    assert not (tmp_path / "samples").exists()

    relative = site_init(env, "--yes", "--config-dir", str(config_dir), "--env-dir", "envs")
    assert relative.returncode == 2
    assert "--env-dir 'envs'" in relative.stderr
    assert "absolute" in relative.stderr
    assert not config_dir.exists()


def test_an_existing_site_file_needs_force(env, tmp_path):
    config_dir = tmp_path / "cfg"
    assert site_init(env, "--yes", "--config-dir", str(config_dir), "--module-app", "one").returncode == 0
    again = site_init(env, "--yes", "--config-dir", str(config_dir), "--module-app", "two")
    assert again.returncode == 2
    assert "--force" in again.stderr
    assert load_envmod(config_paths=[str(config_dir)]).module_app == "one"
    forced = site_init(env, "--yes", "--force", "--config-dir", str(config_dir), "--module-app", "two")
    assert forced.returncode == 0, forced.stderr
    assert load_envmod(config_paths=[str(config_dir)]).module_app == "two"


def test_interactive_questions_on_a_terminal(env, tmp_path):
    config_dir, samples = tmp_path / "cfg", tmp_path / "samples"
    envs, more = tmp_path / "envs", tmp_path / "more envs"
    term = Terminal([sys.executable, "-c", SITE_INIT, "--config-dir", str(config_dir)], env)
    term.answer("Directories for environments, new ones go into the first [~/.conda/envs]: ", f"{envs}, {more}")
    term.answer("Per-user package cache directory [none]: ", "")
    term.answer("Default engine (rattler, conda or venv) [rattler]: ", "pip")
    assert "choose one of rattler, conda, venv" in term.expect("Default engine (rattler, conda or venv) [rattler]: ")
    os.write(term.master, b"venv\n")
    term.answer("Conda channels or the site's mirror, highest priority first [conda-forge]: ", "")
    term.answer("Channel priority (strict or flexible) [strict]: ", "")
    term.answer("Pip package index URL [none]: ", "https://pypi.example/simple")
    term.answer("Module system (lmod, tcl or none) [", "lmod")
    term.answer("Directory for users' module files [~/privatemodules]: ", "")
    term.answer("Module app name (users load APP/<environment>) [conda-env]: ", "py-envs")
    term.answer("Thread variables set to the job's CPU count [OMP_NUM_THREADS, ", "OMP_NUM_THREADS, MKL_NUM_THREADS")
    term.answer("Extra kernel environment variables as KEY=VALUE [none]: ", "MPLBACKEND=Agg")
    term.answer("Directories for group-shared environments [none]: ", "")
    term.answer("Unix group that owns shared environments [none]: ", "")
    term.answer("Directory for sample .condarc, pip.conf and uv.toml ('no' to skip) [no]: ", str(samples))
    preview = term.answer("Write the files? [Y/n]: ", "")
    assert '"default_engine": "venv"' in preview
    term.expect(f"Wrote {site_file(config_dir)}")
    assert term.finish() == 0, term.output

    envmod = load_envmod(config_paths=[str(config_dir)])
    assert envmod.env_dirs == [str(envs), str(more)]
    assert envmod.default_engine == "venv"
    assert envmod.channels == ["conda-forge"]
    assert envmod.pip_index_url == "https://pypi.example/simple"
    assert envmod.module_formats == ["lua", "sh", "csh"]
    assert envmod.module_dir == "~/privatemodules"
    assert envmod.module_app == "py-envs"
    assert envmod.thread_variables == ["OMP_NUM_THREADS", "MKL_NUM_THREADS"]
    assert envmod.kernel_env == {"MPLBACKEND": "Agg"}
    assert (samples / "uv.toml").is_file()


def test_interactive_flags_are_not_asked_again_and_existing_files_are_confirmed(env, tmp_path):
    config_dir = tmp_path / "cfg"
    assert site_init(env, "--yes", "--config-dir", str(config_dir), "--module-app", "old").returncode == 0
    argv = [sys.executable, "-c", SITE_INIT, "--config-dir", str(config_dir), "--no-samples"]
    argv += ["--env-dir", str(tmp_path / "envs"), "--engine", "conda", "--module-system", "none"]
    term = Terminal(argv, env)
    shown = term.answer("Per-user package cache directory [none]: ", "")
    assert f"{tmp_path / 'envs'} (from --env-dir)" in shown
    skipped = term.answer("Conda channels or the site's mirror, highest priority first [conda-forge]: ", "")
    assert "Default engine (rattler, conda or venv): conda (from --engine)" in skipped
    for prompt in ("Channel priority", "Pip package index URL", "Thread variables", "Extra kernel environment"):
        term.answer(prompt, "")
    term.answer("Directories for group-shared environments", "")
    before = term.answer("Unix group that owns shared environments [none]: ", "")
    assert "Module app name" not in before  # no module system: module questions are skipped
    term.answer("Replace them? [y/N]: ", "y")
    term.answer("Write the files? [Y/n]: ", "y")
    assert term.finish() == 0, term.output
    envmod = load_envmod(config_paths=[str(config_dir)])
    assert (envmod.default_engine, envmod.module_formats, envmod.module_app) == ("conda", ["sh", "csh"], "old")


def test_interactive_end_of_input_writes_nothing(env, tmp_path):
    term = Terminal([sys.executable, "-c", SITE_INIT, "--config-dir", str(tmp_path / "cfg")], env)
    term.end_of_input("Directories for environments")
    assert term.finish() == 1
    assert "nothing was written" in term.output
    assert not (tmp_path / "cfg").exists()


# -- the users' first-run question -----------------------------------------------------------


def choice_file(tmp_path: Path) -> Path:
    return tmp_path / "user-config" / "jupyter_server_config.d" / "jupyter_envmod_user.json"


def test_first_run_question_is_asked_once_on_a_terminal(env, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    env["PROJECT"] = str(project)
    term = Terminal([sys.executable, "-c", FIRST_RUN], env)
    listed = term.answer("Where should new environments go? [~/.conda/envs]: ", "relative/envs")
    assert "$PROJECT/{user}/envs" in listed
    assert "quotas" in listed
    term.answer("Where should new environments go? [~/.conda/envs]: ", "1")
    term.expect("COMMAND RAN")
    assert term.finish() == 0
    assert "absolute" in term.output
    import getpass

    chosen = str(project / getpass.getuser() / "envs")
    assert json.loads(choice_file(tmp_path).read_text()) == {"EnvMod": {"env_dirs": [chosen]}}
    assert load_envmod(config_paths=[str(tmp_path / "user-config")]).env_dirs == [chosen]

    second = Terminal([sys.executable, "-c", FIRST_RUN], env)
    second.expect("COMMAND RAN")
    assert second.finish() == 0
    assert "Where should new environments go" not in second.output


def test_first_run_default_is_stored_too(env, tmp_path):
    term = Terminal([sys.executable, "-c", FIRST_RUN], env)
    term.answer("Where should new environments go? [~/.conda/envs]: ", "")
    term.expect("COMMAND RAN")
    assert term.finish() == 0
    assert json.loads(choice_file(tmp_path).read_text()) == {
        "EnvMod": {"env_dirs": [str(tmp_path / "home" / ".conda" / "envs")]}
    }


def test_first_run_not_asked_without_terminal_or_when_configured(env, tmp_path):
    piped = subprocess.run(
        [sys.executable, "-c", FIRST_RUN], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=60
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == "COMMAND RAN\n"
    assert not choice_file(tmp_path).exists()

    env["CONDA_ENVS_PATH"] = str(tmp_path / "envs")
    term = Terminal([sys.executable, "-c", FIRST_RUN], env)
    term.expect("COMMAND RAN")
    assert term.finish() == 0
    assert "Where should" not in term.output
    assert not choice_file(tmp_path).exists()


def test_first_run_end_of_input_asks_again_next_time(env, tmp_path):
    term = Terminal([sys.executable, "-c", FIRST_RUN], env)
    term.end_of_input("Where should new environments go? [~/.conda/envs]: ")
    term.expect("COMMAND RAN")
    assert term.finish() == 0
    assert "asked again" in term.output
    assert not choice_file(tmp_path).exists()
