"""Kernelspecs laid out as ``kernels.write_kernel`` writes them, for tests that need
one without making an environment first (an orphan: its environment is not there)."""

from __future__ import annotations

import json
from pathlib import Path


def orphan_kernelspec(kernel_dir: Path, env_path: Path) -> Path:
    """``<kernel_dir>/envmod-<env name>``: kernel.json with ``metadata.envmod``
    naming ``env_path`` (which must not exist) and launcher.json."""
    name = env_path.name
    spec_dir = kernel_dir / f"envmod-{name}"
    spec_dir.mkdir(parents=True)
    kernel = {
        "argv": [str(env_path / "bin" / "python"), str(spec_dir / "launcher.py"), "-f", "{connection_file}"],
        "display_name": f"Python ({name})",
        "language": "python",
        "interrupt_mode": "signal",
        "env": {},
        "metadata": {
            "debugger": True,
            "envmod": {
                "version": 1,
                "name": name,
                "path": str(env_path),
                "engine": "venv",
                "created": "2024-05-01T10:00:00+00:00",
                "python_version": "3.11.2",
                "modules": [],
            },
        },
    }
    (spec_dir / "kernel.json").write_text(json.dumps(kernel, indent=2))
    (spec_dir / "launcher.json").write_text(json.dumps({"version": 1, "modules": []}))
    return spec_dir
