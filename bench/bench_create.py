"""Cost of creating an environment through jupyter_envmod against the tools by hand.

``venv``: ``Environments.create`` of a venv with ipykernel (engine "venv": uv)
against the same uv commands typed by hand (``uv venv --python X.Y PATH``, then
``uv pip install --python PATH/bin/python ipykernel``) with the same warm uv cache,
and against the recipe many sites document (``python -m venv PATH``, then
``PATH/bin/pip install ipykernel``, pip's cache warm too). Needs PyPI or the
site's index.

``conda``: ``Environments.create`` of a conda environment (engine "rattler") on
the local ``file://`` channel that tests/localchannel.py builds, against
``rattler.solve`` + ``rattler.install`` called directly with the same specs and
the same package cache. Works offline.

Every cache is warmed once before timing; the runs of the compared recipes are
interleaved so that they see the same load. HOME is a temporary directory for the
run (nothing is written to the real one).

Run: python bench/bench_create.py venv [--repeat N] [--pip-repeat N]
     python bench/bench_create.py conda [--repeat N] [--large-repeat N]
Figures go to docs/benchmarks.md. Times are medians; the ratio columns compare
with the hand-run recipe measured in the same run, since the machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_envmod.config import EnvMod
    from jupyter_envmod.operations import CreateOptions

ROOT = Path(__file__).resolve().parent.parent
PY = f"{sys.version_info.major}.{sys.version_info.minor}"
#: conda packages asked for in the conda benchmark (python comes from the create's python version)
CONDA_PACKAGES = ["alpha", "beta", "gamma", "tinypy"]


def private_home(tmp: Path) -> None:
    """Point HOME (and what hangs off it) at ``tmp`` so nothing lands in the real home."""
    home = tmp / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    os.environ["JUPYTER_DATA_DIR"] = str(home / "jupyter-data")
    for var in ("CONDA_ENVS_PATH", "CONDARC", "CONDA_PREFIX", "VIRTUAL_ENV", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ.pop(var, None)


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def core_create(envmod: EnvMod, opts: CreateOptions) -> float:
    """Seconds for ``Environments.create(opts)`` until its task finished; it must succeed."""
    from jupyter_envmod.operations import Environments

    async def run() -> float:
        t = time.perf_counter()
        task = Environments(envmod).create(opts)
        await task.wait()
        elapsed = time.perf_counter() - t
        if task.state != "succeeded":
            lines, _ = task.log_since(0)
            sys.exit(f"create failed: {task.error}\n" + "\n".join(line["line"] for line in lines[-30:]))
        return elapsed

    return asyncio.run(run())


def fresh_python(code: str) -> float:
    """Seconds for a fresh interpreter running ``code``."""
    return timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def median_ms(runs: list[float]) -> str:
    value = statistics.median(runs)
    return f"{value:.2f} s" if value >= 10 else f"{value * 1e3:.0f} ms"


# -- venv ---------------------------------------------------------------------------------


def bench_venv(repeat: int, pip_repeat: int) -> None:
    from jupyter_envmod.config import EnvMod
    from jupyter_envmod.engines.pip import UvPip, uv_bin
    from jupyter_envmod.operations import CreateOptions

    tmp = Path(tempfile.mkdtemp(prefix="envmod-bench-create-"))
    try:
        private_home(tmp)
        envs, cache = tmp / "envs", tmp / "cache"
        envs.mkdir()
        envmod = EnvMod(env_dirs=[str(envs)], cache_dir=str(cache))
        uv_env = UvPip(envmod).env()  # the same UV_CACHE_DIR (and nothing else) for the hand-run commands
        pip_env = {**uv_env, "PIP_CACHE_DIR": str(cache / "pip"), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        uv = uv_bin()
        hand_dir = tmp / "hand"
        hand_dir.mkdir()
        count = iter(range(1_000_000))

        def core() -> float:
            name = f"core{next(count)}"
            elapsed = core_create(envmod, CreateOptions(name=name, engine="venv", packages=["ipykernel"]))
            shutil.rmtree(envs / name)
            return elapsed

        def run(argv: list[str], env: dict[str, str]) -> None:
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        def uv_by_hand() -> float:
            path = hand_dir / f"uv{next(count)}"

            def steps() -> None:
                run([uv, "venv", "--python", PY, str(path)], uv_env)
                run([uv, "pip", "install", "--python", str(path / "bin" / "python"), "ipykernel"], uv_env)

            elapsed = timed(steps)
            shutil.rmtree(path)
            return elapsed

        base_python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))

        def pip_recipe() -> float:
            path = hand_dir / f"pip{next(count)}"

            def steps() -> None:
                run([base_python, "-m", "venv", str(path)], pip_env)
                run([str(path / "bin" / "pip"), "install", "ipykernel"], pip_env)

            elapsed = timed(steps)
            shutil.rmtree(path)
            return elapsed

        print(f"warming the caches (uv, pip) in {cache} …", file=sys.stderr)
        warm = {"core": core(), "uv": uv_by_hand(), "pip": pip_recipe()}
        print("first (cold) runs: " + ", ".join(f"{k} {v:.1f} s" for k, v in warm.items()), file=sys.stderr)
        ours: list[float] = []
        hand: list[float] = []
        for i in range(repeat):  # interleaved, alternating which goes first
            if i % 2:
                ours.append(core())
                hand.append(uv_by_hand())
            else:
                hand.append(uv_by_hand())
                ours.append(core())
        pips = [pip_recipe() for _ in range(pip_repeat)]
        core_median, hand_median, pip_median = (statistics.median(r) for r in (ours, hand, pips))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"venv with ipykernel, Python {PY}, {repeat} runs ({pip_repeat} for pip), warm caches")
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| `uv venv` + `uv pip install ipykernel` by hand (reference) | {median_ms(hand)} | 1 |")
    print(f"| `Environments.create`, engine venv | {median_ms(ours)} | {core_median / hand_median:.2f}x by hand |")
    print(
        f"| `python -m venv` + `pip install ipykernel` | {median_ms(pips)} | "
        f"{pip_median / hand_median:.1f}x by hand, {pip_median / core_median:.1f}x ours |"
    )
    print(f"target (<= 1.15x uv by hand): {'met' if core_median / hand_median <= 1.15 else 'MISSED'}")


# -- conda --------------------------------------------------------------------------------


def load_localchannel() -> ModuleType:
    """tests/localchannel.py, imported by path (tests/ is not an installed package)."""
    spec = importlib.util.spec_from_file_location("envmod_localchannel", ROOT / "tests" / "localchannel.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/localchannel.py is missing")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def bench_conda(repeat: int, large_repeat: int) -> None:
    import rattler

    from jupyter_envmod.config import EnvMod
    from jupyter_envmod.operations import CreateOptions

    tmp = Path(tempfile.mkdtemp(prefix="envmod-bench-create-"))
    try:
        private_home(tmp)
        envs, cache = tmp / "envs", tmp / "cache"
        envs.mkdir()
        t = time.perf_counter()
        channel = load_localchannel().build_local_channel(tmp / "localchannel")
        print(f"built the local channel in {time.perf_counter() - t:.1f} s: {channel.url}", file=sys.stderr)
        envmod = EnvMod(env_dirs=[str(envs)], cache_dir=str(cache), channels=[channel.url])
        rattler_cache = envmod.cache_path("rattler")
        assert rattler_cache is not None  # noqa: S101 - cache_dir is set above
        # the engine's layout: packages in <cache>/rattler/pkgs, repodata in <cache>/rattler/repodata
        pkgs, repodata = rattler_cache / "pkgs", rattler_cache / "repodata"
        hand_dir = tmp / "hand"
        hand_dir.mkdir()
        count = iter(range(1_000_000))

        def installed(prefix: Path) -> list[str]:
            return sorted(p.name[: -len(".json")] for p in (prefix / "conda-meta").glob("*.json"))

        def core(packages: list[str], solved: list[list[str]]) -> float:
            name = f"core{next(count)}"
            opts = CreateOptions(name=name, engine="rattler", channels=[channel.url], packages=list(packages))
            elapsed = core_create(envmod, opts)
            solved.append(installed(envs / name))
            shutil.rmtree(envs / name)
            return elapsed

        def raw(packages: list[str], solved: list[list[str]]) -> float:
            path = hand_dir / f"raw{next(count)}"

            async def steps() -> None:
                records = await rattler.solve(
                    [channel.url],
                    [f"python {PY}.*", *packages],
                    gateway=rattler.Gateway(cache_dir=repodata),
                    platforms=[rattler.Platform.current(), rattler.Platform("noarch")],
                    virtual_packages=rattler.VirtualPackage.detect(),
                )
                await rattler.install(records, path, cache_dir=pkgs, show_progress=False)

            elapsed = timed(lambda: asyncio.run(steps()))
            solved.append(installed(path))
            shutil.rmtree(path)
            return elapsed

        def compare(packages: list[str], runs: int) -> tuple[list[float], list[float], list[str]]:
            solved: list[list[str]] = []
            warm = {"core": core(packages, solved), "raw": raw(packages, solved)}
            print("first runs: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in warm.items()), file=sys.stderr)
            ours: list[float] = []
            hand: list[float] = []
            for i in range(runs):  # interleaved, alternating which goes first
                if i % 2:
                    ours.append(core(packages, solved))
                    hand.append(raw(packages, solved))
                else:
                    hand.append(raw(packages, solved))
                    ours.append(core(packages, solved))
            if any(s != solved[0] for s in solved):
                sys.exit(f"the two recipes installed different packages: {solved}")
            return ours, hand, solved[0]

        print(f"warming the package cache in {cache} …", file=sys.stderr)
        ours, hand, solved = compare(CONDA_PACKAGES, repeat)
        large = compare([*CONDA_PACKAGES, "slowpkg"], large_repeat) if large_repeat else None
        # what the engine's install child pays before it does anything: a fresh interpreter
        # importing the engine module and rattler (the child is `python -m …rattler_engine JOB`)
        child, only, bare = (
            [fresh_python(code) for _ in range(repeat)]
            for code in ("import jupyter_envmod.engines.rattler_engine, rattler", "import rattler", "pass")
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    core_median, raw_median = statistics.median(ours), statistics.median(hand)
    print(f"conda environment ({', '.join(solved)}), local file:// channel, {repeat} runs, warm cache")
    print("| measure | median | ratio |")
    print("|---|---|---|")
    print(f"| `rattler.solve` + `rattler.install` (reference) | {median_ms(hand)} | 1 |")
    print(f"| `Environments.create`, engine rattler | {median_ms(ours)} | {core_median / raw_median:.2f}x raw |")
    print(f"| fresh `python -c pass` | {median_ms(bare)} | |")
    label = "fresh interpreter importing the engine and rattler (a CLI command's cost before its first install)"
    print(f"| {label} | {median_ms(child)} | |")
    print(f"| fresh interpreter importing rattler only | {median_ms(only)} | |")
    if large is not None:
        big_ours, big_hand, _ = large
        ratio = statistics.median(big_ours) / statistics.median(big_hand)
        print(f"| the same + slowpkg (20 000 files), raw ({large_repeat} runs) | {median_ms(big_hand)} | 1 |")
        print(f"| the same + slowpkg, `Environments.create` | {median_ms(big_ours)} | {ratio:.2f}x raw |")
    print(f"target (<= 1.2x raw rattler): {'met' if core_median / raw_median <= 1.2 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="which", required=True)
    venv = sub.add_parser("venv", help="venv with ipykernel: ours vs uv by hand vs python -m venv + pip")
    venv.add_argument("--repeat", type=int, default=5)
    venv.add_argument("--pip-repeat", type=int, default=2, help="runs of the (slow) pip recipe")
    conda = sub.add_parser("conda", help="conda environment on a local channel: ours vs raw rattler")
    conda.add_argument("--repeat", type=int, default=10)
    conda.add_argument("--large-repeat", type=int, default=3, help="runs with slowpkg added (0: skip)")
    args = parser.parse_args()
    if args.which == "venv":
        bench_venv(args.repeat, args.pip_repeat)
    else:
        bench_conda(args.repeat, args.large_repeat)


if __name__ == "__main__":
    main()
