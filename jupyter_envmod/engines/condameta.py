"""Reading a conda prefix's ``conda-meta/*.json`` records directly (plain JSON, no
subprocess): shared by the conda engines, listing and export."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..models import Package

_SUBDIR = re.compile(r"^(noarch|(linux|osx|win|emscripten|wasi|zos|freebsd)-[a-z0-9_]+)$")


def read_records(prefix: Path) -> list[dict[str, Any]]:
    """Every package record of the prefix, sorted by name."""
    records = []
    meta = prefix / "conda-meta"
    try:
        with os.scandir(meta) as it:
            entries = list(it)
    except OSError:
        return []
    for entry in entries:
        if entry.name.endswith(".json") and entry.is_file():
            try:
                with open(entry.path, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError):
                continue
            if isinstance(data, dict) and "name" in data and "version" in data:
                records.append(data)
    return sorted(records, key=lambda r: str(r["name"]))


def channel_label(record: dict[str, Any]) -> str:
    """conda-forge for https://conda.anaconda.org/conda-forge/…, else the channel URL."""
    channel = str(record.get("channel") or "")
    if not channel:
        url = str(record.get("url") or "")
        channel = url.rsplit("/", 2)[0] if url.count("/") >= 2 else url
    head, _, last = channel.rstrip("/").rpartition("/")
    if head and _SUBDIR.match(last):  # conda records name the subdir: …/conda-forge/linux-64
        channel = head
    for prefix in ("https://conda.anaconda.org/", "http://conda.anaconda.org/"):
        if channel.startswith(prefix):
            return channel[len(prefix) :].strip("/")
    return channel.rstrip("/")


def requested_names(record: dict[str, Any]) -> bool:
    """Whether the user asked for this package; conda writes the string "None" for
    packages pulled in as dependencies."""
    spec = record.get("requested_spec")
    return bool((spec and spec != "None") or record.get("requested_specs"))


def conda_packages(prefix: Path) -> list[Package]:
    return [
        Package(
            name=str(r["name"]),
            version=str(r["version"]),
            build=str(r.get("build", "")),
            source="conda",
            channel=channel_label(r),
            requested=requested_names(r),
            url=str(r.get("url") or ""),
            sha256=str(r.get("sha256") or ""),
        )
        for r in read_records(prefix)
    ]


def python_version_from_meta(prefix: Path) -> str | None:
    """The python package's version, from the file name conda-meta/python-X.Y.Z-build.json
    (one scandir, no JSON parse)."""
    try:
        with os.scandir(prefix / "conda-meta") as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("python-") and name.endswith(".json"):
                    version = name[len("python-") :].split("-", 1)[0]
                    if version[:1].isdigit():
                        return version
    except OSError:
        return None
    return None
