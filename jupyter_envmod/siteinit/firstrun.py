"""The users' first-run choice: when nothing says where environments go, the
places offered, the answer parsed, and the user's own drop-in file that keeps it."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..atomic_write import write_atomically
from ..errors import InvalidInput
from .questions import CONDA_DEFAULT_ENV_DIR, CONTROL
from .sitefile import DROPIN_DIR

USER_CHOICE_FILE = "jupyter_envmod_user.json"


def user_choice_path() -> Path:
    """The user's own drop-in file holding their first-run answer."""
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / DROPIN_DIR / USER_CHOICE_FILE


def env_dirs_configured(config_paths: list[str] | None = None) -> bool:
    """Whether any configuration file sets EnvMod.env_dirs."""
    from ..config import read_dropin_config, read_server_config

    merged = read_dropin_config(config_paths)
    merged.merge(read_server_config(config_paths))
    return "EnvMod" in merged and "env_dirs" in merged["EnvMod"]


def first_run_needed() -> bool:
    """True when nothing says where environments go: no user choice file, no
    $CONDA_ENVS_PATH, no EnvMod.env_dirs in any config file. An unreadable
    configuration counts as 'do not ask' (the command itself will report it)."""
    if os.path.lexists(user_choice_path()) or os.environ.get("CONDA_ENVS_PATH"):
        return False
    try:
        return not env_dirs_configured()
    except Exception:  # reported by the command that follows, not here
        return False


@dataclass(frozen=True)
class EnvDirChoice:
    raw: str  # as offered, e.g. $PROJECT/{user}/envs
    path: str  # expanded
    note: str


def env_dir_choices() -> list[EnvDirChoice]:
    """Places offered at the first-run question: project, work and scratch space when
    their variables are set, and conda's default in the home directory, last (the
    default answer)."""
    from ..config import expand_path

    choices = []
    for var, raw, note in (
        ("PROJECT", "$PROJECT/{user}/envs", "project space"),
        ("WORK", "$WORK/envs", "work space"),
        ("SCRATCH", "$SCRATCH/envs", "scratch space: often purged, keep your specs"),
    ):
        if os.path.isabs(os.environ.get(var, "")):
            choices.append(EnvDirChoice(raw, os.path.normpath(expand_path(raw)), note))
    home = os.path.normpath(expand_path(CONDA_DEFAULT_ENV_DIR))
    choices.append(EnvDirChoice(CONDA_DEFAULT_ENV_DIR, home, "home directory: quotas are often small"))
    return choices


def parse_env_dir_choice(text: str, choices: Sequence[EnvDirChoice]) -> str:
    """The expanded, absolute directory chosen by ``text``: empty for the default
    (the last choice), a choice's number, or a directory (~, $VAR, {user} allowed)
    that the user can create. Raises :class:`InvalidInput` saying what is accepted."""
    from ..config import expand_path

    text = text.strip()
    if not text:
        return choices[-1].path
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(choices):
            return choices[number - 1].path
        raise InvalidInput(f"there is no choice {number}: type 1 to {len(choices)}, or a directory")
    if CONTROL.search(text):
        raise InvalidInput("the directory must not contain control characters")
    try:
        path = expand_path(text)
    except ValueError as err:
        raise InvalidInput(f"{text!r}: {err}") from err
    if not os.path.isabs(path):
        raise InvalidInput(f"{text!r} is not an absolute path: start it with /, ~ or $VAR")
    path = os.path.normpath(path)
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise InvalidInput(f"{existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "write into" if existing == path else "create directories in"
        raise InvalidInput(f"you cannot {what} {existing}; choose a directory of your own")
    return path


def write_user_choice(env_dir: str) -> Path:
    """Write the user's choice file: ``env_dir`` first, and conda's default
    directory after it when it exists, so environments already there stay listed."""
    dirs = [env_dir]
    home_default = os.path.normpath(os.path.expanduser(CONDA_DEFAULT_ENV_DIR))
    if env_dir != home_default and os.path.isdir(home_default):
        dirs.append(home_default)
    path = user_choice_path()
    write_atomically(path, json.dumps({"EnvMod": {"env_dirs": dirs}}, indent=2) + "\n", mode=0o644)
    return path
