"""Listing cost of jupyter_envmod: 200 environments through the core.

Lays out 100 conda prefixes (about 30 conda-meta records each, written as
conda/rattler write them, including a python record and bin/python) and 100 venvs
(pyvenv.cfg, bin/python) in a temporary root, then times
``discovery.list_environments(EnvMod(env_dirs=[root]))`` against a bare
``os.scandir`` walk of the same root (the root plus each environment directory),
measured in the same run. HOME is a temporary directory and CONDA_ENVS_PATH/CONDARC
are unset, so only that root is read. An audit hook counts every process started
while listing (there must be none).

Run: python bench/bench_list.py [--repeat N]
Figures go to docs/benchmarks.md. Times are medians; the ratio column compares with
the scandir walk measured in the same run, since the machine is shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

CONDA_ENVS = 100
VENVS = 100
#: (name, version, build, number of files) of the records in each conda prefix
RECORDS = [
    ("_libgcc_mutex", "0.1", "conda_forge", 0),
    ("_openmp_mutex", "4.5", "2_gnu", 2),
    ("bzip2", "1.0.8", "hd590300_5", 12),
    ("ca-certificates", "2024.2.2", "hbcca054_0", 3),
    ("ld_impl_linux-64", "2.40", "h41732ed_0", 4),
    ("libblas", "3.9.0", "21_linux64_openblas", 2),
    ("libcblas", "3.9.0", "21_linux64_openblas", 2),
    ("libexpat", "2.6.2", "h59595ed_0", 8),
    ("libffi", "3.4.2", "h7f98852_5", 9),
    ("libgcc-ng", "13.2.0", "h77fa898_7", 40),
    ("libgfortran-ng", "13.2.0", "h69a702a_7", 6),
    ("libgfortran5", "13.2.0", "hca663fb_7", 6),
    ("libgomp", "13.2.0", "h77fa898_7", 4),
    ("liblapack", "3.9.0", "21_linux64_openblas", 2),
    ("libnsl", "2.0.1", "hd590300_0", 4),
    ("libopenblas", "0.3.27", "pthreads_h413a1c8_0", 20),
    ("libsqlite", "3.45.3", "h2797004_0", 6),
    ("libstdcxx-ng", "13.2.0", "hc0a3c3a_7", 60),
    ("libuuid", "2.38.1", "h0b41bf4_0", 6),
    ("libxcrypt", "4.4.36", "hd590300_1", 10),
    ("libzlib", "1.2.13", "hd590300_5", 8),
    ("ncurses", "6.5", "h59595ed_0", 120),
    ("numpy", "1.26.4", "py311h64a7726_0", 300),
    ("openssl", "3.3.0", "h4ab18f5_3", 80),
    ("pip", "24.0", "pyhd8ed1ab_0", 250),
    ("python", "3.11.9", "hb806964_0_cpython", 800),
    ("readline", "8.2", "h8228510_1", 20),
    ("setuptools", "70.0.0", "pyhd8ed1ab_0", 200),
    ("tk", "8.6.13", "noxft_h4845f30_101", 150),
    ("tzdata", "2024a", "h0c530f3_0", 30),
]
CHANNEL = "https://conda.anaconda.org/conda-forge"
SPAWN_EVENTS = ("subprocess.Popen", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec", "os.spawn", "os.system")


def conda_record(prefix: Path, name: str, version: str, build: str, nfiles: int) -> dict[str, object]:
    """A conda-meta record with the fields rattler's PrefixRecord writes."""
    subdir = "noarch" if build.startswith("pyhd") else "linux-64"
    fn = f"{name}-{version}-{build}.conda"
    digest = hashlib.sha256(fn.encode()).hexdigest()
    files = [f"lib/{name}/file{i}.dat" for i in range(nfiles)]
    return {
        "arch": None if subdir == "noarch" else "x86_64",
        "build": build,
        "build_number": 0,
        "depends": ["libgcc-ng >=12", "python >=3.11,<3.12.0a0"] if name in ("numpy", "pip") else ["libgcc-ng >=12"],
        "license": "BSD-3-Clause",
        "md5": hashlib.md5(fn.encode(), usedforsecurity=False).hexdigest(),
        "name": name,
        "platform": None if subdir == "noarch" else "linux",
        "sha256": digest,
        "size": 12345 + nfiles * 1000,
        "subdir": subdir,
        "timestamp": 1715000000000,
        "version": version,
        "fn": fn,
        "url": f"{CHANNEL}/{subdir}/{fn}",
        "channel": CHANNEL,
        "extracted_package_dir": f"/home/user/.cache/rattler/cache/pkgs/{fn[: -len('.conda')]}",
        "files": files,
        "paths_data": {
            "paths_version": 1,
            "paths": [
                {"_path": f, "path_type": "hardlink", "sha256": digest, "size_in_bytes": 1000 + i}
                for i, f in enumerate(files)
            ],
        },
        "link": {"source": f"/home/user/.cache/rattler/cache/pkgs/{fn[: -len('.conda')]}", "type": 1},
        "requested_spec": name if name in ("python", "numpy") else None,
    }


