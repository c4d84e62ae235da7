"""The small state file inside each managed environment, and its lock.

``<prefix>/.envmod/state.json`` records what this project knows about the
environment: the engine that made it, what the user asked for (conda specs, pip
requirements, channels, variables), the kernel and module files generated for it
(the kernels/modules layer fills these), and the operation in progress. A crash
leaves ``operation`` set with a process that no longer exists, so listing shows the
environment as ``interrupted``.

``<prefix>/.envmod/lock`` is held with ``flock`` for the length of an operation, so
a second operation — from this process, another server or the CLI — is refused at
once.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import stat
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import Busy

STATE_DIR = ".envmod"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
FORMAT = 1


@dataclass
class EnvState:
    engine: str
    created: float = field(default_factory=time.time)
    modified: float = field(default_factory=time.time)
    requested_conda: list[str] = field(default_factory=list)
    requested_pip: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    python: str = ""
    #: module dependencies (e.g. "gcc/12.2.0") and the MODULEPATH they were found on;
    #: loaded by the module files and the kernel launcher
    module_deps: list[str] = field(default_factory=list)
    modulepath: list[str] = field(default_factory=list)
    #: generated files, filled by the kernels/modules layer (outputs.py):
    #: {"kernel": dir, "kernel_name": name, "modules": [paths], "module": "app/name"}
    generated: dict[str, Any] = field(default_factory=dict)
    #: the operation in progress: {"kind", "task", "pid", "host", "started"}, or None
    operation: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EnvState:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def state_path(prefix: Path) -> Path:
    return prefix / STATE_DIR / STATE_FILE


def read_state(prefix: Path) -> EnvState | None:
    """The state of a managed environment; None when there is none (or it is unreadable)."""
    try:
        with open(state_path(prefix), encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or "engine" not in data:
        return None
    return EnvState.from_json(data)


def write_state(prefix: Path, state: EnvState) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a file."""
    directory = prefix / STATE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    state.modified = time.time()
    tmp = directory / f".{STATE_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state.to_json(), indent=1, sort_keys=True), encoding="utf-8")
    with contextlib.suppress(OSError):  # keep the mode (group-write in a shared root) of the file replaced
        os.chmod(tmp, stat.S_IMODE(os.stat(state_path(prefix)).st_mode))
    os.replace(tmp, state_path(prefix))


def operation_record(kind: str, task_id: str) -> dict[str, Any]:
    return {"kind": kind, "task": task_id, "pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}


def operation_alive(operation: dict[str, Any]) -> bool:
    """Whether the operation still runs: False once reconciliation marked it
    ``interrupted``; for this process, whether its task is still unfinished; else
    whether the process that recorded it still runs (on this host; an operation
    recorded on another host is taken to be alive)."""
    from .tasks import unfinished_here

    if operation.get("interrupted"):
        return False
    if operation.get("host") != socket.gethostname():
        return True
    if operation.get("pid") == os.getpid():
        return unfinished_here(str(operation.get("task")))
    try:
        os.kill(int(operation.get("pid", 0)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def lock_free(prefix: Path) -> bool:
    """True when no process holds the environment's lock (checked by taking and at
    once releasing it); False when it is held or cannot be checked."""
    lock = EnvLock(prefix)
    try:
        lock.acquire(what="check")
    except (Busy, OSError):
        return False
    lock.release()
    return True


class EnvLock:
    """An exclusive, non-blocking ``flock`` on ``<prefix>/.envmod/lock``."""

    def __init__(self, prefix: Path):
        self.prefix = prefix
        self._fd: int | None = None

    def acquire(self, *, what: str) -> None:
        """Take the lock or raise :class:`Busy` naming the operation that holds it."""
        directory = self.prefix / STATE_DIR
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o664)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            state = read_state(self.prefix)
            op = state.operation if state and state.operation else {}
            holder = f"{op.get('kind', 'another operation')} (task {op.get('task', '?')}, pid {op.get('pid', '?')})"
            raise Busy(
                f"Cannot {what} {self.prefix}: {holder} is changing this environment. "
                "Wait for it to finish or cancel it.",
                details={"path": str(self.prefix), "task": op.get("task"), "operation": op or None},
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
