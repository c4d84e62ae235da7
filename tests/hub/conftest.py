"""A real JupyterHub on loopback for tests/hub.

The hub runs as a subprocess (``python -m jupyterhub``; never imported here, so its
import-time warnings stay out of this pytest process) with DummyAuthenticator, the
configurable-http-proxy it starts itself, and SimpleLocalProcessSpawner: every user's
single-user server runs as this same unix user with its own HOME under a temp dir, so
each user's Jupyter data dir (kernels) and ~/.conda/envs are separate. That spawner
needs no unix accounts and no permission juggling on the project's venv (throwaway
accounts through LocalProcessSpawner would also need to read the checkout and write
nowhere else); what this test is about — the installed jupyter-config enabling the
extension, the hub's routing and its token scopes — is the same with either spawner.

configurable-http-proxy comes from npm: scripts/test installs the pinned version into
``.hub-proxy/`` and points ``ENVMOD_CHP`` at it; without the variable the test looks in
``.hub-proxy/`` and then on PATH.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHP_VARIABLE = "ENVMOD_CHP"
CHP_LOCAL = ROOT / ".hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
USERS = ("alice", "bob")
#: seconds for the hub or a single-user server to come up on a busy 2-core machine
START_LIMIT = 120.0
#: seconds for an environment task to end (uv fetches ipykernel from PyPI)
TASK_LIMIT = 300.0
#: seconds the hub gets to stop its proxy and servers after SIGTERM
STOP_LIMIT = 30.0
LOG_TAIL = 30_000
#: How this machine reaches PyPI (a proxy, an extra CA bundle, a mirror). JupyterHub
#: passes a single-user server only a short list of its own variables (Spawner.env_keep),
#: so these are handed on explicitly, as a site would configure Spawner.environment.
NETWORK_VARIABLES = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_NATIVE_TLS",
)

T = TypeVar("T")


def cannot_run(message: str) -> NoReturn:
    """Fail under the test command (ENVMOD_STRICT=1); a local run may skip."""
    if os.environ.get("ENVMOD_STRICT") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def find_proxy() -> str:
    configured = os.environ.get(CHP_VARIABLE)
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            pytest.fail(
                f"{CHP_VARIABLE}={configured!r} is not an executable file: point it at the "
                "configurable-http-proxy executable, or unset it to use .hub-proxy/ or PATH",
                pytrace=False,
            )
        return configured
    if os.access(CHP_LOCAL, os.X_OK):
        return str(CHP_LOCAL)
    found = shutil.which("configurable-http-proxy")
    if found:
        return found
    cannot_run(
        f"configurable-http-proxy not found: not in {CHP_VARIABLE}, {CHP_LOCAL} or PATH. "
        "scripts/test installs it; by hand: npm install --prefix .hub-proxy configurable-http-proxy@5.2.0"
    )


def find_singleuser() -> str:
    path = Path(sys.executable).parent / "jupyterhub-singleuser"
    if not os.access(path, os.X_OK):
        cannot_run(f"{path} not found: install the test extras (pip install -e '.[test]') for JupyterHub")
    return str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- processes ----------------------------------------------------------------------
# The proxy and the single-user servers are started by the hub in sessions of their
# own, so they are found through /proc (parent links) while the hub runs, remembered
# with their start times (a reused pid is not mistaken for them) and checked at the end.


def proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a live process; None when gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """Every live descendant of ``root``: pid → start time."""
    table: dict[int, tuple[int, int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                table[int(entry)] = stat
    found: dict[int, int] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, start) in table.items():
            if ppid == parent and pid not in found:
                found[pid] = start
                frontier.append(pid)
    return found


def alive(pid: int, start: int) -> bool:
    stat = proc_stat(pid)
    return stat is not None and stat[1] == start


# -- the hub ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: Any
    raw: bytes


class Hub:
    """A running hub; every request goes to the proxy's public port, as a user's would."""

    def __init__(self, base: Path, proxy_port: int, config: Path, proc: subprocess.Popen[bytes], log: Path):
        self.base, self.proxy_port, self.config, self.proc, self.log = base, proxy_port, config, proc, log
        self.homes = {user: base / "homes" / user for user in USERS}
        self.tokens: dict[str, str] = {}
        self.seen: dict[int, int] = {}

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> Reply:
        """One request through the proxy; redirects are answers, not followed."""
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"token {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.proxy_port, timeout=60)
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        kind = response.headers.get("Content-Type", "")
        parsed = json.loads(raw) if raw and kind.startswith("application/json") else None
        return Reply(response.status, response.headers, parsed, raw)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def failure(self, message: str) -> str:
        """``message`` with the tail of the log of the hub, the proxy and the servers."""
        return f"{message}\n----- JupyterHub log (tail) -----\n{self.log_text()[-LOG_TAIL:]}"

    def watch(self) -> None:
        self.seen.update(descendants(self.proc.pid))

    def wait_for(self, what: str, check: Callable[[], T | None], limit: float = START_LIMIT) -> T:
        deadline = time.monotonic() + limit
        while True:
            self.watch()
            code = self.proc.poll()
            if code is not None:
                raise AssertionError(self.failure(f"JupyterHub exited (code {code}) while waiting for {what}"))
            try:
                result = check()
            except (OSError, http.client.HTTPException):  # not listening yet
                result = None
            if result is not None:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(self.failure(f"{what}: not there after {limit:.0f} s"))
            time.sleep(0.25)

    def new_token(self, user: str) -> str:
        """The user asks the hub for an API token with their own credentials (the
        Authenticator checks them; no admin involved): default scopes, as a user's
        token from the hub's token page would have."""
        reply = self.call(
            "POST",
            f"/hub/api/users/{user}/tokens",
            body={"auth": {"username": user, "password": f"{user}-password"}, "note": "tests/hub"},
        )
        assert reply.status == 201, self.failure(f"token for {user}: {reply.status} {reply.raw!r}")
        return str(reply.body["token"])

    def start_server(self, user: str) -> None:
        """Start ``user``'s server with their own token and wait until the hub says it
        is ready (spawned and routed by the proxy)."""
        token = self.tokens[user]
        started = self.call("POST", f"/hub/api/users/{user}/server", token)
        assert started.status in (201, 202), self.failure(f"starting {user}'s server: {started.status} {started.raw!r}")

        def ready() -> dict[str, Any] | None:
            model = self.call("GET", f"/hub/api/users/{user}", token)
            assert model.status == 200, self.failure(f"GET /hub/api/users/{user}: {model.status} {model.raw!r}")
            server = model.body["servers"].get("")
            assert server is not None, self.failure(f"{user}'s server failed to start")
            return server if server["ready"] else None

        self.wait_for(f"{user}'s single-user server", ready)
        self.watch()

    def wait_task(self, location: str, token: str) -> dict[str, Any]:
        """Poll a task at its ``Location`` until it ends; the final task JSON."""
        path = location if location.startswith("/") else "/" + location.split("/", 3)[3]

        def ended() -> dict[str, Any] | None:
            reply = self.call("GET", path, token)
            assert reply.status == 200, self.failure(f"GET {path}: {reply.status} {reply.raw!r}")
            return reply.body if reply.body["state"] in ("succeeded", "failed", "cancelled") else None

        return self.wait_for(f"task {path}", ended, limit=TASK_LIMIT)

    def shutdown(self) -> list[str]:
        """Stop the hub (it stops its proxy and the servers), then end whatever it left;
        the processes that were still there afterwards, described."""
        if self.proc.poll() is None:
            self.watch()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_LIMIT)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_LIMIT)
        left = {pid: start for pid, start in self.seen.items() if alive(pid, start)}
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid, start in left.items():
                if alive(pid, start):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and any(alive(pid, start) for pid, start in left.items()):
                time.sleep(0.1)
        survivors = []
        for pid, start in left.items():
            if alive(pid, start):
                with contextlib.suppress(OSError):
                    survivors.append(f"{pid}: {Path(f'/proc/{pid}/cmdline').read_bytes()!r}")
        return survivors


