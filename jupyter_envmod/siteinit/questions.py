"""The site-init questions and their answers as typed: the table of
:class:`Question` that drives both the command-line flags and the terminal prompts,
parsing a flag's value or a line typed at the prompt into a typed answer, and the
error listing rejected answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

#: --module-system -> EnvMod.module_formats
MODULE_SYSTEMS: dict[str, tuple[str, ...]] = {
    "lmod": ("lua", "sh", "csh"),
    "tcl": ("tcl", "sh", "csh"),
    "none": ("sh", "csh"),
}
#: conda's own default, the built-in EnvMod.env_dirs when $CONDA_ENVS_PATH is unset
CONDA_DEFAULT_ENV_DIR = "~/.conda/envs"
#: typed at a prompt, empties an optional value or list
NONE_WORD = "none"

_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*$")
#: what no answer may hold (a directory typed at the first-run question neither)
CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_CONTROL_IN_VALUE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # tab and newline allowed


@dataclass(frozen=True)
class Question:
    """One site-init question: its flag, its prompt, and the EnvMod trait it sets."""

    key: str  # key of the answer
    flag: str
    metavar: str
    prompt: str
    help: str
    trait: str  # the EnvMod trait the answer sets (module_system sets module_formats)
    kind: str = "text"  # text | path | url | choice | channel | name | env
    many: bool = False  # a list: a repeatable flag, comma-separated at the prompt
    optional: bool = False  # may be empty ('none' at the prompt)
    choices: tuple[str, ...] = ()


QUESTIONS: tuple[Question, ...] = (
    Question(
        "env_dirs",
        "--env-dir",
        "DIR",
        "Directories for environments, new ones go into the first",
        "Directory for environments; repeat for more, new environments go into the first. Prefer "
        "project or scratch space to $HOME, e.g. '$PROJECT/{user}/envs'. May use ~, $VAR, ${VAR}, "
        "{user} and {arch}.",
        "env_dirs",
        kind="path",
        many=True,
    ),
    Question(
        "cache_dir",
        "--cache-dir",
        "DIR",
        "Per-user package cache directory",
        "Per-user directory for package caches (conda packages and pip wheels), outside $HOME, e.g. "
        "'/scratch/{user}/envmod-cache'. Empty: each tool's default under ~/.cache.",
        "cache_dir",
        kind="path",
        optional=True,
    ),
    Question(
        "default_engine",
        "--engine",
        "rattler|conda|venv",
        "Default engine (rattler, conda or venv)",
        "Engine used when a request names none: rattler (conda packages, embedded), conda (the "
        "site's conda/mamba executable) or venv (uv and PyPI).",
        "default_engine",
        kind="choice",
        choices=("rattler", "conda", "venv"),
    ),
    Question(
        "channels",
        "--channel",
        "CHANNEL",
        "Conda channels or the site's mirror, highest priority first",
        "Conda channel, highest priority first; repeat for more: a name (conda-forge) or the URL of "
        "the site's mirror (https://mirror.example/conda-forge, file:///opt/channel).",
        "channels",
        kind="channel",
        many=True,
    ),
    Question(
        "channel_priority",
        "--channel-priority",
        "strict|flexible",
        "Channel priority (strict or flexible)",
        "strict: a package in a higher-priority channel is never taken from a lower one "
        "(recommended); flexible: any channel may supply a newer build.",
        "channel_priority",
        kind="choice",
        choices=("strict", "flexible"),
    ),
    Question(
        "pip_index_url",
        "--pip-index-url",
        "URL",
        "Pip package index URL",
        "Index for pip packages, e.g. the site's PyPI mirror https://pypi.example/simple. Empty: "
        "PyPI, or what the users' own pip/uv configuration says.",
        "pip_index_url",
        kind="url",
        optional=True,
    ),
    Question(
        "module_system",
        "--module-system",
        "lmod|tcl|none",
        "Module system (lmod, tcl or none)",
        "Module system of the cluster, which decides the module files written: lmod (.lua), tcl "
        "(Environment Modules) or none; activate.sh and activate.csh are always written.",
        "module_formats",
        kind="choice",
        choices=tuple(MODULE_SYSTEMS),
    ),
    Question(
        "module_dir",
        "--module-dir",
        "DIR",
        "Directory for users' module files",
        "Directory that receives module files; users add it with 'module use'. May use ~, $VAR, {user} and {arch}.",
        "module_dir",
        kind="path",
    ),
    Question(
        "module_app",
        "--module-app",
        "APP",
        "Module app name (users load APP/<environment>)",
        "Subdirectory of the module directory: users load '<APP>/<environment module>'.",
        "module_app",
    ),
    Question(
        "thread_variables",
        "--thread-variable",
        "VAR",
        "Thread variables set to the job's CPU count",
        "Variable a kernel sets to the number of CPUs of its job (OMP_NUM_THREADS, ...); repeat for more.",
        "thread_variables",
        kind="name",
        many=True,
        optional=True,
    ),
    Question(
        "kernel_env",
        "--kernel-env",
        "KEY=VALUE",
        "Extra kernel environment variables as KEY=VALUE",
        "Extra environment variable of every generated kernel, as KEY=VALUE; repeat for more.",
        "kernel_env",
        kind="env",
        many=True,
        optional=True,
    ),
    Question(
        "shared_roots",
        "--shared-root",
        "DIR",
        "Directories for group-shared environments",
        "Directory for environments shared by a group; repeat for more.",
        "shared_roots",
        kind="path",
        many=True,
        optional=True,
    ),
    Question(
        "shared_group",
        "--shared-group",
        "GROUP",
        "Unix group that owns shared environments",
        "Unix group owning environments in the shared directories. Empty: the group of each shared directory.",
        "shared_group",
        optional=True,
    ),
)

#: the questions by answer key, by the trait they set; the answers that are paths
BY_KEY = {q.key: q for q in QUESTIONS}
BY_TRAIT = {q.trait: q for q in QUESTIONS}
PATH_KEYS = ("env_dirs", "cache_dir", "module_dir", "shared_roots")


def question(key: str) -> Question:
    return BY_KEY[key]


@dataclass(frozen=True)
class AnswerProblem:
    key: str
    value: Any
    problem: str

    @property
    def flag(self) -> str:
        return BY_KEY[self.key].flag

    def describe(self) -> str:
        q = BY_KEY[self.key]
        return f"{q.flag} {self.value!r} ({q.prompt}): {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"flag": self.flag, "question": BY_KEY[self.key].prompt, "value": self.value, "problem": self.problem}


def answers_error(problems: Sequence[AnswerProblem]) -> InvalidInput:
    lines = "\n".join(f"- {p.describe()}" for p in problems)
    return InvalidInput(
        f"site-init: nothing was written, these answers are not accepted:\n{lines}",
        details={"field": problems[0].flag, "problems": [p.to_json() for p in problems]},
    )


# -- parsing answers ---------------------------------------------------------------------------


def _text(value: str, *, allow_newlines: bool = False) -> str:
    pattern = _CONTROL_IN_VALUE if allow_newlines else CONTROL
    if pattern.search(value):
        raise ValueError("contains a control character (e.g. a newline); config files cannot hold it here")
    return value if allow_newlines else value.strip()


def _parse_one(q: Question, raw: str) -> Any:
    if q.kind == "env":
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise ValueError("give KEY=VALUE, e.g. MPLBACKEND=Agg")
        return _text(key), _text(value, allow_newlines=True)
    value = _text(raw)
    if q.kind == "choice":
        value = value.lower()
        if value not in q.choices:
            raise ValueError(f"choose one of {', '.join(q.choices)}")
    elif q.kind == "channel":
        if not value:
            raise ValueError("a channel must not be empty")
        scheme = value.split("://", 1)[0].lower() if "://" in value else ""
        if scheme:
            if scheme not in ("http", "https", "file") or any(c.isspace() for c in value):
                raise ValueError("give a channel name, or an http(s):// or file:// URL without spaces")
        elif not _CHANNEL_NAME.match(value):
            raise ValueError("a channel name uses letters, digits, '.', '_', '-', '+' and '/' (e.g. conda-forge)")
    elif q.kind in ("path", "name") and not value and (q.many or not q.optional):
        raise ValueError("must not be empty")
    return value


class BadAnswer(ValueError):
    """A value that is not an answer to its question; ``value`` is the offending
    item (one entry of a list)."""

    def __init__(self, value: Any, problem: str):
        super().__init__(problem)
        self.value = value
        self.problem = problem


def parse_answer(key: str, raw: str | Sequence[str]) -> Any:
    """The typed answer to question ``key`` from a flag's value (a list for a
    repeatable flag). Raises :class:`BadAnswer` (a ``ValueError``) saying what is
    accepted; whether the value makes a valid configuration is :func:`check_answers`' job."""
    q = BY_KEY[key]
    if not q.many:
        if not isinstance(raw, str):
            raise BadAnswer(raw, "takes one value")
        try:
            return _parse_one(q, raw)
        except ValueError as err:
            raise BadAnswer(raw, str(err)) from None
    items = [raw] if isinstance(raw, str) else list(raw)
    if not items and not q.optional:
        raise BadAnswer(items, "give at least one")
    parsed = []
    for item in items:
        try:
            parsed.append(_parse_one(q, item))
        except ValueError as err:
            raise BadAnswer(item, str(err)) from None
    if q.kind == "env":
        return dict(parsed)
    return parsed


def parse_prompt(key: str, text: str, default: Any) -> Any:
    """The typed answer from a line typed at the prompt: empty keeps ``default``,
    'none' empties an optional value, lists are separated by commas."""
    q = BY_KEY[key]
    text = text.strip()
    if not text:
        return default
    if text.lower() == NONE_WORD and q.optional:
        return {} if q.kind == "env" else [] if q.many else ""
    if q.many:
        return parse_answer(key, [item.strip() for item in text.split(",") if item.strip()])
    return parse_answer(key, text)


def display(key: str, value: Any) -> str:
    """An answer as shown between brackets at the prompt."""
    if isinstance(value, dict):
        value = [f"{k}={v}" for k, v in value.items()]
    if isinstance(value, list):
        return ", ".join(value) if value else NONE_WORD
    return str(value) if value != "" else NONE_WORD
