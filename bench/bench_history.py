"""Costs that revisions and group-shared environments add to every change.

1. Recording: ``history.record`` of a 300-package snapshot (what a change writes
   once before — when the environment changed outside — and once after), and
   ``history.revisions`` reading 100 such revisions (``jupyter envmod history``,
   ``GET …/history``), against ``json.dumps``/``json.loads`` of the same data in
   memory, measured in the same run.
2. The permissions pass in a shared root: ``sharing.fix_permissions`` over a tree of
   10,000 files in 500 directories, the first pass (every entry changed) and a pass
   with nothing to do, against a bare ``os.walk`` + ``lstat`` of the same tree. The
   shared group is the current user's own group, so no group has to exist.

Run: python bench/bench_history.py [--repeat N]
Figures go to docs/benchmarks.md. Times are medians.
"""

from __future__ import annotations

import argparse
import grp
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_envmod import history, sharing
from jupyter_envmod.config import EnvMod
from jupyter_envmod.history import Snapshot

PACKAGES = 300
REVISIONS = 100
DIRS = 500
FILES_PER_DIR = 20


def snapshot(n: int, salt: int) -> Snapshot:
    conda = [
        {
            "name": f"pkg{i}",
            "version": f"1.{(i + salt) % 7}",
            "build": "h0123456_0",
            "channel": "conda-forge",
            "url": f"https://conda.anaconda.org/conda-forge/linux-64/pkg{i}-1.{(i + salt) % 7}-h0123456_0.conda",
            "sha256": "ab" * 32,
            "md5": "cd" * 16,
            "requested": [f"pkg{i}"] if i % 20 == 0 else [],
        }
        for i in range(n - 20)
    ]
    pip = [{"name": f"pip{i}", "version": "2.0", "pin": f"pip{i}==2.0", "requested": i < 3} for i in range(20)]
    return Snapshot(conda=conda, pip=pip)


def median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_history(root: Path, repeat: int) -> None:
    prefix = root / "env"
    prefix.mkdir()
    snaps = [snapshot(PACKAGES, k) for k in range(REVISIONS)]
    count = iter(range(10**9))

    def record() -> None:
        history.record(prefix, "install", snaps[next(count) % REVISIONS], request={"specs": ["x"]})

    t_record = median(record, repeat)
    # exactly REVISIONS files for the read
    for path in history.history_dir(prefix).iterdir():
        path.unlink()
    for snap in snaps:
        history.record(prefix, "install", snap)
    t_read = median(lambda: history.revisions(prefix), repeat)
    payload = [history.latest(prefix).to_json()] * REVISIONS  # type: ignore[union-attr]
    t_json = median(lambda: [json.loads(json.dumps(p)) for p in payload], repeat)
    size = sum(p.stat().st_size for p in history.history_dir(prefix).iterdir()) / REVISIONS
    print(f"record one revision ({PACKAGES} packages, diff included): {t_record * 1000:.2f} ms")
    print(f"read {REVISIONS} revisions: {t_read * 1000:.1f} ms; json round trip of the same: {t_json * 1000:.1f} ms")
    print(f"  ratio {t_read / t_json:.2f}x; {size / 1024:.1f} KiB per revision")


def bench_permissions(root: Path, repeat: int) -> None:
    shared = root / "shared"
    shared.mkdir()
    prefix = shared / "env"
    prefix.mkdir()
    for d in range(DIRS):
        sub = prefix / f"lib/d{d // 50}/p{d}"
        sub.mkdir(parents=True)
        for f in range(FILES_PER_DIR):
            (sub / f"f{f}.py").write_bytes(b"x")
    envmod = EnvMod(shared_roots=[str(shared)], shared_group=grp.getgrgid(os.getgid()).gr_name)

    def walk() -> None:
        for top, dirs, files in os.walk(prefix):
            for name in dirs + files:
                os.lstat(os.path.join(top, name))

    firsts = []
    for _ in range(repeat):
        for top, dirs, files in os.walk(prefix):  # back to the user's own modes
            for name in dirs:
                os.chmod(os.path.join(top, name), 0o755)  # noqa: S103 - a temporary tree, reset to umask 022 modes
            for name in files:
                os.chmod(os.path.join(top, name), 0o644)
        start = time.perf_counter()
        changed = sharing.fix_permissions(envmod, prefix)
        firsts.append(time.perf_counter() - start)
    t_first = statistics.median(firsts)
    t_again = median(lambda: sharing.fix_permissions(envmod, prefix), repeat)
    t_walk = median(walk, repeat)
    entries = DIRS * (FILES_PER_DIR + 1)
    print(f"fix_permissions, {entries} entries: first pass {t_first * 1000:.0f} ms ({changed} changed), ", end="")
    print(f"nothing to do {t_again * 1000:.0f} ms; os.walk + lstat {t_walk * 1000:.0f} ms")
    print(f"  ratios {t_first / t_walk:.2f}x and {t_again / t_walk:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="envmod-bench-history-") as tmp:
        bench_history(Path(tmp), args.repeat)
        bench_permissions(Path(tmp), args.repeat)


if __name__ == "__main__":
    main()
