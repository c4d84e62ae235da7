"""``jupyter envmod`` — the command line. Thin: parse arguments, call the core,
print. Reads the site configuration with the same function as the server.

The commands and short flags of conda-env-mod keep working (``create -n/-p/-f/-y/-j/-m/-a``,
``delete``, ``export``, ``kernel``, ``module``); ``list``, ``packages``, ``install``,
``update`` (``--all``), ``remove``, ``clone``, ``describe``, ``retry``, ``kernels``,
``modules``, ``history``, ``restore``, ``outdated``, ``share``, ``doctor`` and ``site-init`` are added. Exit status: 0
success, 1 the operation failed, 2 bad usage or rejected input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import ConfigError, EnvModError, InvalidInput, NotFound, NotPermitted
from . import commands
from . import siteinit as siteinit_cli
from .doctor import add_parser as add_doctor

ENGINES = ("rattler", "conda", "venv")
MODULE_FORMATS = ("lua", "tcl", "sh", "csh")


def _target(p: argparse.ArgumentParser, what: str = "the environment") -> None:
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("-n", "--name", help=f"name of {what} (looked up in the environment directories)")
    group.add_argument("-p", "--prefix", "--path", dest="path", metavar="PATH", help=f"full path of {what}")


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _verbose(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true", help="print the engines' log lines as they come")


def _kernel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--display-name", metavar="TEXT", help="kernel name shown in JupyterLab (default: the site's)")


def _deps_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--module-dep",
        dest="module_deps",
        action="append",
        default=[],
        metavar="MODULE",
        help="module the environment needs (e.g. gcc/12.2.0), loaded by its kernel and module files; repeatable",
    )
    p.add_argument(
        "--loaded-modules",
        dest="capture_loaded",
        action="store_true",
        help="also record the modules loaded in this shell ($LOADEDMODULES) as dependencies",
    )


def _module_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-m", "--moduledir", dest="module_dir", metavar="DIR", help="module directory (default: the site's)")
    p.add_argument("-a", "--appname", dest="module_app", metavar="APP", help="module app name (default: the site's)")
    p.add_argument(
        "--format",
        dest="formats",
        action="append",
        choices=MODULE_FORMATS,
        metavar="FORMAT",
        help=f"file to write: {', '.join(MODULE_FORMATS)}; repeatable (default: the site's module_formats)",
    )
    if not any(a.dest == "module_deps" for a in p._actions):
        _deps_options(p)


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
    create.add_argument(
        "-j", "--jupyter", action="store_true", help="also install ipykernel and write a Jupyter kernel for it"
    )
    _kernel_options(create)
    create.add_argument(
        "--no-module", dest="module", action="store_false", help="write no module files or activation scripts"
    )
    _module_options(create)
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
        if action == "update":
            p.add_argument(
                "--all",
                dest="all",
                action="store_true",
                help="update every package to the newest version the solver accepts (one revision)",
            )
            p.add_argument("packages", nargs="*", metavar="PKG", help="names of the packages to update")
        else:
            p.add_argument("packages", nargs="+", metavar="PKG", help="package specs (names for remove)")
        p.set_defaults(func=commands.cmd_change, action=action)

    hist = sub.add_parser(
        "history",
        help="list an environment's revisions",
        description=(
            "List the revisions of the environment: one after its creation and one after each "
            "change (install, update, remove, restore, or changes made without this tool), "
            "with what each changed. 'restore' returns to any of them."
        ),
    )
    _target(hist)
    hist.add_argument("--json", action="store_true", help="print a JSON array")
    hist.set_defaults(func=commands.cmd_history)

    restore = sub.add_parser(
        "restore",
        help="return an environment to an earlier revision",
        description=(
            "Make the environment hold exactly the packages of revision REV (as 'history' lists "
            "them): the same conda package files, the same pip versions. The restore is itself "
            "a new revision, so it can be undone too."
        ),
    )
    _target(restore)
    restore.add_argument("revision", metavar="REV", help="revision number")
    restore.add_argument("--dry-run", action="store_true", help="show what would change; change nothing")
    _yes(restore)
    _verbose(restore)
    restore.set_defaults(func=commands.cmd_restore)

    outdated = sub.add_parser(
        "outdated",
        help="list packages with newer versions",
        description=(
            "List the packages that have newer versions in the channels or the pip index, and "
            "the version 'update --all' would install (none when what you asked for, or another "
            "package, holds it back). Changes nothing."
        ),
    )
    _target(outdated)
    outdated.add_argument("--json", action="store_true", help="print JSON")
    _verbose(outdated)
    outdated.set_defaults(func=commands.cmd_outdated)

    share = sub.add_parser(
        "share",
        help="what a colleague needs to use or recreate an environment",
        description=(
            "Print what to send a colleague: the environment's spec (what you asked for, as "
            "environment.yml) and the command that recreates it, and — when they can read the "
            "environment's path — the commands that let them use it as it is."
        ),
    )
    _target(share)
    share.add_argument("-f", "--file", dest="out", metavar="FILE", help="write the spec to FILE")
    share.add_argument("--json", action="store_true", help="print JSON")
    share.set_defaults(func=commands.cmd_share)

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

    kernel = sub.add_parser(
        "kernel",
        help="write (or repair, or remove) the Jupyter kernel of an environment",
        description=(
            "Install ipykernel into the environment when it is missing and write its kernelspec "
            "into the site's kernel directory; run again to repair it. Works on a colleague's "
            "environment given by -p when it already has ipykernel: the kernel is yours, the "
            "environment is not changed."
        ),
    )
    _target(kernel)
    _kernel_options(kernel)
    _deps_options(kernel)
    kernel.add_argument("--remove", action="store_true", help="remove the environment's kernel instead")
    _verbose(kernel)
    kernel.set_defaults(func=commands.cmd_kernel)

    kernels = sub.add_parser(
        "kernels",
        help="list the kernels this tool wrote",
        description="List the kernelspecs written by jupyter envmod, flagging orphans (environment or Python gone).",
    )
    kernels.add_argument("--json", action="store_true", help="print a JSON array")
    kernels.add_argument("--remove-orphans", action="store_true", help="remove the orphaned kernelspecs")
    kernels.set_defaults(func=commands.cmd_kernels)

    module = sub.add_parser(
        "module",
        help="write (or regenerate, or remove) the module files of an environment",
        description=(
            "Write the environment's Lmod and TCL module files and its activate.sh/activate.csh "
            "scripts, and print how to load them. Run again after the environment's Python "
            "changed: files under the old name are replaced. Works on a colleague's environment "
            "given by -p without changing it."
        ),
    )
    _target(module)
    _module_options(module)
    module.add_argument("--remove", action="store_true", help="remove the environment's module files instead")
    module.set_defaults(func=commands.cmd_module)

    modules = sub.add_parser(
        "modules",
        help="list the module files this tool wrote",
        description=(
            "List the module files and activation scripts written by jupyter envmod, flagging "
            "orphans (environment or Python gone)."
        ),
    )
    modules.add_argument("-m", "--moduledir", dest="module_dir", metavar="DIR", help="module directory to look in")
    modules.add_argument("-a", "--appname", dest="module_app", metavar="APP", help="module app subdirectory")
    modules.add_argument("--json", action="store_true", help="print a JSON array")
    modules.add_argument("--remove-orphans", action="store_true", help="remove the orphaned files")
    modules.add_argument(
        "--available",
        action="store_true",
        help="list the modules the module system can load instead (names for --module-dep)",
    )
    modules.set_defaults(func=commands.cmd_modules)

    retry = sub.add_parser(
        "retry",
        help="run an interrupted operation again",
        description="Run the interrupted create or package change of an environment listed as 'interrupted' again.",
    )
    _target(retry)
    _yes(retry)
    _verbose(retry)
    retry.set_defaults(func=commands.cmd_retry)

    add_doctor(sub)
    siteinit_cli.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command not in siteinit_cli.NO_FIRST_RUN:
            siteinit_cli.first_run_question(args.command)
        return int(args.func(args))
    except (InvalidInput, NotFound, NotPermitted, ConfigError) as err:
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
