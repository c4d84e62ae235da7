"""Cost of ``jupyter envmod doctor``: all eleven checks for a user with 200
environments, a 20,000-file pip cache and a full ~/.local site-packages.

Lays out, in a temporary HOME: the 200 environments of bench_list.py (100 conda
prefixes, 100 venvs; each with dist-info for numpy, pip and setuptools) in one env
root; ~/.cache/pip with 20,000 files of 4 KiB in 200 directories;
~/.local/lib/pythonX.Y/site-packages with 100 distributions (none shadowing an
environment's); and 100 kernelspecs written by this tool, half of them orphans.
Then times ``Doctor(envmod).run()`` against the reads it cannot avoid, measured in
the same run: listing the environments (``list_environments``) plus an ``os.walk``
with ``lstat`` of the cache. The module system is passed in, as the server passes
its cached one. An audit hook counts the processes started while the checks run
(none, unless a ``quota`` tool is installed: then one).

Run: python bench/bench_doctor.py [--repeat N]
Figures go to docs/benchmarks.md. Times are medians; the ratio compares with the
reference measured in the same run, since the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_list import CONDA_ENVS, SPAWN_EVENTS, VENVS, lay_out

CACHE_DIRS = 200
CACHE_FILES_PER_DIR = 100
USER_DISTS = 100
KERNELS = 100


def add_dist_infos(root: Path) -> None:
    """What conda and pip leave in site-packages: a dist-info per Python package."""
    for prefix in root.iterdir():
        site = prefix / "lib" / "python3.11" / "site-packages"
        for name, version in (("numpy", "1.26.4"), ("pip", "24.0"), ("setuptools", "70.0.0")):
            dist = site / f"{name}-{version}.dist-info"
            dist.mkdir(parents=True)
            (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
            (dist / "INSTALLER").write_text("conda\n" if prefix.name.startswith("conda") else "uv\n")


def make_cache(cache: Path) -> None:
    block = b"x" * 4096
    for d in range(CACHE_DIRS):
        sub = cache / "http-v2" / f"{d:02x}"
        sub.mkdir(parents=True)
        for f in range(CACHE_FILES_PER_DIR):
            (sub / f"entry{f:03d}").write_bytes(block)


def make_user_site(home: Path) -> None:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    site = home / ".local" / "lib" / f"python{version}" / "site-packages"
    for i in range(USER_DISTS):
        dist = site / f"userpkg{i:03d}-1.0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: userpkg{i:03d}\nVersion: 1.0\n")


def make_kernels(kernel_dir: Path, root: Path) -> None:
    for i in range(KERNELS):
        env = root / (f"venv{i:03d}" if i % 2 == 0 else f"gone{i:03d}")
        spec_dir = kernel_dir / f"envmod-k{i:03d}"
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [str(env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": f"Python 3.11 (k{i:03d})",
            "language": "python",
            "metadata": {"envmod": {"path": str(env), "engine": "venv", "name": f"k{i:03d}"}},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))


def reference(envmod: object, cache: Path) -> int:
    """What any doctor must read: the environments and every file of the cache."""
    from jupyter_envmod.discovery import list_environments

    count = len(list_environments(envmod))  # type: ignore[arg-type]
    for dirpath, _dirs, names in os.walk(cache):
        for name in names:
            os.lstat(os.path.join(dirpath, name))
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="envmod-bench-doctor-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        os.environ["HOME"] = str(home)
        for var in ("CONDA_ENVS_PATH", "CONDARC", "CONDA_ROOT", "CONDA_PREFIX", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ.pop(var, None)
        for var in ("PYTHONPATH", "PIP_USER", "PIP_CONFIG_FILE", "PIP_CACHE_DIR", "UV_CACHE_DIR", "RATTLER_CACHE_DIR"):
            os.environ.pop(var, None)
        root = Path(tmp) / "envs"
        lay_out(root)
        add_dist_infos(root)
        cache = home / ".cache" / "pip"
        make_cache(cache)
        make_user_site(home)
        kernel_dir = Path(tmp) / "kernels"
        make_kernels(kernel_dir, root)

        from jupyter_envmod.config import EnvMod
        from jupyter_envmod.doctor import Doctor
        from jupyter_envmod.siteinfo import detect_module_system

        envmod = EnvMod(
            env_dirs=[str(root)],
            kernel_dir=str(kernel_dir),
            module_dir=str(Path(tmp) / "modules"),
            activate_dir=str(Path(tmp) / "activate"),
        )
        module_system = detect_module_system()

        spawned: list[str] = []
        listening = False

        def audit(event: str, _args: tuple[object, ...]) -> None:
            if listening and event in SPAWN_EVENTS:
                spawned.append(event)

        sys.addaudithook(audit)

        doctor = Doctor(envmod, module_system=module_system)
        listening = True
        t = time.perf_counter()
        checks = doctor.run()
        first = time.perf_counter() - t
        listening = False
        status = {c.id: c.status for c in checks}
        # a bench checks what it measured: the problems laid out are the ones found
        assert status["caches"] == "warning", status  # noqa: S101
        assert status["user-site"] == "warning", status  # noqa: S101
        assert status["orphan-kernels"] == "warning", status  # noqa: S101
        orphans = next(c for c in checks if c.id == "orphan-kernels")
        assert len(orphans.details) == KERNELS // 2, orphans.details  # noqa: S101

        ours: list[float] = []
        ref: list[float] = []
        for _ in range(args.repeat):  # interleaved, so both see the same load
            t = time.perf_counter()
            reference(envmod, cache)
            ref.append(time.perf_counter() - t)
            listening = True
            t = time.perf_counter()
            Doctor(envmod, module_system=module_system).run()
            ours.append(time.perf_counter() - t)
            listening = False
        walk, run = statistics.median(ref), statistics.median(ours)
        quota = 1 if shutil.which("quota") else 0

    files = CACHE_DIRS * CACHE_FILES_PER_DIR
    print(f"{CONDA_ENVS + VENVS} environments, {files} cache files, {USER_DISTS} user distributions, {KERNELS} kernels")
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| environments listed + cache walked with lstat (reference) | {walk * 1e3:.0f} ms | 1 |")
    print(f"| `Doctor.run()`, all eleven checks | {run * 1e3:.0f} ms | {run / walk:.2f}x reference |")
    print(f"| first run in the process | {first * 1e3:.0f} ms | {first / walk:.2f}x reference |")
    print(f"| processes started per run (expected: {quota}, the quota tool) | {len(spawned) / (args.repeat + 1):g} | |")
    met = run / walk <= 2 and len(spawned) == quota * (args.repeat + 1)
    print(f"target (<= 2x the reference, no subprocess but quota): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
