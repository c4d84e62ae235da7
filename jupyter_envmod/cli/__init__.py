"""``jupyter envmod`` — the command line. Thin: parse arguments, call the core,
print. Reads the site configuration with the same function as the server.

The commands and short flags of conda-env-mod keep working (``create -n/-p/-f/-y``,
``delete``, ``export``); ``list``, ``packages``, ``install``, ``update``,
``remove``, ``clone``, ``describe`` and ``retry`` are added. Exit status: 0
success, 1 the operation failed, 2 bad usage or rejected input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ConfigError, EnvModError, InvalidInput, NotFound
from . import commands

ENGINES = ("rattler", "conda", "venv")


def _target(p: argparse.ArgumentParser, what: str = "the environment") -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("-n", "--name", help=f"name of {what} (looked up in the environment directories)")
    group.add_argument("-p", "--prefix", "--path", dest="path", metavar="PATH", help=f"full path of {what}")


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _verbose(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="print the engines' log lines as they come")


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
    site.set_defaults(func=commands.cmd_site)

    ls = sub.add_parser(
        "list",
        help="list environments",
        description=(
            "List every environment found: in the configured environment directories, "
            "$CONDA_ENVS_PATH, conda's envs_dirs (.condarc) and ~/.conda/environments.txt."
        ),
    )
    ls.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    ls.set_defaults(func=commands.cmd_list)

    create = sub.add_parser(
        "create",
        help="create an environment",
        description=(
            "Create a conda environment (engines rattler or conda) or a venv (engine venv) by "
            "name — in the first environment directory — or at a path, with packages listed "
            "on the command line or read from a spec file (environment.yml, requirements.txt, "
            "a conda explicit file or a pixi/rattler lock file). The name in the file is used "
            "unless -n or -p is given."
        ),
    )
    group = create.add_mutually_exclusive_group()
    group.add_argument("-n", "--name", help="name of the new environment")
    group.add_argument("-p", "--prefix", "--path", dest="path", metavar="PATH", help="full path of the new environment")
    create.add_argument(
        "-f",
        "--file",
        dest="spec_file",
        metavar="SPECFILE",
        help="environment.yml, requirements.txt, explicit or lock file",
    )
    create.add_argument("--engine", choices=ENGINES, help="engine (default: the site's default_engine)")
    create.add_argument("--python", metavar="X.Y", help="Python version (default: the site's default_python)")
    create.add_argument(
        "-c",
        "--channel",
        dest="channels",
        action="append",
        default=[],
        metavar="CHANNEL",
        help="conda channel, repeatable (default: the site's channels)",
    )
    create.add_argument(
        "--pip",
        dest="pip_packages",
        action="append",
        default=[],
        metavar="PKG",
        help="pip package (PEP 508) installed with uv after the conda packages; repeatable",
    )
    create.add_argument("--dry-run", action="store_true", help="solve and show what would be installed; change nothing")
    _yes(create)
    _verbose(create)
    create.add_argument("packages", nargs="*", metavar="PKG", help="conda package specs (pip requirements for venv)")
    create.set_defaults(func=commands.cmd_create)

    delete = sub.add_parser(
        "delete",
        help="delete an environment and the files generated for it",
        description=(
            "Delete the environment and the kernel and module files this tool generated for it. "
            "Asks for confirmation on a terminal; without a terminal it needs -y."
        ),
    )
    _target(delete)
    _yes(delete)
    delete.set_defaults(func=commands.cmd_delete)

    describe = sub.add_parser("describe", help="show one environment", description="Show one environment's details.")
    _target(describe)
    describe.add_argument("--json", action="store_true", help="print JSON")
    describe.set_defaults(func=commands.cmd_describe)

    packages = sub.add_parser(
        "packages", help="list an environment's packages", description="List conda and pip packages of an environment."
    )
    _target(packages)
    packages.add_argument("--json", action="store_true", help="print a JSON array")
    packages.set_defaults(func=commands.cmd_packages)

    for action, text in (
        ("install", "install packages into an environment"),
        ("update", "update packages of an environment to the newest versions the solver accepts"),
        ("remove", "remove packages from an environment"),
    ):
        p = sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        _target(p)
        p.add_argument("--pip", action="store_true", help="the packages are pip packages (always so for a venv)")
        p.add_argument(
            "-c",
            "--channel",
            dest="channels",
            action="append",
            default=[],
            metavar="CHANNEL",
            help="conda channel, repeatable",
        )
        p.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
        _yes(p)
        _verbose(p)
        p.add_argument("packages", nargs="+", metavar="PKG", help="package specs (names for remove)")
        p.set_defaults(func=commands.cmd_change, action=action)

    export = sub.add_parser(
        "export",
        help="write an environment's spec file",
        description=(
            "Export the environment: yml (environment.yml, every package pinned), history "
            "(environment.yml with only what was asked for, pip: section included), requirements "
            "(pip pins) or explicit (@EXPLICIT conda package URLs with sha256)."
        ),
    )
    _target(export)
    export.add_argument("-f", "--file", dest="out", metavar="FILE", help="write to FILE instead of standard output")
    export.add_argument("--format", choices=("yml", "history", "requirements", "explicit"), default="yml")
    export.set_defaults(func=commands.cmd_export)

    clone = sub.add_parser(
        "clone",
        help="copy an environment",
        description=(
            "Create a new environment with the same packages as SOURCE (-n or -p): conda "
            "environments get the same package files, venvs the same pinned versions."
        ),
    )
    _target(clone, "the source environment")
    dest = clone.add_mutually_exclusive_group(required=True)
    dest.add_argument("--to-name", metavar="NAME", help="name of the copy (in the first environment directory)")
    dest.add_argument("--to-path", metavar="PATH", help="full path of the copy")
    _yes(clone)
    _verbose(clone)
    clone.set_defaults(func=commands.cmd_clone)

    retry = sub.add_parser(
        "retry",
        help="run an interrupted operation again",
        description="Run the interrupted create or package change of an environment listed as 'interrupted' again.",
    )
    _target(retry)
    _yes(retry)
    _verbose(retry)
    retry.set_defaults(func=commands.cmd_retry)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (InvalidInput, NotFound, ConfigError) as err:
        print(f"jupyter envmod: {err.message}", file=sys.stderr)
        return 2
    except EnvModError as err:
        print(f"jupyter envmod: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("jupyter envmod: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `jupyter envmod list | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
