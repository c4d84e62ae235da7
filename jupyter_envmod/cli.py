"""``jupyter envmod`` — the command line. Thin: parse arguments, call the core,
print. Reads the site configuration with the same function as the server."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from . import __version__
from .errors import EnvModError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jupyter envmod",
        description="Create and manage conda and venv environments with Jupyter kernels and module files.",
    )
    parser.add_argument("--version", action="version", version=f"jupyter_envmod {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    site = sub.add_parser(
        "site",
        help="show the effective site configuration, usable engines and module system",
        description=(
            "Show what the server's GET /envmod/site shows: the effective EnvMod configuration "
            "(read from the same Jupyter Server config files), the engines usable on this "
            "machine and the module system found."
        ),
    )
    site.add_argument("--json", action="store_true", help="print JSON instead of text")
    site.set_defaults(func=cmd_site)
    return parser


def cmd_site(args: argparse.Namespace) -> int:
    from .config import load_envmod
    from .manager import EnvModManager

    manager = EnvModManager(load_envmod())
    info = asyncio.run(manager.site_info())
    if args.json:
        print(json.dumps(info.to_json(), indent=2))
        return 0
    roots = info.config["env_dirs"]
    print(f"jupyter_envmod {info.version} for {info.user} on {info.arch}")
    print("\nEngines:")
    for name, engine in info.engines.items():
        mark = " (default)" if name == info.config["default_engine"] else ""
        state = "available" if engine.available else "unavailable"
        print(f"  {name}{mark}: {state} — {engine.detail}")
    print("\nWhere environments go:")
    for i, root in enumerate(roots):
        print(f"  {root}{'  (new environments)' if i == 0 else ''}")
    print(f"  kernels: {info.config['kernel_dir']}")
    print(f"  module files: {info.config['module_dir']}")
    print(f"\nModule system: {info.module_system.detail}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except EnvModError as err:
        print(f"jupyter envmod: {err.message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `jupyter envmod site | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