def hub_config(base: Path, proxy: str, ports: dict[str, int]) -> dict[str, Any]:
    """The hub's whole configuration. Nothing in it names a server extension: the
    single-user servers get jupyter_envmod from the installed jupyter-config alone."""
    return {
        "JupyterHub": {
            "bind_url": f"http://127.0.0.1:{ports['proxy']}/",
            "hub_ip": "127.0.0.1",
            "hub_port": ports["hub"],
            "db_url": f"sqlite:///{base / 'jupyterhub.sqlite'}",
            "cookie_secret_file": str(base / "jupyterhub_cookie_secret"),
            "pid_file": str(base / "jupyterhub.pid"),
            "authenticator_class": "jupyterhub.auth.DummyAuthenticator",
            "spawner_class": "jupyterhub.spawner.SimpleLocalProcessSpawner",
        },
        "Authenticator": {"allowed_users": list(USERS)},
        "ConfigurableHTTPProxy": {
            "command": [proxy],
            "api_url": f"http://127.0.0.1:{ports['proxy_api']}",
            "pid_file": str(base / "proxy.pid"),
        },
        "Spawner": {
            "cmd": [find_singleuser()],
            # the tests run as root in CI; harmless otherwise
            "args": ["--allow-root"],
            "environment": {name: os.environ[name] for name in NETWORK_VARIABLES if name in os.environ},
            "start_timeout": int(START_LIMIT),
            "http_timeout": int(START_LIMIT),
        },
        "SimpleLocalProcessSpawner": {"home_dir_template": str(base / "homes" / "{username}")},
    }


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The hub with a token and a running server for each of USERS."""
    proxy = find_proxy()
    base = tmp_path_factory.mktemp("hub")
    ports = {"proxy": free_port(), "proxy_api": free_port(), "hub": free_port()}
    config = base / "jupyterhub_config.json"
    config.write_text(json.dumps(hub_config(base, proxy, ports), indent=2))
    (base / "hubhome").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JPY_"))}
    env["HOME"] = str(base / "hubhome")
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    log = base / "hub.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(config)],
            cwd=base,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Hub(base, ports["proxy"], config, proc, log)
    try:
        running.wait_for(
            "the hub's API through the proxy", lambda: running.call("GET", "/hub/api").status == 200 or None
        )
        for user in USERS:
            running.tokens[user] = running.new_token(user)
        for user in USERS:
            running.start_server(user)
        yield running
    finally:
        survivors = running.shutdown()
    assert not survivors, running.failure(f"processes left after the hub stopped: {survivors}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test shows the log of the hub, the proxy and the single-user servers."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    running = getattr(item, "funcargs", {}).get("hub")
    if report.failed and isinstance(running, Hub):
        report.sections.append(("JupyterHub log (tail)", running.log_text()[-LOG_TAIL:]))
