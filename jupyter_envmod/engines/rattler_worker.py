"""The rattler engine's install worker: a long-lived child process that runs
``rattler.install`` jobs, one at a time, for the process that started it (see the
module docstring of :mod:`jupyter_envmod.engines.rattler_engine` for why installs run
in a child at all, and for the parent's side).

Run as ``python -m jupyter_envmod.engines.rattler_worker PARENT_PID``. It imports the
standard library and py-rattler only (the ``jupyter_envmod`` and ``engines`` package
``__init__`` files it passes through import nothing heavy), and imports py-rattler's
installer before it reads its first job, so a worker started while the parent solves
is ready when the job arrives.

Protocol
    stdin: one JSON job per line, ``{"id": N, "prefix": PATH, "records": [TEXT, …],
    "requested_specs": [SPEC, …], "cache_dir": PATH | null}``; each record is one
    ``RepoDataRecord.to_json()``, read back with ``PrefixRecord.from_path`` (which
    accepts a plain repodata record; py-rattler has no other public way to rebuild a
    record from JSON) from a memfd.

    stdout: ``@envmod {json}`` lines: ``start`` (``total`` operations), ``fetch``,
    ``link``, ``unlink`` (``name``), ``op_done`` while a job runs (batched, at most
    ``FLUSH_INTERVAL`` late), then ``done`` (``id``, ``ok``, and ``message`` when it
    failed), written at once. Anything else on stdout or stderr (the parent merges
    the two) is free text for the task's log.

    After a failed job the worker exits: operations of the failed transaction that
    were already running on tokio's blocking threads would otherwise carry on
    writing (the parent kills the process group too, before it reports the failure).

Lifetime
    The worker exits at once, even in the middle of a job, when its stdin reaches end
    of file: the parent closed it to retire the worker, or the parent died (its pipe
    end is closed by the kernel; Python's pipes are not inherited by other children).
    A thread watching the parent pid is the backstop (a pipe end inherited by a
    ``fork`` without ``exec``). No parent-death signal: Linux ties it to the *thread*
    that started the child, and a long-lived worker must not die with whichever
    thread happened to start it. It always ends with ``os._exit``: at interpreter
    shutdown rattler's tokio threads can still be releasing Python objects and crash
    the finalizing interpreter (SIGSEGV, or "PyGILState_Release: thread state must be
    current"; measured in about one run of ten with py-rattler 0.28).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, cast

#: prefix of the worker's protocol lines on stdout
MARK = "@envmod "

#: seconds progress lines may wait, to go to the parent in one write
FLUSH_INTERVAL = 0.02


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Output:
    """Protocol lines on stdout (fd 1, unbuffered), from any thread, each whole.
    Progress lines are batched: the first of a quiet spell waits ``FLUSH_INTERVAL``
    for the others, so the parent wakes once or twice per small install instead of
    about three times per package (measured: ~3 ms of a 15 ms install)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._wake = threading.Event()
        threading.Thread(target=self._flusher, name="envmod-output", daemon=True).start()

    def emit(self, *, now: bool = False, **event: Any) -> None:
        """Queue one line; ``now``: write it and everything before it at once."""
        with self._lock:
            self._pending.append(MARK + json.dumps(event) + "\n")
            if now:
                self._flush()
        if not now:
            self._wake.set()

    def _flush(self) -> None:  # with self._lock held
        if self._pending:
            data = "".join(self._pending).encode()
            self._pending.clear()
            _write_all(1, data)

    def _flusher(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_INTERVAL)
            self._wake.clear()
            with self._lock:
                self._flush()


_output: _Output | None = None


def _emit(*, now: bool = False, **event: Any) -> None:
    global _output
    if _output is None:
        _output = _Output()
    _output.emit(now=now, **event)


