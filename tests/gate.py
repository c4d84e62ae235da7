"""The local test channel served over http:// with a gate: downloads of chosen
packages stop half way until the test opens the gate.

Cancel and crash tests need an install that is still running when they act. A
package that is merely slow to install makes them depend on the machine's speed
(a faster CI machine finished ``slowpkg`` before the cancel); a held download makes
the moment exact: when :meth:`Gate.held` returns, the install worker is blocked in
the middle of fetching that package and stays there until :meth:`Gate.open`.

Tests that use the gate give their engine a fresh package cache, so the held package
really is downloaded and not taken from a cache another test filled.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import http.server
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

#: how long a held download waits for the gate before it is sent anyway
#: (a test that forgot to open the gate fails instead of hanging CI)
HOLD_LIMIT = 120.0


class Gate:
    """A running server: :attr:`url` is the channel URL to give an engine."""

    def __init__(self, channel: Path, held: tuple[str, ...]) -> None:
        self.held_names = held
        self.opened = threading.Event()
        self._lock = threading.Lock()
        self._hits: list[str] = []
        handler = functools.partial(_GatedHandler, self, directory=str(channel))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def hits(self) -> list[str]:
        """The held files requested so far, in order."""
        with self._lock:
            return list(self._hits)

    def is_held(self, path: str) -> bool:
        return not self.opened.is_set() and os.path.basename(path).startswith(self.held_names)

    def record(self, path: str) -> None:
        with self._lock:
            self._hits.append(os.path.basename(path))

    async def held(self, count: int = 1, timeout: float = 60.0) -> None:
        """Wait (without blocking the event loop) until ``count`` held downloads have started."""
        deadline = time.monotonic() + timeout
        while len(self.hits) < count:
            assert time.monotonic() < deadline, f"no held download after {timeout} s (hits: {self.hits})"
            await asyncio.sleep(0.01)

    def held_sync(self, count: int = 1, timeout: float = 60.0, stop: object = None) -> None:
        """:meth:`held` for code without an event loop; ``stop()`` returning true ends the wait early."""
        deadline = time.monotonic() + timeout
        while len(self.hits) < count and not (callable(stop) and stop()):
            assert time.monotonic() < deadline, f"no held download after {timeout} s (hits: {self.hits})"
            time.sleep(0.01)

    def open(self) -> None:
        """Let held downloads finish and stop holding new ones."""
        self.opened.set()


class _GatedHandler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, gate: Gate, *args: object, **kwargs: object) -> None:
        self.gate = gate
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if not self.gate.is_held(self.path):
            super().do_GET()
            return
        path = Path(self.translate_path(self.path))
        data = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        half = len(data) // 2
        with contextlib.suppress(OSError):  # the client (a killed worker) went away
            self.wfile.write(data[:half])
            self.wfile.flush()
            self.gate.record(self.path)
            self.gate.opened.wait(HOLD_LIMIT)
            self.wfile.write(data[half:])
            self.wfile.flush()


@contextlib.contextmanager
def serve_gated(channel: Path, held: tuple[str, ...] = ("slowpkg-",)) -> Iterator[Gate]:
    gate = Gate(channel, held)
    gate._thread.start()
    try:
        yield gate
    finally:
        gate.open()
        gate.server.shutdown()
        gate.server.server_close()
        gate._thread.join()
