"""Tasks: log offsets, states, errors for people, and cancel that kills the child's
whole process group (a real `sh` with a grandchild `sleep`)."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest

from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.tasks import CANCELLED, FAILED, LOG_LIMIT, SUCCEEDED, Task, TaskManager


async def test_success_result_and_log_offsets():
    manager = TaskManager()

    async def work(task: Task) -> dict:
        task.set_phase("solving", 0.0)
        task.log("one\ntwo")
        task.set_progress(0.5)
        return {"answer": 42}

    task = manager.start(Task("create", {"path": "/x"}), work)
    await task.wait()
    assert task.state == SUCCEEDED
    assert task.result == {"answer": 42}
    assert task.progress == 1.0
    lines, nxt = task.log_since(0)
    assert [entry["line"] for entry in lines] == ["[solving]", "one", "two"]
    later, nxt2 = task.log_since(nxt - 1)
    assert [entry["line"] for entry in later] == ["two"]
    assert nxt2 == nxt
    # reading twice gives the same answer (a result is not consumed by reading it)
    assert task.to_json()["result"] == task.to_json()["result"] == {"answer": 42}
    assert manager.get(task.id) is task
    assert manager.list() == [task]


async def test_bounded_log_keeps_offsets():
    task = Task("install", {})
    for i in range(LOG_LIMIT + 10):
        task.log(f"line {i}")
    lines, nxt = task.log_since(0)
    assert len(lines) == LOG_LIMIT
    assert lines[0]["offset"] == 10
    assert nxt == LOG_LIMIT + 10


async def test_domain_error_and_unexpected_error():
    manager = TaskManager()

    async def bad_input(task: Task) -> None:
        raise InvalidInput("packages: 'x y' is not a package spec", details={"field": "packages"})

    async def crash(task: Task) -> None:
        raise RuntimeError("boom")

    t1 = manager.start(Task("create", {}), bad_input)
    t2 = manager.start(Task("create", {}), crash)
    await asyncio.gather(t1.wait(), t2.wait())
    assert t1.state == FAILED
    assert t1.error["reason"] == "invalid-input"
    assert t1.error["details"] == {"field": "packages"}
    assert t2.state == FAILED
    assert t2.error["reason"] == "internal-error"
    assert "boom" in t2.error["message"]


async def test_failed_command_carries_argv_and_output_tail():
    manager = TaskManager()

    async def work(task: Task) -> None:
        await task.run(
            [sys.executable, "-c", "import sys; print('out'); print('bad thing', file=sys.stderr); sys.exit(3)"]
        )

    task = manager.start(Task("install", {}), work)
    await task.wait()
    assert task.state == FAILED
    assert task.error["reason"] == "operation-failed"
    details = task.error["details"]
    assert details["returncode"] == 3
    assert details["argv"][0] == sys.executable
    assert "bad thing" in details["output_tail"]
    assert "out" in details["output_tail"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


async def test_cancel_kills_the_process_group(tmp_path):
    """The child starts a grandchild; cancelling the task must stop both."""
    manager = TaskManager()
    pidfile = tmp_path / "pids"
    script = f"sleep 60 & echo $$ $! > {pidfile}; wait"

    async def work(task: Task) -> None:
        await task.run(["sh", "-c", script])

    task = manager.start(Task("install", {}), work)
    for _ in range(100):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        await asyncio.sleep(0.05)
    shell, sleeper = (int(p) for p in pidfile.read_text().split())
    started = time.monotonic()
    assert task.cancel()
    await task.wait()
    assert time.monotonic() - started < 5
    assert task.state == CANCELLED
    assert task.error["reason"] == "cancelled"
    assert not _alive(shell)
    assert not _alive(sleeper)
    assert not task.cancel()  # already finished


async def test_retention_prunes_finished_tasks():
    manager = TaskManager(retention=0)

    async def work(task: Task) -> None:
        return None

    task = manager.start(Task("delete", {}), work)
    await task.wait()
    await asyncio.sleep(0.01)
    assert manager.get(task.id) is None


@pytest.mark.parametrize(("fraction", "expected"), [(-1, 0.0), (2, 1.0), (None, None)])
def test_progress_is_clamped(fraction, expected):
    task = Task("x", {})
    task.set_progress(fraction)
    assert task.progress == expected
