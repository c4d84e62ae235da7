"""Generated kernels are ordinary static kernelspecs: a running Jupyter Server lists a
new one through the stock /api/kernelspecs without a restart, serves its logo, and
drops it once removed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jupyter_envmod import kernels
from jupyter_envmod.config import EnvMod
from jupyter_envmod.templating import Target, Templates


async def test_new_kernel_appears_and_disappears_without_restart(jp_fetch, jp_data_dir, jp_serverapp):
    envmod = EnvMod(kernel_dir=str(Path(jp_data_dir) / "kernels"))
    before = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert "envmod-live" not in before

    target = Target(
        name="live",
        prefix=Path(sys.prefix),
        engine="venv",
        kind="venv",
        python_version="3.11.7",
        created="2026-11-21T00:00:00Z",
    )
    info = kernels.write_kernel(envmod, Templates(), target, display_name="Live «test»")
    listed = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    spec = listed[info.name]
    assert spec["spec"]["display_name"] == "Live «test»"
    assert spec["spec"]["metadata"]["envmod"]["path"] == sys.prefix
    logo = spec["resources"]["logo-svg"]
    assert logo.endswith(f"/kernelspecs/{info.name}/logo-svg.svg")
    response = await jp_fetch("kernelspecs", info.name, "logo-svg.svg")
    assert response.code == 200
    assert b"<svg" in response.body

    kernels.remove_kernel(envmod, info.name)
    after = json.loads((await jp_fetch("api", "kernelspecs")).body)["kernelspecs"]
    assert info.name not in after
