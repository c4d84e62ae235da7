"""A local ``file://`` conda channel for tests, built offline with py-rattler-build.

No conda channel is reachable from CI, so the rattler engine's tests solve and
install against this one. :func:`build_local_channel` packs each package with
``rattler_build.assemble_package`` and indexes the channel with
``rattler.index.index_fs``. Contents:

- ``python`` X.Y.Z (linux-64, the host interpreter's version): a venv laid over the
  host interpreter — ``pyvenv.cfg``, ``bin/pythonX.Y`` (absolute symlink to the host's
  real binary), ``bin/python`` and ``bin/python3`` (→ ``pythonX.Y``) and an empty
  ``lib/pythonX.Y/site-packages/``. After install ``<prefix>/bin/python`` runs with
  ``sys.prefix == <prefix>``. A second record labelled X.Y.(Z-1) (same binary) lets
  tests ask for a python version other than the newest. A test fixture only: never
  ship a fake ``python`` package to users.
- noarch generic: ``alpha`` 1.0 and 2.0 (``share/alpha/VERSION``), ``beta`` 1.0
  (depends ``alpha``), ``gamma`` 1.0 (depends ``alpha <2``), ``needsmissing`` 1.0
  (depends ``doesnotexist``: unsatisfiable).
- noarch python: ``tinypy`` 1.0 and 1.1 (``site-packages/tinypy/__init__.py`` with
  ``VERSION``).
- ``slowpkg`` 1.0 (noarch generic, ``.tar.bz2`` written with :mod:`tarfile`): 10,000
  small files under ``share/slowpkg/``, so that its install takes a few seconds
  (2.5-5 s measured on 2 cores, almost all of it extraction into the package cache)
  — for cancel tests.

The whole build takes ~1-1.5 s.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import sys
import tarfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

#: slowpkg's size: SLOW_DIRS directories of SLOW_FILES files each.
SLOW_DIRS = 50
SLOW_FILES = 200

_TIMESTAMP = datetime(2024, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class LocalChannel:
    """A built channel: its directory, its ``file://`` URL and the version of its
    newest ``python`` package (the host's X.Y.Z)."""

    path: Path
    url: str
    python_version: str
    #: the other, older-labelled python record (X.Y.(Z-1), or the same as python_version when Z is 0)
    other_python_version: str


def _pack(
    out: Path,
    stage: Path,
    name: str,
    version: str,
    *,
    platform: str = "noarch",
    noarch: str | None = "generic",
    depends: list[str] | None = None,
    build: str = "0",
    compression_level: int = 1,
) -> None:
    from rattler_build import assemble_package

    assemble_package(
        name=name,
        version=version,
        target_platform=platform,
        build_string=build,
        output_dir=str(out / platform),
        files_dir=str(stage),
        depends=depends or [],
        noarch=noarch,
        detect_prefix=False,
        timestamp=_TIMESTAMP,
        compression_level=compression_level,
    )


def _stage(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _python_stage(root: Path, version: str) -> Path:
    """The files of the fake ``python`` package: a venv over the host interpreter."""
    major_minor = ".".join(version.split(".")[:2])
    real = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    home = os.path.dirname(real)
    stage = _stage(
        root,
        {
            "pyvenv.cfg": f"home = {home}\ninclude-system-site-packages = false\nversion = {version}\n",
            f"lib/python{major_minor}/site-packages/.envmod-placeholder": "",
        },
    )
    (stage / "bin").mkdir()
    os.symlink(real, stage / "bin" / f"python{major_minor}")
    os.symlink(f"python{major_minor}", stage / "bin" / "python")
    os.symlink(f"python{major_minor}", stage / "bin" / "python3")
    return stage


def _slowpkg(subdir: Path) -> None:
    """Write ``slowpkg-1.0-0.tar.bz2`` (SLOW_DIRS x SLOW_FILES small files) directly
    with :mod:`tarfile`: rattler-build packs such a package ~5x slower (its cost is per
    file), and installing it costs the same either way (extraction is per file too)."""
    payload = b"x" * 64 + b"\n"
    digest = hashlib.sha256(payload).hexdigest()
    paths = [f"share/slowpkg/d{d:03d}/f{f:03d}.txt" for d in range(SLOW_DIRS) for f in range(SLOW_FILES)]
    index = {
        "name": "slowpkg",
        "version": "1.0",
        "build": "0",
        "build_number": 0,
        "depends": [],
        "noarch": "generic",
        "subdir": "noarch",
        "timestamp": int(_TIMESTAMP.timestamp() * 1000),
    }
    paths_json = {
        "paths": [
            {"_path": p, "path_type": "hardlink", "sha256": digest, "size_in_bytes": len(payload)} for p in paths
        ],
        "paths_version": 1,
    }
    with tarfile.open(subdir / "slowpkg-1.0-0.tar.bz2", "w:bz2", compresslevel=1) as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(_TIMESTAMP.timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))

        add("info/index.json", json.dumps(index).encode())
        add("info/paths.json", json.dumps(paths_json).encode())
        add("info/files", ("\n".join(paths) + "\n").encode())
        for path in paths:
            add(path, payload)


def build_local_channel(root: Path) -> LocalChannel:
    """Build and index the channel under ``root`` (an empty directory)."""
    from rattler import Subdir

    out = root / "channel"
    for subdir in ("noarch", str(Subdir.current())):
        (out / subdir).mkdir(parents=True)
    stages = root / "stage"

    info = sys.version_info
    version = f"{info.major}.{info.minor}.{info.micro}"
    other = f"{info.major}.{info.minor}.{max(info.micro - 1, 0)}"
    for v in dict.fromkeys([version, other]):
        _pack(
            out,
            _python_stage(stages / f"python-{v}", v),
            "python",
            v,
            platform=str(Subdir.current()),
            noarch=None,
            build="0_envmodtest",
        )

    for v in ("1.0", "2.0"):
        _pack(out, _stage(stages / f"alpha-{v}", {"share/alpha/VERSION": f"{v}\n"}), "alpha", v)
    _pack(out, _stage(stages / "beta", {"share/beta/README": "beta\n"}), "beta", "1.0", depends=["alpha"])
    _pack(out, _stage(stages / "gamma", {"share/gamma/README": "gamma\n"}), "gamma", "1.0", depends=["alpha <2"])
    _pack(
        out,
        _stage(stages / "needsmissing", {"share/needsmissing/README": "x\n"}),
        "needsmissing",
        "1.0",
        depends=["doesnotexist"],
    )
    for v in ("1.0", "1.1"):
        files = {"site-packages/tinypy/__init__.py": f'VERSION = "{v}"\n'}
        _pack(
            out, _stage(stages / f"tinypy-{v}", files), "tinypy", v, noarch="python", depends=["python"], build="py_0"
        )
    _slowpkg(out / "noarch")

    index_channel(out)
    return LocalChannel(path=out, url=out.as_uri(), python_version=version, other_python_version=other)


def build_ipykernel_channel(root: Path) -> str:
    """A second ``file://`` channel with one package, ``ipykernel``: the real
    ipykernel and all its dependencies from the pip index (uv ``--target`` for this
    interpreter), packed as one noarch-python conda package. A stand-in for
    conda-forge's ipykernel, which cannot be reached from here; it runs real kernels,
    but only under the host's Python (it carries pyzmq's compiled extension). Returns
    the channel URL."""
    import shutil
    import subprocess

    import uv

    out = root / "channel"
    (out / "noarch").mkdir(parents=True)
    stage = root / "stage"
    site = stage / "site-packages"
    subprocess.run(
        [uv.find_uv_bin(), "pip", "install", "--quiet", "--python", sys.executable, "--target", str(site), "ipykernel"],
        check=True,
    )
    # console scripts and data files land beside the modules with --target: not part of a python package
    for extra in ("bin", "share"):
        shutil.rmtree(site / extra, ignore_errors=True)
    # as in conda-forge's packages, pip sees these distributions as conda's
    for installer in site.glob("*.dist-info/INSTALLER"):
        installer.write_text("conda\n")
    [dist] = site.glob("ipykernel-*.dist-info")
    version = dist.name.removeprefix("ipykernel-").removesuffix(".dist-info")
    _pack(out, stage, "ipykernel", version, noarch="python", depends=["python"], build="py_0")
    shutil.rmtree(stage)

    index_channel(out)
    return out.as_uri()


def index_channel(out: Path) -> None:
    """Index the channel directory ``out`` with ``rattler.index.index_fs``, in a
    thread of its own (callable from inside a running event loop too)."""
    from rattler.index import index_fs

    async def indexing() -> None:
        await index_fs(out, write_zst=False, write_shards=False)
        # let rattler's thread finish handing the result over (see rattler_engine's
        # docstring: a process exiting right after a rattler call can crash)
        await asyncio.sleep(0.01)

    worker = threading.Thread(target=lambda: asyncio.run(indexing()))
    worker.start()
    worker.join()
