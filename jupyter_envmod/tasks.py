"""Tasks: every operation that changes disk runs as one.

A :class:`Task` has an id, a kind, the environment it acts on, a state, a phase,
a progress fraction where known, a bounded log read from an offset, and a result
or an error. Engines receive the task as their reporting and process-running
context (:meth:`Task.run`), so cancelling the task kills the child's whole process
group. :class:`TaskManager` starts tasks on the running asyncio loop and keeps
finished ones for a while. No tornado here: the server and the CLI both use it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import Cancelled, EnvModError, OperationFailed

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
LOG_LIMIT = 5000  # lines kept per task; older ones are dropped (offsets stay valid)
OUTPUT_TAIL = 40  # lines of a failing command's output carried in the error details

Listener = Callable[["Task", str], None]

#: ids of the tasks not yet finished in this process (every TaskManager's), so a state
#: file naming this process's pid can tell a running operation from one whose task is gone
_UNFINISHED: set[str] = set()


def unfinished_here(task_id: str) -> bool:
    """Whether the task ``task_id`` was started in this process and has not finished."""
    return task_id in _UNFINISHED


@dataclass
class ProcessResult:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


class Task:
    """One running or finished operation. Engines call :meth:`set_phase`,
    :meth:`set_progress`, :meth:`log` and :meth:`run`."""

    def __init__(self, kind: str, environment: dict[str, Any], *, tid: str | None = None):
        self.id = tid or secrets.token_hex(6)
        self.kind = kind
        self.environment = environment  # {"path": …, "name": …, "id": …}
        self.state = QUEUED
        self.phase = "queued"
        self.progress: float | None = None
        self.result: Any = None
        self.error: dict[str, Any] | None = None
        self.created = time.time()
        self.started: float | None = None
        self.finished: float | None = None
        self._log: collections.deque[tuple[int, float, str]] = collections.deque(maxlen=LOG_LIMIT)
        self._offsets = itertools.count()
        self._next_offset = 0
        self._listeners: list[Listener] = []
        self._asyncio_task: asyncio.Task[Any] | None = None
        self._done = asyncio.Event()

    # -- reporting ---------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        """``listener(task, event)`` is called on "phase", "progress", "log" and "state"."""
        self._listeners.append(listener)

    def _emit(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(self, event)

    def set_phase(self, phase: str, progress: float | None = None) -> None:
        self.phase = phase
        self.progress = progress
        self.log(f"[{phase}]")
        self._emit("phase")

    def set_progress(self, fraction: float | None) -> None:
        self.progress = None if fraction is None else max(0.0, min(1.0, fraction))
        self._emit("progress")

    def log(self, line: str) -> None:
        for part in line.rstrip("\n").split("\n"):
            offset = next(self._offsets)
            self._log.append((offset, time.time(), part))
            self._next_offset = offset + 1
        self._emit("log")

    @property
    def next_offset(self) -> int:
        """The offset the next log line will get (the log's length so far)."""
        return self._next_offset

    def log_since(self, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """Log lines with offset >= ``offset`` and the offset to ask for next time."""
        # offsets in the log are consecutive, so the first wanted line's index is arithmetic
        first = self._log[0][0] if self._log else self._next_offset
        start = max(0, offset - first)
        lines = [{"offset": o, "time": t, "line": text} for o, t, text in itertools.islice(self._log, start, None)]
        return lines, self._next_offset

    # -- running child processes ---------------------------------------------------
    async def run(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        log_stdout: bool = True,
        check: bool = True,
        on_line: Callable[[str], None] | None = None,
    ) -> ProcessResult:
        """Run ``argv`` (a list, never a shell string) in its own process group,
        logging its output line by line. Cancelling the task kills the group.

        With ``check`` a non-zero exit raises :class:`OperationFailed` carrying the
        argv and the output's tail."""
        argv = [str(a) for a in argv]
        self.log("$ " + " ".join(argv))
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        out: list[str] = []
        err: list[str] = []

        async def pump(stream: asyncio.StreamReader | None, sink: list[str], show: bool) -> None:
            while stream is not None:
                raw = await stream.readline()
                if not raw:
                    return
                text = raw.decode(errors="replace")
                sink.append(text)
                if show:
                    self.log(text)
                if on_line is not None:
                    on_line(text.rstrip("\n"))

        try:
            await asyncio.gather(pump(proc.stdout, out, log_stdout), pump(proc.stderr, err, True))
            returncode = await proc.wait()
        except asyncio.CancelledError:
            await _kill_group(proc)
            raise
        result = ProcessResult(argv, returncode, "".join(out), "".join(err))
        if check and returncode != 0:
            raise OperationFailed(
                f"{os.path.basename(argv[0])} failed with exit code {returncode}",
                details=failure_details(result),
            )
        return result

    # -- state ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.state in FINISHED

    async def wait(self) -> Task:
        await self._done.wait()
        return self

    def cancel(self) -> bool:
        """Ask the task to stop. Returns False when it had already finished."""
        if self.done or self._asyncio_task is None:
            return False
        self._asyncio_task.cancel()
        return True

    def to_json(self, since: int = 0) -> dict[str, Any]:
        lines, next_offset = self.log_since(since)
        return {
            "id": self.id,
            "kind": self.kind,
            "environment": self.environment,
            "state": self.state,
            "phase": self.phase,
            "progress": self.progress,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "log": lines,
            "next_offset": next_offset,
            "result": self.result,
            "error": self.error,
        }


def failure_details(result: ProcessResult) -> dict[str, Any]:
    tail = (result.stdout + result.stderr).splitlines()[-OUTPUT_TAIL:]
    return {"argv": result.argv, "returncode": result.returncode, "output_tail": tail}


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the child's process group, SIGKILL after a grace period."""
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            await asyncio.wait_for(proc.wait(), grace)
            return
        except asyncio.TimeoutError:
            continue


Work = Callable[[Task], Awaitable[Any]]


class TaskManager:
    """Starts tasks on the running loop and keeps them for ``retention`` seconds
    after they finish."""

    def __init__(self, retention: float = 3600.0):
        self.retention = retention
        self._tasks: dict[str, Task] = {}

    def start(self, task: Task, work: Work, *, cleanup: Callable[[], None] | None = None) -> Task:
        """Run ``work(task)`` as an asyncio task. ``cleanup`` (e.g. releasing the
        environment's lock) runs when it ends, whatever the outcome."""
        self._prune()
        self._tasks[task.id] = task
        _UNFINISHED.add(task.id)
        task._asyncio_task = asyncio.get_running_loop().create_task(self._run(task, work, cleanup))
        return task

    async def _run(self, task: Task, work: Work, cleanup: Callable[[], None] | None) -> None:
        task.state, task.started = RUNNING, time.time()
        task._emit("state")
        try:
            task.result = await work(task)
            task.state = SUCCEEDED
            task.phase = "done"
            task.progress = 1.0
        except asyncio.CancelledError:
            task.state = CANCELLED
            task.error = Cancelled(f"{task.kind} was cancelled").to_json()
            task.log("cancelled")
        except EnvModError as err:
            task.state = FAILED
            task.error = err.to_json()
            task.log(f"error: {err.message}")
        except Exception as err:  # a task must end with an error for people, not vanish
            task.state = FAILED
            task.error = EnvModError(f"{task.kind} failed unexpectedly: {err!r}", reason="internal-error").to_json()
            task.log(f"internal error: {err!r}")
        finally:
            task.finished = time.time()
            _UNFINISHED.discard(task.id)
            if cleanup is not None:
                cleanup()
            task._done.set()
            task._emit("state")

    def get(self, tid: str) -> Task | None:
        self._prune()
        return self._tasks.get(tid)

    def list(self) -> list[Task]:
        self._prune()
        return sorted(self._tasks.values(), key=lambda t: t.created)

    def running_for(self, path: str) -> Task | None:
        for task in self._tasks.values():
            if not task.done and task.environment.get("path") == path:
                return task
        return None

    def _prune(self) -> None:
        now = time.time()
        for tid, task in list(self._tasks.items()):
            if task.finished is not None and now - task.finished > self.retention:
                del self._tasks[tid]
