"""Write the demo site configuration (used by scripts/demo).

Picks the default engine that can work here: rattler with conda-forge when
conda-forge answers from this machine, else venv over PyPI — and says why.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


def conda_forge_answers(timeout: float = 8.0) -> tuple[bool, str]:
    from rattler import Channel

    base = Channel("conda-forge").base_url
    url = str(base).rstrip("/") + "/noarch/repodata.json"
    request = urllib.request.Request(url, method="HEAD")  # noqa: S310 - https URL from rattler
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status < 400, f"{url} answered {response.status}"
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        return False, f"{url} did not answer ({getattr(err, 'reason', err)})"


def main(demo: Path, forced: str) -> None:
    if forced:
        engine, why = forced, f"ENVMOD_DEMO_ENGINE={forced}"
    else:
        ok, detail = conda_forge_answers()
        engine = "rattler" if ok else "venv"
        why = detail + ("; using conda-forge" if ok else "; using PyPI through uv instead")
    config = {
        "EnvMod": {
            "env_dirs": [str(demo / "envs")],
            "kernel_dir": str(demo / "data" / "kernels"),
            "module_dir": str(demo / "modules"),
            "default_engine": engine,
            "channels": ["conda-forge"],
        }
    }
    target = demo / "config" / "jupyter_server_config.json"
    target.write_text(json.dumps(config, indent=2) + "\n")
    print(f"demo engine: {engine} ({why})")
    print(f"demo site configuration: {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), sys.argv[2] if len(sys.argv) > 2 else "")
