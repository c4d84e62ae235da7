"""Reading and editing the user's own files for the doctor: backups beside a file,
atomic rewrites keeping the mode, finding the lines of shell startup files that set
a variable, and commenting lines out."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import stat
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic_write import write_atomically

if TYPE_CHECKING:
    from .runner import Doctor

#: shell startup files searched for PYTHONPATH (and PIP_USER) assignments
STARTUP_FILES = (".bashrc", ".bash_profile", ".profile", ".zshrc", ".cshrc", ".tcshrc")
#: what a line commented out by the pythonpath and pip-user fixes starts with
DISABLED_PREFIX = "# disabled by jupyter envmod doctor: "


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def beside(path: Path, label: str) -> Path:
    """A free name next to ``path``: ``<name>.<label>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``
    appended when two fixes run within one second)."""
    base = f"{path.name}.{label}-{_stamp()}"
    candidate = path.with_name(base)
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{base}-{number}")
        number += 1
    return candidate


def backup(path: Path, changed: list[str]) -> Path:
    """Copy ``path`` (its content, following a symlink) to ``<path>.envmod-backup-<stamp>``."""
    dest = beside(path, "envmod-backup")
    shutil.copy2(path, dest)
    changed.append(str(dest))
    return dest


def rewrite(path: Path, text: str) -> None:
    """Replace the content of ``path`` (the file a symlink points at, for dotfiles kept
    in a repository) atomically, keeping its mode."""
    real = Path(os.path.realpath(path))
    write_atomically(real, text, mode=stat.S_IMODE(os.stat(real).st_mode), errors="surrogateescape")


def read(path: Path) -> str:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def inside(path: str | Path, directory: str | Path) -> bool:
    """``path`` is ``directory`` or below it (real paths compared)."""
    real, top = os.path.realpath(path), os.path.realpath(directory)
    return real == top or real.startswith(top.rstrip("/") + "/")


def assigns(line: str, variable: str) -> bool:
    """Whether a shell startup file line sets ``variable`` for the session: ``export
    VAR=…``, ``VAR=…`` (not as a prefix of a command: ``VAR=x prog`` sets it for
    ``prog`` only) or csh's ``setenv VAR …``."""
    stripped = line.strip()
    if re.match(rf"setenv\s+{variable}(\s|$)", stripped):
        return True
    match = re.match(rf"(export\s+|declare\s+-x\s+|typeset\s+-x\s+)?{variable}=", stripped)
    if match is None:
        return False
    if match.group(1):
        return True
    try:
        lexer = shlex.shlex(stripped, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: count it rather than miss it
        return True
    return len(tokens) < 2 or tokens[1] in (";", "&&", "||", "&")


def startup_lines(doctor: Doctor, variable: str) -> tuple[dict[Path, list[int]], list[str]]:
    """{startup file: [line numbers that set ``variable``]} and the files that could
    not be read."""
    found: dict[Path, list[int]] = {}
    unreadable: list[str] = []
    for name in STARTUP_FILES:
        path = doctor.home / name
        if not path.is_file():
            continue
        try:
            lines = read(path).splitlines()
        except (OSError, UnicodeDecodeError) as err:
            unreadable.append(f"{path}: cannot be read ({err})")
            continue
        numbers = [n for n, line in enumerate(lines, 1) if assigns(line, variable)]
        if numbers:
            found[path] = numbers
    return found, unreadable


def comment_out(
    paths: Iterable[Path], pick: Callable[[Path, list[str]], list[int]], changed: list[str]
) -> tuple[list[str], list[str]]:
    """In each file, put :data:`DISABLED_PREFIX` before the lines ``pick`` chooses
    (1-based numbers, from the file's lines as they are now), after copying the file
    to a backup; a file with nothing to choose is left alone. Returns what was done
    ("<file> (backup <copy>)" each) and the errors."""
    errors: list[str] = []
    done: list[str] = []
    for path in paths:
        try:
            lines = read(path).splitlines(keepends=True)
            numbers = pick(path, lines)
            if not numbers:
                continue
            copy = backup(path, changed)
            for n in numbers:
                lines[n - 1] = DISABLED_PREFIX + lines[n - 1]
            rewrite(path, "".join(lines))
            changed.append(str(path))
            done.append(f"{path} (backup {copy})")
        except OSError as err:
            errors.append(f"{path}: {err}")
    return done, errors
