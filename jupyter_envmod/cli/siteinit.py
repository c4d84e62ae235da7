"""``jupyter envmod site-init`` and the users' first-run question. Thin: flags and
prompts in, :mod:`jupyter_envmod.siteinit` does the work, results printed.

On a terminal (and without ``--yes``) site-init asks each question not given as a
flag, one at a time, with the current value as default; without a terminal it takes
the flags and the defaults without asking, so it runs in CI as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import siteinit as core
from ..errors import InvalidInput
from ..siteinit import NONE_WORD, QUESTIONS, Question, SiteDefaults

#: commands before which the first-run question is never asked
NO_FIRST_RUN = frozenset({"site-init", "site", "doctor"})


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``site-init`` to the subcommands of ``jupyter envmod``."""
    p = sub.add_parser(
        "site-init",
        help="write the site configuration (asks on a terminal) and sample .condarc, pip.conf, uv.toml",
        description=(
            "Write the site configuration of jupyter_envmod: a drop-in file "
            "<config dir>/jupyter_server_config.d/jupyter_envmod_site.json holding the answers that "
            "differ from the built-in defaults, and on request sample .condarc, pip.conf and uv.toml. "
            "On a terminal each question not given as a flag is asked, with the current configuration "
            "as default; --yes, or no terminal, takes the flags and the defaults. Lists typed at a "
            "prompt are separated by commas; 'none' empties an optional answer."
        ),
    )
    p.add_argument("-y", "--yes", action="store_true", help="ask nothing: take the flags and the current defaults")
    p.add_argument(
        "--config-dir",
        metavar="DIR",
        help=(
            "Jupyter config directory that receives the site file (default: etc/jupyter of the Python "
            "environment jupyter_envmod is installed in, sys.prefix; jupyter --paths lists it)"
        ),
    )
    p.add_argument("--force", action="store_true", help="replace files that exist")
    samples = p.add_mutually_exclusive_group()
    samples.add_argument("--samples", metavar="DIR", help="also write sample .condarc, pip.conf and uv.toml into DIR")
    samples.add_argument("--no-samples", action="store_true", help="write no sample files (and do not ask)")
    threads = p.add_mutually_exclusive_group()
    for q in QUESTIONS:
        target = threads if q.key == "thread_variables" else p
        target.add_argument(
            q.flag, dest=q.key, metavar=q.metavar, action="append" if q.many else "store", default=None, help=q.help
        )
        if q.key == "thread_variables":
            threads.add_argument("--no-thread-variables", action="store_true", help="kernels set no thread variables")
    p.set_defaults(func=cmd_site_init)
    return p


def _interactive(args: argparse.Namespace) -> bool:
    return not args.yes and sys.stdin.isatty() and sys.stdout.isatty()


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def cmd_site_init(args: argparse.Namespace) -> int:
    interactive = _interactive(args)
    config_dir = Path(args.config_dir or os.path.join(sys.prefix, "etc", "jupyter"))
    defaults = core.current_defaults(config_dir)
    for note in defaults.notes:
        _warn(note)
    given: dict[str, Any] = {q.key: getattr(args, q.key) for q in QUESTIONS if getattr(args, q.key) is not None}
    if args.no_thread_variables:
        given["thread_variables"] = []
    samples_dir: str | None = None if args.no_samples else args.samples
    force = bool(args.force)

    if not interactive:
        if not args.yes:
            print("site-init: no terminal, so nothing is asked: using the flags and the defaults.", file=sys.stderr)
        answers = core.resolve_answers(given, defaults.answers)
    else:
        try:
            answers = _ask_all(given, defaults)
            if samples_dir is None and not args.no_samples:
                samples_dir = _ask_samples_dir()
            existing = core.existing_files(config_dir, samples_dir)
            if existing and not force:
                print("These files exist:", *[f"  {p}" for p in existing], sep="\n")
                if not _yes_no("Replace them?", default=False):
                    print("Nothing was written.")
                    return 1
                force = True
            print("\nThe site file will hold:")
            print(core.render_site_file(answers), end="")
            if not _yes_no("Write the files?", default=True):
                print("Nothing was written.")
                return 1
        except EOFError:
            print("\nsite-init: end of input; nothing was written.", file=sys.stderr)
            return 1

    result = core.write_site(answers, config_dir, samples_dir=samples_dir, force=force)
    if not interactive:  # the interactive mode warned as it went
        for warning in result.warnings:
            _warn(warning)
    elif samples_dir is not None:
        for warning in core.sample_warnings(answers):
            _warn(warning)
    for written in result.files:
        print(f"Wrote {written.path}")
        print(f"  {written.deploy}")
    for error in result.errors:
        print(f"jupyter envmod: {error}", file=sys.stderr)
    print(core.CHECK_ADVICE)
    return 1 if result.errors else 0


