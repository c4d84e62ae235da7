"""Server start with and without the jupyter_envmod server extension.

Starts a real Jupyter Server (``python -m jupyter_server --allow-root --no-browser``,
a token, a free port) RUNS times with the extension enabled and RUNS times with it
disabled, interleaved (rounds of one of each, alternating which goes first), after
one untimed start of each (bytecode and page caches). Each start gets fresh
temporary HOME, JUPYTER_CONFIG_DIR, JUPYTER_DATA_DIR and JUPYTER_RUNTIME_DIR
(JUPYTER_* and VIRTUAL_ENV variables of the caller are dropped), and a
``jupyter_server_config.json`` in its config directory setting
``ServerApp.jpserver_extensions = {"jupyter_envmod": true|false}``: the package's
drop-in (``etc/jupyter/jupyter_server_config.d/jupyter_envmod.json``) enables it
otherwise. The other server extensions installed here (JupyterLab, …) stay enabled
in both, as on a real site.

A start is timed from just before the process is spawned until ``GET /api/status``
(token in the Authorization header) answers 200, polled every 10 ms. Each start is
then checked: ``GET /envmod/site`` must answer 200 when enabled and 404 when
disabled. The server is stopped (SIGTERM, then SIGKILL after 30 s; not timed) and
has exited before the next start.

The added time is the median of the per-round differences (enabled minus disabled),
which follows load changes on a shared machine better than the difference of the
medians (also printed). Target: at most 100 ms added; the exit status is 1 when
missed.

Run: python bench/bench_server_start.py [--runs N] [--json]
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

TARGET_MS = 100.0
POLL_SECONDS = 0.01
START_TIMEOUT = 120.0
LABELS = ("without", "with")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def get_status(port: int, token: str, path: str, timeout: float = 30) -> int:
    """HTTP status of GET ``path`` on the local server; raises OSError when nobody listens."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"token {token}"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (all its threads), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "; field 3 of proc(5) is fields[0]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """One Jupyter Server process with its own temporary directories."""

    def __init__(self, tmp: Path, label: str, index: int) -> None:
        self.enabled = label == "with"
        self.token = secrets.token_hex(16)
        self.port = free_port()
        base = tmp / f"{index:02d}-{label}"
        home, config, data, runtime = (base / part for part in ("home", "config", "data", "runtime"))
        for directory in (home, config, data, runtime):
            directory.mkdir(parents=True)
        (config / "jupyter_server_config.json").write_text(
            json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_envmod": self.enabled}}}, indent=1) + "\n"
        )
        self.log_path = base / "server.log"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "VIRTUAL_ENV"))}
        self.env.update(
            HOME=str(home),
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_DATA_DIR=str(data),
            JUPYTER_RUNTIME_DIR=str(runtime),
        )
        self.argv = [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser"]
        self.argv += [f"--ServerApp.token={self.token}", f"--port={self.port}", "--ServerApp.port_retries=0"]
        self.cwd = base
        self.proc: subprocess.Popen[bytes] | None = None

    def start_and_wait(self) -> tuple[float, float | None]:
        """Seconds from spawning the process to the first 200 of GET /api/status, and
        the CPU seconds the server process had used by then (None off Linux)."""
        with open(self.log_path, "wb") as log:
            t = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = t + START_TIMEOUT
        while time.perf_counter() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get_status(self.port, self.token, "/api/status") == 200:
                    return time.perf_counter() - t, cpu_seconds(self.proc.pid)
            if self.proc.poll() is not None:
                break
            time.sleep(POLL_SECONDS)
        self.fail(f"did not answer GET /api/status with 200 (exit {self.proc.poll()})")

    def check_extension(self) -> None:
        status = get_status(self.port, self.token, "/envmod/site", timeout=60)
        wanted = 200 if self.enabled else 404
        if status != wanted:
            state = "enabled" if self.enabled else "disabled"
            self.fail(f"answered GET /envmod/site with {status}, not {wanted}, with jupyter_envmod {state}")

    def fail(self, what: str) -> NoReturn:
        self.stop()
        log = self.log_path.read_text(errors="replace")[-3000:]
        sys.exit(f"the Jupyter Server on port {self.port} {what}:\n{log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            self.proc.wait()


def one_start(tmp: Path, label: str, index: int) -> tuple[float, float | None]:
    server = Server(tmp, label, index)
    try:
        measured = server.start_and_wait()
        server.check_extension()
        return measured
    finally:
        server.stop()


def bench(runs: int, tmp: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds of each timed start, per label."""
    index = 0
    for label in LABELS:  # untimed: bytecode and page caches
        one_start(tmp, label, index)
        index += 1
    wall: dict[str, list[float]] = {label: [] for label in LABELS}
    cpu: dict[str, list[float]] = {label: [] for label in LABELS}
    for i in range(runs):
        order = LABELS if i % 2 == 0 else LABELS[::-1]
        for label in order:
            seconds, cpu_used = one_start(tmp, label, index)
            index += 1
            wall[label].append(seconds)
            if cpu_used is not None:
                cpu[label].append(cpu_used)
            used = f", {cpu_used * 1e3:.0f} ms CPU" if cpu_used is not None else ""
            print(f"round {i + 1}/{runs}, {label}: {seconds * 1e3:.0f} ms{used}", file=sys.stderr)
    return wall, cpu


def ms(value: float) -> float:
    return round(value * 1e3, 1)


def describe(values: list[float]) -> dict[str, Any]:
    quartiles = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
    return {
        "median_ms": ms(statistics.median(values)),
        "min_ms": ms(min(values)),
        "max_ms": ms(max(values)),
        "iqr_ms": ms(quartiles[2] - quartiles[0]),
        "runs_ms": [ms(v) for v in values],
    }


def added(values: dict[str, list[float]]) -> dict[str, Any]:
    diffs = [w - wo for w, wo in zip(values["with"], values["without"], strict=True)]
    with_, without = statistics.median(values["with"]), statistics.median(values["without"])
    return {
        "median_ms": ms(statistics.median(diffs)),
        "per_round_ms": [ms(d) for d in diffs],
        "difference_of_medians_ms": ms(with_ - without),
        "ratio": round(with_ / without, 3),
    }


def summary(wall: dict[str, list[float]], cpu: dict[str, list[float]]) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": len(wall["with"]), "target_ms": TARGET_MS}
    out["wall"] = {label: describe(wall[label]) for label in LABELS}
    out["wall"]["added"] = added(wall)
    if all(len(cpu[label]) == len(wall[label]) for label in LABELS):
        out["cpu"] = {label: describe(cpu[label]) for label in LABELS}
        out["cpu"]["added"] = added(cpu)
    out["met"] = out["wall"]["added"]["median_ms"] <= TARGET_MS
    return out


def print_table(result: dict[str, Any]) -> None:
    print(f"server starts: {result['runs']} of each, interleaved, after one untimed start of each")
    print("| measure | median | spread (min to max; IQR) | ratio |")
    print("|---|---|---|---|")
    kinds = [("wall", "server start → `GET /api/status` 200")]
    if "cpu" in result:
        kinds.append(("cpu", "CPU time of the server process at that point"))
    for kind, title in kinds:
        part = result[kind]
        for label, name, ratio in (
            ("without", "jupyter_envmod disabled (reference)", "1"),
            ("with", "jupyter_envmod enabled", f"{part['added']['ratio']:.3f}x disabled"),
        ):
            row = part[label]
            spread = f"{row['min_ms']:.0f} to {row['max_ms']:.0f} ms; IQR {row['iqr_ms']:.0f} ms"
            print(f"| {title}, {name} | {row['median_ms']:.0f} ms | {spread} | {ratio} |")
        diff = part["added"]
        per_round = ", ".join(f"{d:+.0f}" for d in diff["per_round_ms"])
        print(
            f"| {title}, added (median of per-round differences) | {diff['median_ms']:+.0f} ms | "
            f"per round: {per_round} ms | |"
        )
    print(f"wall time, difference of the medians: {result['wall']['added']['difference_of_medians_ms']:+.0f} ms")
    verdict = "met" if result["met"] else "MISSED"
    print(f"target (wall time, at most {TARGET_MS:.0f} ms added): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed starts of each kind (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="envmod-bench-server-"))
    try:
        t = time.perf_counter()
        wall, cpu = bench(args.runs, tmp)
        print(f"server starts took {time.perf_counter() - t:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = summary(wall, cpu)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    sys.exit(0 if result["met"] else 1)


if __name__ == "__main__":
    main()