def make_conda_prefix(prefix: Path) -> None:
    meta = prefix / "conda-meta"
    meta.mkdir(parents=True)
    for name, version, build, nfiles in RECORDS:
        record = conda_record(prefix, name, version, build, nfiles)
        (meta / f"{name}-{version}-{build}.json").write_text(json.dumps(record, indent=1))
    (meta / "history").write_text(f"==> 2026-11-21 10:00:00 <==\n# cmd: rattler create -p {prefix}\n")
    (prefix / "bin").mkdir()
    os.symlink(sys.executable, prefix / "bin" / "python")
    os.symlink("python", prefix / "bin" / "python3")
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (prefix / "include").mkdir()
    (prefix / "share").mkdir()


def make_venv(prefix: Path) -> None:
    (prefix / "bin").mkdir(parents=True)
    (prefix / "pyvenv.cfg").write_text(
        f"home = {os.path.dirname(os.path.realpath(sys.executable))}\n"
        "include-system-site-packages = false\nversion = 3.11.9\n"
        f"executable = {os.path.realpath(sys.executable)}\ncommand = {sys.executable} -m venv {prefix}\n"
    )
    os.symlink(sys.executable, prefix / "bin" / "python")
    os.symlink("python", prefix / "bin" / "python3")
    for script in ("activate", "activate.csh", "activate.fish", "pip"):
        (prefix / "bin" / script).write_text("# script\n")
    (prefix / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (prefix / "include").mkdir()


def lay_out(root: Path) -> None:
    for i in range(CONDA_ENVS):
        make_conda_prefix(root / f"conda{i:03d}")
    for i in range(VENVS):
        make_venv(root / f"venv{i:03d}")


def scandir_walk(root: Path) -> int:
    """The reference: scandir of the root plus scandir of each environment directory."""
    count = 0
    with os.scandir(root) as it:
        dirs = [e.path for e in it if e.is_dir()]
    for path in dirs:
        with os.scandir(path) as it:
            count += sum(1 for _ in it)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="envmod-bench-list-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        os.environ["HOME"] = str(home)
        for var in ("CONDA_ENVS_PATH", "CONDARC", "CONDA_ROOT", "CONDA_PREFIX", "XDG_CONFIG_HOME"):
            os.environ.pop(var, None)
        root = Path(tmp) / "envs"
        lay_out(root)

        spawned: list[str] = []
        listening = False

        def audit(event: str, _args: tuple[object, ...]) -> None:
            if listening and event in SPAWN_EVENTS:
                spawned.append(event)

        sys.addaudithook(audit)

        from jupyter_envmod.config import EnvMod
        from jupyter_envmod.discovery import list_environments

        envmod = EnvMod(env_dirs=[str(root)])
        listening = True
        t = time.perf_counter()
        envs = list_environments(envmod)
        first = time.perf_counter() - t
        listening = False
        kinds = sorted({(e.kind, e.state) for e in envs})
        assert len(envs) == CONDA_ENVS + VENVS, len(envs)  # noqa: S101 - a bench checks what it measured
        assert kinds == [("conda", "ready"), ("venv", "ready")], kinds  # noqa: S101
        assert all(e.python_version == "3.11.9" for e in envs)  # noqa: S101

        ours: list[float] = []
        ref: list[float] = []
        for _ in range(args.repeat):  # interleaved, so both see the same load
            t = time.perf_counter()
            scandir_walk(root)
            ref.append(time.perf_counter() - t)
            listening = True
            t = time.perf_counter()
            list_environments(envmod)
            ours.append(time.perf_counter() - t)
            listening = False
        walk, listing = statistics.median(ref), statistics.median(ours)

    print(f"{len(envs)} environments, {args.repeat} runs, subprocesses started while listing: {len(spawned)}")
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| bare `os.scandir` walk of the same root (reference) | {walk * 1e3:.2f} ms | 1 |")
    print(f"| `list_environments`, 200 environments | {listing * 1e3:.1f} ms | {listing / walk:.1f}x scandir |")
    print(f"| first listing in the process | {first * 1e3:.1f} ms | {first / walk:.1f}x scandir |")
    print(f"| processes started while listing ({args.repeat + 1} listings) | {len(spawned)} | |")
    met = listing < 0.050 and listing / walk <= 5 and not spawned
    print(f"target (< 50 ms, <= 5x scandir, no subprocess): {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
