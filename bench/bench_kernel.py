"""Cost of the kernelspecs jupyter_envmod writes: kernel start and kernelspec listing.

``start``: one venv with ipykernel (uv, ipykernel from PyPI or the site's index) in
a temporary directory, and three kernelspecs of it: the GENERATED one
(``kernels.write_kernel``: ``[<env>/bin/python, <spec>/launcher.py, -f,
{connection_file}]``, the launcher then execs ``python -m ipykernel_launcher``), a
PLAIN one (``[<env>/bin/python, -m, ipykernel_launcher, -f, {connection_file}]``)
and the generated one with ONE module dependency (``envmod-testdep/1.0`` of
tests/modsys.py, loaded by the real Lmod recorded in the spec). Each run starts a
kernel with jupyter_client's ``KernelManager``, waits for it to be ready (its reply
to a ``kernel_info_request``), executes ``1+1`` and stops the clock at the
``execute_reply``; the kernel is then shut down (not timed). Kernels get a clean
environment (no LMOD*/MODULE* variables, no PYTHONPATH), so the launcher uses the
module command recorded in the spec. The three kinds run in turn, rotating which
goes first; one untimed start of each comes before (it writes the environment's
bytecode caches).

``list``: two real Jupyter Servers (``python -m jupyter server``, the extensions
installed here enabled), each with JUPYTER_PATH and JUPYTER_DATA_DIR at its own
temporary data directory and JUPYTER_CONFIG_DIR, JUPYTER_RUNTIME_DIR and HOME
temporary too. One data directory's ``kernels/`` holds 200 GENERATED kernelspecs
(``write_kernel`` for 200 targets on the same venv), the other 200 PLAIN ones (same
python, plain argv) with the same number of files: ``kernel.json``, the two logos
``write_kernel`` copies (same bytes), and two filler files of the sizes of
``launcher.py`` and ``launcher.json`` (Jupyter reads neither). After 3 warm-up
requests to each, ``GET /api/kernelspecs`` is timed 30 times on each server,
alternating between them (urllib, token in the Authorization header).

Run: python bench/bench_kernel.py [--repeat N] [--requests N] [--specs N]
Figures go to docs/benchmarks.md. Times are medians; the ratio columns compare
with the plain kernelspecs measured in the same run, since the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
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
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON_VERSION = ".".join(str(v) for v in sys.version_info[:3])
WARMUP_REQUESTS = 3
START_TARGET = 1.10
LIST_TARGET = 1.2


def load_modsys() -> ModuleType:
    """tests/modsys.py, imported by path (tests/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("envmod_modsys", ROOT / "tests" / "modsys.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/modsys.py is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_venv(path: Path) -> Path:
    """A venv over this Python with ipykernel (as tests/core/test_kernels.py makes it)."""
    import uv

    uv_bin = uv.find_uv_bin()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "CONDA_PREFIX"))}
    for argv in (
        [uv_bin, "venv", "--no-managed-python", "--no-python-downloads", "-p", sys.executable, str(path)],
        [uv_bin, "pip", "install", "--python", str(path / "bin" / "python"), "ipykernel"],
    ):
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{proc.stderr}")
    return path


def target_for(prefix: Path, name: str, modules: tuple[str, ...] = ()) -> Any:
    from jupyter_envmod.templating import Target

    return Target(
        name=name,
        prefix=prefix,
        engine="venv",
        kind="venv",
        python_version=PYTHON_VERSION,
        created="2026-11-21T10:00:00Z",
        modules=modules,
    )


def write_plain(kernels: Path, name: str, venv: Path, like: Path) -> Path:
    """A plain kernelspec of ``venv`` with as many files as the generated spec ``like``:
    kernel.json, the same logos, and fillers of the same sizes for the others."""
    spec_dir = kernels / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python {PYTHON_VERSION} ({name})",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")
    for item in like.iterdir():
        if item.name.startswith("logo-"):
            shutil.copyfile(item, spec_dir / item.name)
        elif item.name != "kernel.json":
            (spec_dir / f"filler-{item.name}.txt").write_bytes(b"#" * item.stat().st_size)
    return spec_dir


