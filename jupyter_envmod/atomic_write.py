"""Replacing a file's content atomically: the text goes into a temporary file in the
same directory, is flushed to disk, and the temporary file is renamed over the
target, so a reader sees the old content or the new one, never half of it."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str, *, mode: int | None = None, errors: str = "strict") -> None:
    """Write ``text`` (UTF-8, newlines as they are) to ``path``, making its directory
    when missing. ``mode`` None gives the permissions of any new file of the user
    (0o666 less the umask); a number gives exactly those. ``errors`` is the encoding
    error handler (``surrogateescape`` writes back bytes read with it)."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
    try:
        with open(fd, "w", encoding="utf-8", errors=errors, newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
