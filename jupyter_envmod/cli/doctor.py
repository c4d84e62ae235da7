"""``jupyter envmod doctor``: run the setup checks, print them, and (with ``--fix``)
apply the fixes the user confirms. Thin: the checks and fixes are the core's
:class:`~jupyter_envmod.doctor.Doctor`."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..doctor import CHECK_IDS, STATUSES
from .commands import confirm

if TYPE_CHECKING:
    from ..doctor import Check, FixResult

MARKS = {"ok": "ok", "warning": "WARNING", "problem": "PROBLEM"}
WIDTH = 100
INDENT = " " * 10


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register ``doctor`` on the ``jupyter envmod`` sub-command parser."""
    parser = sub.add_parser(
        "doctor",
        help="check your setup for the usual breakages, and fix them",
        description=(
            "Check the things that commonly break environments and kernels: packages in the user "
            "site-packages (~/.local) shadowing environment packages, a global PYTHONPATH, pip set up "
            "for --user installs, package caches filling $HOME, free space and quota of $HOME and the "
            "environment directories, kernels and module files whose environment is gone, interrupted "
            "environments, conda environments missing from ~/.conda/environments.txt, module files "
            "configured without a module system, and conda-forge mixed with Anaconda's channels in "
            ".condarc. Each check prints its status (ok, WARNING, PROBLEM), what it found and why it "
            "matters. With --fix, each available fix is offered and runs only when confirmed; files are "
            "copied to a backup or moved aside before they change. Exit status: 0 when no problem "
            "remains (warnings are fine), 1 when one does, 2 for bad usage."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON (with --fix also the results)")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="offer each available fix and apply the ones confirmed; without a terminal, only with -y",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="apply the fixes without asking (with --fix)")
    parser.add_argument(
        "--check",
        dest="checks",
        action="append",
        choices=CHECK_IDS,
        metavar="ID",
        help=f"run (and fix) only this check; repeatable. One of: {', '.join(CHECK_IDS)}",
    )
    parser.set_defaults(func=cmd_doctor)
    return parser


def cmd_doctor(args: argparse.Namespace) -> int:
    from ..config import load_envmod
    from ..doctor import Doctor, report

    doctor = Doctor(load_envmod())
    ids: list[str] = list(args.checks or [])
    checks = doctor.run(ids or None)
    results: list[FixResult] = []
    if args.fix:
        if not args.json:
            print_checks(checks)
            print()
        offered = [c for c in checks if c.status != "ok" and c.fix]
        # every question is asked before anything changes; without a terminal (and
        # without -y) the first one refuses and nothing is changed
        chosen = [c.id for c in offered if confirm(f"{c.title}: {c.fix}?", args, needs_terminal=True)]
        if chosen:
            results = doctor.fix(chosen)
            checks = doctor.run(ids or None)
        if not args.json:
            if not offered:
                print("No fix is available automatically; the explanations above say what to do.")
            elif not chosen:
                print("Nothing was changed.")
            else:
                print_results(results)
                print("\nAfter the fixes:\n")
                print_checks(checks)
    elif not args.json:
        print_checks(checks)
    if args.json:
        data = report(checks)
        if args.fix:
            data["results"] = [r.to_json() for r in results]
        print(json.dumps(data, indent=2))
    return 1 if any(c.status == "problem" for c in checks) else 0


def print_checks(checks: Sequence[Check]) -> None:
    """One block per check, then a line with the counts."""
    for check in checks:
        print(f"{MARKS.get(check.status, check.status):<9} {check.title}: {check.summary}")
        if check.status == "ok":
            continue
        for line in check.details:
            print(f"{INDENT}  {line}")
        if check.explanation:
            print(textwrap.fill(check.explanation, WIDTH, initial_indent=INDENT, subsequent_indent=INDENT))
        if check.fix:
            print(f"{INDENT}Fix available: {check.fix} (run: jupyter envmod doctor --fix)")
    counts = {status: sum(1 for c in checks if c.status == status) for status in STATUSES}
    print(
        f"\n{len(checks)} check(s): {counts['ok']} ok, {counts['warning']} warning(s), {counts['problem']} problem(s)"
    )


def print_results(results: Sequence[FixResult]) -> None:
    for result in results:
        print(f"{'fixed' if result.fixed else 'NOT fixed':<9} {result.id}: {result.message}")
        for path in result.changed:
            print(f"{INDENT}  {path}")