def kernel_environ(tmp: Path) -> dict[str, str]:
    """The environment kernels start with: no module system, thread or Python path variables."""
    env = load_modsys().clean_environ()
    for var in ("PYTHONPATH", "PYTHONNOUSERSITE", "SLURM_CPUS_PER_TASK", "VIRTUAL_ENV"):
        env.pop(var, None)
    env = {k: v for k, v in env.items() if not k.endswith("_NUM_THREADS")}
    env["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
    return env


def reply_to(manager: Any, client: Any, msg_id: str, name: str, log: Path) -> dict[str, Any]:
    """The shell reply to ``msg_id``; exits with the kernel's stderr when it died or hung."""
    from queue import Empty

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            reply: dict[str, Any] = client.get_shell_msg(timeout=1)
        except Empty:
            if not manager.is_alive():
                break
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply
    sys.exit(f"kernel {name} did not answer; its stderr:\n{log.read_text(errors='replace')[-3000:]}")


def start_to_reply(kernels: Path, name: str, env: dict[str, str], tmp: Path) -> float:
    """Seconds from ``start_kernel`` to the ``execute_reply`` of ``1+1``.

    Ready means the kernel answered one ``kernel_info_request`` sent right after the
    start (ZMQ queues it until the kernel listens). ``KernelClient.wait_for_ready``
    is not used: it polls in steps of 1 s and 0.2 s and ends with a 0.2 s quiet
    period on IOPub, which would hide differences of tens of milliseconds.
    """
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    manager = KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    manager.connection_file = str(tmp / "runtime" / f"kernel-{name}.json")
    log = tmp / f"kernel-{name}.log"
    client = None
    try:
        with open(log, "wb") as stderr:
            t = time.perf_counter()
            manager.start_kernel(env=env, stderr=stderr)
            client = manager.client()
            client.start_channels()
            reply_to(manager, client, client.kernel_info(), name, log)
            reply = reply_to(manager, client, client.execute("1+1"), name, log)
            elapsed = time.perf_counter() - t
        if reply["content"]["status"] != "ok":
            sys.exit(f"kernel {name}: 1+1 failed: {reply['content']}")
        return elapsed
    finally:
        if client is not None:
            client.stop_channels()
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
        manager.cleanup_resources()
        manager.context.term()


def fresh_seconds(argv: list[str], env: dict[str, str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def bench_start(tmp: Path, venv: Path, repeat: int) -> dict[str, list[float]]:
    from jupyter_envmod import kernels
    from jupyter_envmod.config import EnvMod
    from jupyter_envmod.templating import Templates

    modsys = load_modsys()
    kernel_dir = tmp / "start-kernels"
    (tmp / "runtime").mkdir(exist_ok=True)
    envmod = EnvMod(kernel_dir=str(kernel_dir))
    templates = Templates.for_site(envmod)
    generated = kernels.write_kernel(envmod, templates, target_for(venv, "bench")).name
    module_root = modsys.write_dep_module(tmp / "modules")
    lmod = str(modsys.LMOD_CMD)
    with_module = kernels.write_kernel(
        envmod,
        templates,
        target_for(venv, "bench-module", modules=(modsys.DEP_MODULE,)),
        module_system={"kind": "lmod", "command": lmod},
        modulepath=[str(module_root)],
    ).name
    write_plain(kernel_dir, "plain", venv, kernel_dir / generated)
    env = kernel_environ(tmp)
    kinds = {"plain": "plain", "generated": generated, "module": with_module}

    first = {kind: start_to_reply(kernel_dir, name, env, tmp) for kind, name in kinds.items()}
    print("first (untimed) starts: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in first.items()), file=sys.stderr)
    runs: dict[str, list[float]] = {kind: [] for kind in kinds}
    order = list(kinds)
    for i in range(repeat):  # in turn, rotating which goes first
        for kind in order[i % 3 :] + order[: i % 3]:
            runs[kind].append(start_to_reply(kernel_dir, kinds[kind], env, tmp))
    # what the differences are made of, measured alone
    module_env = {**env, "MODULEPATH": str(module_root)}
    python = str(venv / "bin" / "python")
    runs["python"] = [fresh_seconds([python, "-c", "pass"], env) for _ in range(repeat)]
    runs["lmod"] = [fresh_seconds([lmod, "python", "load", modsys.DEP_MODULE], module_env) for _ in range(repeat)]
    return runs


# -- GET /api/kernelspecs ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """A Jupyter Server subprocess over its own data directory."""

    def __init__(self, tmp: Path, label: str, data: Path):
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.log_path = tmp / f"server-{label}.log"
        home, config, runtime = (tmp / f"server-{label}-{part}" for part in ("home", "config", "runtime"))
        for directory in (home, config, runtime):
            directory.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "VIRTUAL_ENV"))}
        env.update(
            HOME=str(home),
            JUPYTER_PATH=str(data),
            JUPYTER_DATA_DIR=str(data),
            JUPYTER_CONFIG_DIR=str(config),
            JUPYTER_RUNTIME_DIR=str(runtime),
        )
        argv = [sys.executable, "-m", "jupyter", "server", "--allow-root", "--no-browser"]
        argv += [f"--ServerApp.token={self.token}", f"--port={self.port}", "--ServerApp.port_retries=0"]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - http://127.0.0.1 only
            body: bytes = response.read()
            return body

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.get("/api/status")
                return
            time.sleep(0.2)
        log = self.log_path.read_text(errors="replace")[-3000:]
        sys.exit(f"the Jupyter Server on port {self.port} did not answer (exit {self.proc.poll()}):\n{log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def servers(tmp: Path, data: dict[str, Path]) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        for label, directory in data.items():
            started[label] = Server(tmp, label, directory)
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_list(tmp: Path, venv: Path, specs: int, requests: int) -> tuple[dict[str, list[float]], dict[str, int]]:
    from jupyter_envmod import kernels
    from jupyter_envmod.config import EnvMod
    from jupyter_envmod.templating import Templates

    data = {"plain": tmp / "data-plain", "generated": tmp / "data-generated"}
    envmod = EnvMod(kernel_dir=str(data["generated"] / "kernels"))
    templates = Templates.for_site(envmod)
    names = []
    for i in range(specs):
        names.append(kernels.write_kernel(envmod, templates, target_for(venv, f"bench{i:03d}")).name)
    like = data["generated"] / "kernels" / names[0]
    for name in names:
        write_plain(data["plain"] / "kernels", name, venv, like)
    files = {label: sum(1 for p in (d / "kernels").rglob("*") if p.is_file()) for label, d in data.items()}
    if files["plain"] != files["generated"]:
        sys.exit(f"the two kernel directories hold different numbers of files: {files}")

    with servers(tmp, data) as running:
        sizes: dict[str, int] = {}
        for label, server in running.items():
            body = server.get("/api/kernelspecs")
            listed = json.loads(body)["kernelspecs"]
            if not set(names) <= set(listed):
                sys.exit(f"the {label} server lists {len(listed)} kernelspecs, not the {specs} written")
            sizes[label] = len(body)
            sizes[f"{label} specs"] = len(listed)
            for _ in range(WARMUP_REQUESTS - 1):
                server.get("/api/kernelspecs")
        runs: dict[str, list[float]] = {label: [] for label in running}
        order = list(running)
        for i in range(requests):  # alternating which goes first
            for label in order[i % 2 :] + order[: i % 2]:
                server = running[label]
                runs[label].append(timed(lambda server=server: server.get("/api/kernelspecs")))
    return runs, sizes


def ms(runs: list[float]) -> str:
    return f"{statistics.median(runs) * 1e3:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="kernel starts of each kind")
    parser.add_argument("--requests", type=int, default=30, help="timed GET /api/kernelspecs per server")
    parser.add_argument("--specs", type=int, default=200, help="kernelspecs per server")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="envmod-bench-kernel-"))
    try:
        os.environ["JUPYTER_RUNTIME_DIR"] = str(tmp / "runtime")
        print(f"making a venv with ipykernel in {tmp} …", file=sys.stderr)
        venv = make_venv(tmp / "env")
        t = time.perf_counter()
        start = bench_start(tmp, venv, args.repeat)
        print(f"kernel starts took {time.perf_counter() - t:.0f} s", file=sys.stderr)
        t = time.perf_counter()
        listing, sizes = bench_list(tmp, venv, args.specs, args.requests)
        print(f"servers and requests took {time.perf_counter() - t:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    plain, generated, module = (statistics.median(start[k]) for k in ("plain", "generated", "module"))
    for kind in ("plain", "generated", "module"):
        low, high = min(start[kind]), max(start[kind])
        print(f"kernel start, {kind}: {low * 1e3:.0f} to {high * 1e3:.0f} ms", file=sys.stderr)
    paired = statistics.median(m - g for m, g in zip(start["module"], start["generated"], strict=True))
    print(f"module cost, median of the per-round differences: {paired * 1e3:+.0f} ms", file=sys.stderr)
    for label in ("plain", "generated"):
        low, high = min(listing[label]), max(listing[label])
        print(f"GET /api/kernelspecs, {label}: {low * 1e3:.1f} to {high * 1e3:.1f} ms", file=sys.stderr)
    start_ratio = generated / plain
    list_plain, list_generated = (statistics.median(listing[k]) for k in ("plain", "generated"))
    list_ratio = list_generated / list_plain
    n = args.specs
    print(f"kernel starts: {args.repeat} of each kind; GET /api/kernelspecs: {args.requests} per server")
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| kernel start → `execute_reply`, plain kernelspec (reference) | {ms(start['plain'])} | 1 |")
    row = "kernel start → `execute_reply`, generated kernelspec"
    print(f"| {row} | {ms(start['generated'])} | {start_ratio:.2f}x plain |")
    print(
        f"| kernel start → `execute_reply`, generated + 1 Lmod module | {ms(start['module'])} | "
        f"{(module - generated) * 1e3:+.0f} ms over generated |"
    )
    print(f"| fresh `python -c pass` of the venv | {ms(start['python'])} | |")
    print(f"| `lmod python load envmod-testdep/1.0` alone | {ms(start['lmod'])} | |")
    print(
        f"| `GET /api/kernelspecs`, {n} plain specs (reference; {sizes['plain specs']} listed, "
        f"{sizes['plain'] / 1e3:.0f} kB) | {list_plain * 1e3:.1f} ms | 1 |"
    )
    print(
        f"| `GET /api/kernelspecs`, {n} generated specs ({sizes['generated specs']} listed, "
        f"{sizes['generated'] / 1e3:.0f} kB) | {list_generated * 1e3:.1f} ms | {list_ratio:.2f}x plain |"
    )
    verdict = "met" if start_ratio <= START_TARGET else "MISSED"
    print(f"target (kernel start <= {START_TARGET:.2f}x plain, no module dependency): {verdict}")
    verdict = "met" if list_ratio <= LIST_TARGET else "MISSED"
    print(f"target (GET /api/kernelspecs with {n} specs <= {LIST_TARGET:.1f}x plain): {verdict}")


if __name__ == "__main__":
    main()