def _reporter() -> Any:
    from rattler import InstallerReporter

    # The protocol's no-op defaults are what we want for the other callbacks; mypy
    # would call them abstract (empty bodies), hence the Any base.
    base: Any = InstallerReporter

    class JsonReporter(base):  # type: ignore[misc]
        """Prints one ``@envmod`` line per event the parent cares about."""

        def on_transaction_start(self, total_operations: int) -> None:
            _emit(e="start", total=total_operations)

        def on_populate_cache_start(self, operation: int, package_name: str) -> int:
            _emit(e="fetch", name=package_name)
            return operation

        def on_link_start(self, operation: int, package_name: str) -> int:
            _emit(e="link", name=package_name)
            return operation

        def on_unlink_start(self, operation: int, package_name: str) -> int:
            _emit(e="unlink", name=package_name)
            return operation

        def on_transaction_operation_complete(self, operation: int) -> None:
            _emit(e="op_done")

    return JsonReporter()


def _read_records(texts: list[str]) -> list[Any]:
    """``PrefixRecord`` objects from ``RepoDataRecord.to_json()`` texts. py-rattler
    reads records only from files: on Linux the files are memfds (no disk, nothing
    left behind when the worker is killed), elsewhere a temporary directory."""
    from rattler import PrefixRecord

    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        records = []
        for text in texts:
            fd = os.memfd_create("envmod-record", os.MFD_CLOEXEC)
            try:
                _write_all(fd, text.encode())
                records.append(PrefixRecord.from_path(Path(f"/proc/self/fd/{fd}")))
            finally:
                os.close(fd)
        return records
    import tempfile

    with tempfile.TemporaryDirectory(prefix="envmod-rattler-") as tmp:
        paths = []
        for i, text in enumerate(texts):
            path = Path(tmp, f"record-{i}.json")
            path.write_text(text, encoding="utf-8")
            paths.append(path)
        return [PrefixRecord.from_path(path) for path in paths]


async def _install(job: dict[str, Any]) -> None:
    from rattler import MatchSpec, install

    records = _read_records(job["records"])
    specs = [MatchSpec(s) for s in job["requested_specs"]]
    kwargs: dict[str, Any] = {
        "target_prefix": job["prefix"],
        "cache_dir": job["cache_dir"],
        "show_progress": False,
        "reporter": _reporter(),
    }
    try:
        await install(records, requested_specs=specs, **kwargs)
    except TypeError as err:  # py-rattler 0.28 hands MatchSpec over without unwrapping it
        if "PyMatchSpec" not in str(err):
            raise
        await install(records, requested_specs=cast(Any, [s._match_spec for s in specs]), **kwargs)


async def _serve(jobs: asyncio.Queue[bytes]) -> None:
    while True:
        line = await jobs.get()
        job_id: Any = None
        try:
            job = json.loads(line)
            job_id = job.get("id")
            await _install(job)
        except Exception as err:
            _emit(now=True, e="done", id=job_id, ok=False, message=f"{type(err).__name__}: {err}")
            return
        _emit(now=True, e="done", id=job_id, ok=True)


def _watch_parent(parent: int) -> None:
    """Exit when ``parent`` is no longer this process's parent (backstop for stdin EOF)."""
    if os.getppid() != parent:  # the parent died before we got here
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="envmod-parent-watch", daemon=True).start()


def _read_jobs(loop: asyncio.AbstractEventLoop, jobs: asyncio.Queue[bytes]) -> None:
    """Hand stdin's lines to the event loop; at end of file, exit at once."""
    with contextlib.suppress(Exception):
        for line in sys.stdin.buffer:
            if line.strip():
                loop.call_soon_threadsafe(jobs.put_nowait, line)
    os._exit(0)


def main(argv: list[str]) -> int:
    """Worker entry point: ``python -m jupyter_envmod.engines.rattler_worker PARENT_PID``."""
    if len(argv) != 1 or not argv[0].isdigit():
        sys.stderr.write("usage: python -m jupyter_envmod.engines.rattler_worker PARENT_PID\n")
        return 2
    _watch_parent(int(argv[0]))
    global _output
    _output = _Output()
    import rattler.install  # noqa: F401 - paid now, while the parent solves, not when the job arrives

    loop = asyncio.new_event_loop()
    jobs: asyncio.Queue[bytes] = asyncio.Queue()
    threading.Thread(target=_read_jobs, args=(loop, jobs), name="envmod-jobs", daemon=True).start()
    loop.run_until_complete(_serve(jobs))
    return 1  # only after a failed job


if __name__ == "__main__":
    code = 1
    try:
        code = main(sys.argv[1:])
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
