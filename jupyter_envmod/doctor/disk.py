"""Checks of disk use: package caches in the home directory (``caches``) and free
space, inodes and quota of $HOME and the environment directories (``disk-space``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .results import OK, PROBLEM, WARNING, Outcome, failed, make_check
from .userfiles import inside

if TYPE_CHECKING:
    from .runner import Doctor

GIB = 1024**3
#: free space / free inodes below which disk-space reports a problem, resp. a warning
PROBLEM_FREE, WARNING_FREE = 1 * GIB, 5 * GIB
PROBLEM_INODES, WARNING_INODES = 2.0, 10.0
QUOTA_TIMEOUT = 10.0  # seconds; `quota` on a busy login node (NFS) can hang
QUOTA_LINES = 20  # lines of its output kept in the details


def human_size(size: float) -> str:
    """``size`` bytes as "512 B", "3.0 MiB", "1.2 GiB"."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _disk_usage(top: Path) -> int:
    """Bytes used on disk below ``top`` (like ``du``: allocated blocks, each hard-linked
    file once, symlinks not followed), by an ``os.scandir`` walk."""
    total = 0
    linked: set[tuple[int, int]] = set()
    stack = [str(top)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
            elif st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in linked:
                    continue
                linked.add(key)
            total += st.st_blocks * 512
    return total


def _rmtree(path: Path) -> None:
    """Remove a directory tree, also one with read-only directories in it (some tools
    write their caches so)."""
    try:
        shutil.rmtree(path)
        return
    except PermissionError:
        pass
    stack = [str(path)]
    while stack:
        directory = stack.pop()
        with contextlib.suppress(OSError):
            os.chmod(directory, stat.S_IMODE(os.lstat(directory).st_mode) | stat.S_IRWXU)
        try:
            with os.scandir(directory) as it:
                stack.extend(e.path for e in it if e.is_dir(follow_symlinks=False))
        except OSError:
            continue
    shutil.rmtree(path)


def _empty_directory(directory: Path) -> None:
    """Delete everything inside ``directory``, keeping the directory itself."""
    with os.scandir(directory) as it:
        entries = list(it)
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            _rmtree(Path(entry.path))
        else:
            os.unlink(entry.path)


# -- caches ------------------------------------------------------------------------------------


def _cache_dirs(doctor: Doctor) -> list[tuple[str, Path]]:
    """(label, directory) of the package caches that lie in $HOME, each once."""
    home, environ = doctor.home, doctor.environ
    xdg = Path(environ.get("XDG_CACHE_HOME") or home / ".cache")
    candidates: list[tuple[str, Path]] = [
        ("pip cache", Path(environ.get("PIP_CACHE_DIR") or xdg / "pip")),
        ("uv cache", Path(environ.get("UV_CACHE_DIR") or xdg / "uv")),
        ("rattler cache", Path(environ.get("RATTLER_CACHE_DIR") or xdg / "rattler")),
        ("conda package cache", home / ".conda" / "pkgs"),
        ("mamba package cache", home / ".mamba" / "pkgs"),
    ]
    if doctor.envmod.cache_dir:
        with contextlib.suppress(ValueError):
            candidates.append(("jupyter envmod cache (EnvMod.cache_dir)", Path(doctor.envmod.expanded("cache_dir"))))
    present = [
        (label, Path(os.path.expanduser(path)))
        for label, path in candidates
        if os.path.isdir(os.path.expanduser(path)) and inside(os.path.expanduser(path), home)
    ]
    result: list[tuple[str, Path]] = []
    reals = [os.path.realpath(p) for _, p in present]
    for i, (label, path) in enumerate(present):
        real = reals[i]
        # one cache inside another (e.g. cache_dir = ~/.cache) is counted with the outer one
        if any(j != i and other != real and inside(real, other) for j, other in enumerate(reals)):
            continue
        if real in reals[:i]:
            continue
        result.append((label, path))
    return result


def caches(doctor: Doctor) -> Outcome:
    cid = "caches"
    sized = [(label, path, _disk_usage(path)) for label, path in _cache_dirs(doctor)]
    full = [(label, path, size) for label, path, size in sized if any(path.iterdir())]
    if not full:
        explanation = "pip, uv, rattler, conda and mamba keep no downloaded packages in your home directory."
        return make_check(cid, OK, f"No package caches with content in {doctor.home}", explanation), None
    total = sum(size for _, _, size in full)
    details = [f"{label}: {path} — {human_size(size)}" for label, path, size in full]
    explanation = (
        "Package caches in your home directory count against its quota, and home directories are often "
        "small. Deleting them is safe: packages are downloaded again when needed. To keep them out of $HOME "
        "for good, ask your site to set EnvMod.cache_dir (e.g. to scratch space), or set PIP_CACHE_DIR, "
        "UV_CACHE_DIR and conda's pkgs_dirs yourself."
    )
    summary = f"{len(full)} package cache(s) in {doctor.home} hold {human_size(total)}"
    check = make_check(cid, WARNING, summary, explanation, details)
    check.fix = "Delete the contents of " + "; ".join(f"{path} ({human_size(size)})" for _, path, size in full)

    def apply(changed: list[str]) -> str:
        errors: list[str] = []
        done: list[str] = []
        for _, path, size in full:
            try:
                _empty_directory(path)
            except OSError as err:
                errors.append(f"{path}: {err}")
                continue
            changed.append(str(path))
            done.append(f"{path} ({human_size(size)})")
        return failed(errors, f"Emptied {', '.join(done)}." if done else "")

    return check, apply


# -- disk-space --------------------------------------------------------------------------------


def _space(path: Path) -> tuple[str, str]:
    """(status, detail line) for the file system holding ``path``."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    total = st.f_blocks * st.f_frsize
    used = 100.0 * (total - st.f_bfree * st.f_frsize) / total if total else 0.0
    status = PROBLEM if free < PROBLEM_FREE else WARNING if free < WARNING_FREE else OK
    line = f"{path}: {human_size(free)} free of {human_size(total)} ({used:.0f}% used)"
    if st.f_files:
        inodes = 100.0 * st.f_favail / st.f_files
        line += f", {st.f_favail:,} of {st.f_files:,} inodes free ({inodes:.1f}%)"
        if inodes < PROBLEM_INODES:
            status = PROBLEM
        elif inodes < WARNING_INODES and status == OK:
            status = WARNING
    else:
        line += ", inode counts not reported by this file system"
    return status, line


def _quota(doctor: Doctor) -> list[str]:
    import subprocess

    tool = shutil.which("quota", path=doctor.environ.get("PATH", os.defpath))
    if tool is None:
        return ["no quota tool found on PATH: ask your site how to see your quotas"]
    try:
        proc = subprocess.run(
            [tool],
            capture_output=True,
            text=True,
            timeout=QUOTA_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
            env=doctor.environ,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return [f"{tool} could not be run: {err}"]
    lines = [line.rstrip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    shown = [f"quota: {line}" for line in lines[:QUOTA_LINES]]
    if len(lines) > QUOTA_LINES:
        shown.append(f"quota: … ({len(lines) - QUOTA_LINES} more lines)")
    if proc.returncode != 0:
        shown.append(f"{tool} exited with status {proc.returncode}")
    return shown or [f"{tool} printed nothing"]


def disk_space(doctor: Doctor) -> Outcome:
    cid = "disk-space"
    rank = {OK: 0, WARNING: 1, PROBLEM: 2}
    worst = OK
    details: list[str] = []
    tight: list[str] = []
    places = [("$HOME", doctor.home)] + [("environment directory", root) for root in doctor.envmod.env_roots]
    seen: set[str] = set()
    checked: list[str] = []
    for _, path in places:
        if str(path) in seen:
            continue
        seen.add(str(path))
        if not path.exists():
            details.append(f"{path}: does not exist yet (it is made with the first environment)")
            continue
        try:
            status, line = _space(path)
        except OSError as err:
            details.append(f"{path}: cannot be checked ({err.strerror})")
            worst = max(worst, WARNING, key=rank.__getitem__)
            continue
        details.append(line)
        checked.append(str(path))
        if status != OK:
            tight.append(str(path))
        worst = max(worst, status, key=rank.__getitem__)
    details += _quota(doctor)
    explanation = (
        "Creating environments and installing packages fails half way when a file system is full or out of "
        "inodes (many small files). Delete environments you no longer use, empty the package caches, or ask "
        "your site for more space; quotas can be tighter than the free space shown."
    )
    if worst == OK:
        summary = f"Enough free space and inodes in {', '.join(checked)}"
    else:
        summary = f"Little free space or few free inodes in {', '.join(tight)}"
    return make_check(cid, worst, summary, explanation, details), None
