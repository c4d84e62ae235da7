"""Showing a task's progress in a terminal: a rich progress bar with the current
phase on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Any

from ..tasks import Task


class TaskProgress:
    """Context manager that follows a task until it ends."""

    def __init__(self, task: Task, *, verbose: bool = False):
        self.task = task
        self.verbose = verbose
        self.tty = sys.stderr.isatty()
        self._progress: Any = None
        self._bar: Any = None
        self._last_phase = ""
        self._offset = 0  # next log line to print (verbose)

    def __enter__(self) -> TaskProgress:
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._bar = self._progress.add_task(self.task.kind, total=None)
        self.task.add_listener(self._on_event)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def _on_event(self, task: Task, event: str) -> None:
        if event == "log" and self.verbose:
            lines, self._offset = task.log_since(self._offset)
            for line in lines:
                self._print(line["line"])
        if event in ("phase", "progress"):
            if self._progress is not None:
                total = 1.0 if task.progress is not None else None
                self._progress.update(
                    self._bar, description=f"{task.kind}: {task.phase}", total=total, completed=task.progress or 0
                )
            elif event == "phase" and task.phase != self._last_phase:
                print(f"{task.kind}: {task.phase}", file=sys.stderr, flush=True)
            self._last_phase = task.phase

    def _print(self, line: str) -> None:
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)
