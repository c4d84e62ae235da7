"""Start-up and /envmod/site costs of jupyter_envmod.

What a server pays for having the extension enabled, and what the first and later
site requests cost. Run: python bench/bench_startup.py [--repeat N]
Figures go to docs/benchmarks.md. Times are medians; the ratio columns compare
with a reference measured in the same run, since the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time


def fresh_import_seconds(module: str, repeat: int) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(repeat)]
    return statistics.median(runs)


def extension_load_seconds(repeat: int) -> float:
    """Time of _load_jupyter_server_extension on an initialized ServerApp, in a
    fresh interpreter each time (jupyter_server already imported, as at start)."""
    code = """
import time, tempfile, os
os.environ["JUPYTER_CONFIG_DIR"] = tempfile.mkdtemp()
os.environ["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp()
from jupyter_server.serverapp import ServerApp
app = ServerApp(allow_root=True, jpserver_extensions={})
app.initialize(argv=[], find_extensions=False, new_httpserver=False)
t = time.perf_counter()
import jupyter_envmod
jupyter_envmod._load_jupyter_server_extension(app)
print(time.perf_counter() - t)
"""
    runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True).strip()) for _ in range(repeat)]
    return statistics.median(runs)


def site_seconds(repeat: int) -> tuple[float, float]:
    from traitlets.config import Config

    from jupyter_envmod.config import load_envmod
    from jupyter_envmod.manager import EnvModManager

    async def once() -> tuple[float, float]:
        manager = EnvModManager(load_envmod(Config()))
        t = time.perf_counter()
        await manager.site_info()
        first = time.perf_counter() - t
        t = time.perf_counter()
        await manager.site_info()
        return first, time.perf_counter() - t

    runs = [asyncio.run(once()) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ref = fresh_import_seconds("json", args.repeat)
    server = fresh_import_seconds("jupyter_server.serverapp", args.repeat)
    ours = fresh_import_seconds("jupyter_envmod", args.repeat)
    load = extension_load_seconds(args.repeat)
    first, cached = site_seconds(args.repeat)
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| `import json` (reference) | {ref * 1e3:.2f} ms | 1 |")
    print(f"| `import jupyter_server.serverapp` | {server * 1e3:.1f} ms | {server / ref:.0f}x json |")
    print(f"| `import jupyter_envmod` | {ours * 1e3:.2f} ms | {ours / server:.3f}x server import |")
    print(f"| extension load (config + handlers) | {load * 1e3:.1f} ms | {load / server:.3f}x server import |")
    print(f"| first site detection (thread) | {first * 1e3:.0f} ms | off the event loop |")
    print(f"| cached site info | {cached * 1e6:.0f} µs | {cached / first:.5f}x first |")


if __name__ == "__main__":
    main()