def _ask_all(given: dict[str, Any], defaults: SiteDefaults) -> dict[str, Any]:
    """Ask each question not answered by a flag (and each whose flag was rejected)."""
    print(
        "jupyter envmod site-init: questions about this site. Enter keeps the value in brackets; "
        "separate list items with commas; 'none' empties an optional answer."
    )
    if defaults.module_detail:
        print(f"Module system found here: {defaults.module_detail}")
    answers: dict[str, Any] = dict(defaults.answers)
    for q in QUESTIONS:
        if q.key in ("module_dir", "module_app") and answers["module_system"] == "none" and q.key not in given:
            continue  # no module files: keep the default
        if q.key in given:
            try:
                value = core.parse_answer(q.key, given[q.key])
                problems = core.check_answer(q.key, value, answers)
            except core.BadAnswer as err:
                problems = [core.AnswerProblem(q.key, err.value, err.problem)]
            if not problems:
                answers[q.key] = value
                print(f"{q.prompt}: {core.display(q.key, value)} (from {q.flag})")
                _warn_about(q, answers)
                continue
            for problem in problems:
                print(f"  {problem.describe()}", file=sys.stderr)
        answers[q.key] = _ask(q, answers)
    problems = core.check_answers(answers)
    while problems:  # a problem between answers: ask those questions again
        for problem in problems:
            print(f"  {problem.describe()}", file=sys.stderr)
        for key in dict.fromkeys(p.key for p in problems):
            answers[key] = _ask(core.question(key), answers)
        problems = core.check_answers(answers)
    return answers


def _ask(q: Question, answers: dict[str, Any]) -> Any:
    default = answers[q.key]
    print(f"\n  {q.help}")
    while True:
        text = input(f"{q.prompt} [{core.display(q.key, default)}]: ")
        try:
            value = core.parse_prompt(q.key, text, default)
        except ValueError as err:
            print(f"  {q.flag}: {err}. Try again.", file=sys.stderr)
            continue
        problems = core.check_answer(q.key, value, answers)
        if problems:
            for problem in problems:
                print(f"  {problem.value!r}: {problem.problem}. Try again.", file=sys.stderr)
            continue
        answers = {**answers, q.key: value}
        _warn_about(q, answers)
        return value


def _warn_about(q: Question, answers: dict[str, Any]) -> None:
    for warning in core.answer_warnings(answers, keys=[q.key]):
        _warn(warning)


def _ask_samples_dir() -> str | None:
    print("\n  Sample .condarc, pip.conf and uv.toml for this site can be written into a directory of your choice.")
    while True:
        text = input("Directory for sample .condarc, pip.conf and uv.toml ('no' to skip) [no]: ").strip()
        if text.lower() in ("", "no", "n", NONE_WORD):
            return None
        if os.path.exists(text) and not os.path.isdir(text):
            print(f"  {text} is not a directory. Try again.", file=sys.stderr)
            continue
        return text


def _yes_no(question: str, *, default: bool) -> bool:
    hint = "Y/n" if default else "y/N"
    answer = input(f"{question} [{hint}]: ").strip().lower()
    if not answer:
        return default
    return answer in ("y", "yes")


# -- the users' first-run question -----------------------------------------------------------


def first_run_question(command: str) -> None:
    """Ask once, on a terminal, where new environments go, when nothing says so yet
    (no EnvMod.env_dirs in any config file, no $CONDA_ENVS_PATH, no earlier answer).
    The answer, or the default when Enter is pressed, is kept in the user's
    ``jupyter_server_config.d/jupyter_envmod_user.json``. End of input takes the
    default for this run without writing anything, so it is asked again next time."""
    if command in NO_FIRST_RUN or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    if not core.first_run_needed():
        return
    choices = core.env_dir_choices()
    target = core.user_choice_path()
    print("jupyter envmod: nothing says yet where your environments should go, so this is asked once.")
    print(f"The answer is kept in {target}; edit or delete that file to change it.")
    for number, choice in enumerate(choices, 1):
        print(f"  {number}) {choice.raw}  ->  {choice.path}  ({choice.note})")
    print("Type a number, a directory of your own (~, $VAR and {user} work), or Enter for the default.")
    while True:
        try:
            text = input(f"Where should new environments go? [{choices[-1].raw}]: ")
        except EOFError:
            print("\nNo answer: using the default for now; you will be asked again.", file=sys.stderr)
            return
        try:
            path = core.parse_env_dir_choice(text, choices)
        except InvalidInput as err:
            print(f"  {err.message}. Try again.", file=sys.stderr)
            continue
        break
    if core.in_home(path):
        _warn(
            "home directories often have small quotas and environments take gigabytes; "
            "project or scratch space is usually better."
        )
    try:
        written = core.write_user_choice(path)
    except OSError as err:
        print(f"jupyter envmod: cannot save the answer in {target}: {err.strerror or err}", file=sys.stderr)
        return
    print(f"New environments will go to {path} (saved in {written}).\n")


# -- running on its own ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``site-init`` on its own: ``jupyter envmod site-init`` with these arguments, the
    same flags, messages and exit status: 0 written, 1 not written or the written
    configuration failed to load, 2 rejected input."""
    from . import main as envmod_main

    return envmod_main(["site-init", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
