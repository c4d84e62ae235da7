"""Site initialisation: the questions of ``jupyter envmod site-init`` and the files
their answers become, and the users' first-run choice of where environments go.

One table of :class:`Question` drives both the command-line flags and the terminal
prompts. Answers are checked by building the ``EnvMod`` they describe and running
its validation before anything is written. The site file (a drop-in
``jupyter_server_config.d/jupyter_envmod_site.json``) and, on request, sample
``.condarc``, ``pip.conf`` and ``uv.toml`` are serialised with each format's own
library, parsed back and compared, then written atomically (temporary file and
rename). The site file is loaded back once more from its configuration directory.

No tornado and no ``input()`` here: ``cli/siteinit.py`` asks and prints. The
configuration and format libraries are imported inside the functions that need
them, so building the CLI parser stays quick.
"""

from __future__ import annotations

import json
import os
import platform
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InvalidInput, OperationFailed

if TYPE_CHECKING:
    from .config import EnvMod

SITE_FILE = "jupyter_envmod_site.json"
USER_CHOICE_FILE = "jupyter_envmod_user.json"
DROPIN_DIR = "jupyter_server_config.d"

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

_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_PLACEHOLDER = re.compile(r"(?<!\$)\{(user|arch)\}")
_HOME_VAR = re.compile(r"^\$(?:HOME|\{HOME\})(?:/|$)")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]+(?:/[A-Za-z0-9_.+-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
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

_BY_KEY = {q.key: q for q in QUESTIONS}
_BY_TRAIT = {q.trait: q for q in QUESTIONS}
_PATH_KEYS = ("env_dirs", "cache_dir", "module_dir", "shared_roots")


def question(key: str) -> Question:
    return _BY_KEY[key]


@dataclass(frozen=True)
class AnswerProblem:
    key: str
    value: Any
    problem: str

    @property
    def flag(self) -> str:
        return _BY_KEY[self.key].flag

    def describe(self) -> str:
        q = _BY_KEY[self.key]
        return f"{q.flag} {self.value!r} ({q.prompt}): {self.problem}"

    def to_json(self) -> dict[str, Any]:
        return {"flag": self.flag, "question": _BY_KEY[self.key].prompt, "value": self.value, "problem": self.problem}


def answers_error(problems: Sequence[AnswerProblem]) -> InvalidInput:
    lines = "\n".join(f"- {p.describe()}" for p in problems)
    return InvalidInput(
        f"site-init: nothing was written, these answers are not accepted:\n{lines}",
        details={"field": problems[0].flag, "problems": [p.to_json() for p in problems]},
    )


# -- parsing answers ---------------------------------------------------------------------------


def _text(value: str, *, allow_newlines: bool = False) -> str:
    pattern = _CONTROL_IN_VALUE if allow_newlines else _CONTROL
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
    q = _BY_KEY[key]
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
    q = _BY_KEY[key]
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


# -- from answers to EnvMod and back -------------------------------------------------------------


def answers_to_traits(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The EnvMod traits the answers set, in question order."""
    traits: dict[str, Any] = {}
    for q in QUESTIONS:
        value = answers[q.key]
        if q.key == "module_system":
            value = list(MODULE_SYSTEMS[value])
        elif isinstance(value, (list, dict)):
            value = value.copy()
        traits[q.trait] = value
    return traits


def builtin_defaults() -> dict[str, Any]:
    """EnvMod's own defaults of the traits site-init sets (env_dirs: conda's default,
    as when $CONDA_ENVS_PATH is unset)."""
    from .config import EnvMod

    probe = EnvMod()
    values = {q.trait: getattr(probe, q.trait) for q in QUESTIONS}
    values["env_dirs"] = [CONDA_DEFAULT_ENV_DIR]
    plain: dict[str, Any] = json.loads(json.dumps(values))  # plain lists and dicts
    return plain


def module_system_of(formats: Sequence[str]) -> str:
    if "lua" in formats:
        return "lmod"
    if "tcl" in formats:
        return "tcl"
    return "none"


@dataclass
class SiteDefaults:
    """Defaults of the questions: the current effective configuration."""

    answers: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    module_detail: str = ""


def current_defaults(config_dir: str | Path | None = None, *, detect_modules: bool = True) -> SiteDefaults:
    """Each question's default from the configuration in effect now (every
    ``jupyter --paths`` config directory, plus ``config_dir`` first), without
    validating it: paths may name variables unset in the admin's shell. The module
    system defaults to what this machine has, unless module_formats is configured."""
    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config

    from .config import MODULE_FORMATS, EnvMod, _check_trait_values, read_dropin_config, read_server_config

    paths = list(jupyter_config_path())
    if config_dir is not None and str(config_dir) not in paths:
        paths.insert(0, str(config_dir))
    notes: list[str] = []
    try:
        merged = read_dropin_config(paths)
        merged.merge(read_server_config(paths))
        _check_trait_values(merged.get("EnvMod", {}))
        envmod = EnvMod(config=merged)
    except Exception as err:  # a broken file must not stop the admin from writing a good one
        message = err.message if isinstance(err, ConfigError) else str(err)
        notes.append(f"The current configuration could not be read, so the defaults are the built-in ones: {message}")
        envmod = EnvMod(config=Config())
    answers: dict[str, Any] = {}
    for q in QUESTIONS:
        if q.key != "module_system":
            value = getattr(envmod, q.trait)
            answers[q.key] = json.loads(json.dumps(value))
    formats = list(envmod.module_formats)
    detail = ""
    if formats != list(MODULE_FORMATS) or not detect_modules:
        answers["module_system"] = module_system_of(formats)
    else:
        from .siteinfo import detect_module_system

        found = detect_module_system()
        answers["module_system"] = {"lmod": "lmod", "environment-modules": "tcl"}.get(found.kind or "", "none")
        detail = found.detail
    return SiteDefaults(answers, notes, detail)


def variables_used(answers: Mapping[str, Any]) -> list[str]:
    """Names of the environment variables the path answers use, in order, once each."""
    names: list[str] = []
    for key in _PATH_KEYS:
        value = answers.get(key) or []
        for raw in [value] if isinstance(value, str) else value:
            for match in _VAR.finditer(raw):
                name = match.group(1) or match.group(2)
                if name not in names:
                    names.append(name)
    return names


def unset_variables(answers: Mapping[str, Any]) -> list[str]:
    return [name for name in variables_used(answers) if name not in os.environ]


@contextmanager
def stand_in_variables(names: Iterable[str]) -> Iterator[dict[str, str]]:
    """Give unset variables a stand-in absolute value while checking, so that a
    '$PROJECT/...' path can be validated in an admin shell without $PROJECT. The
    environment is restored afterwards."""
    added = {name: f"/envmod-stand-in/{name}" for name in names if name not in os.environ}
    os.environ.update(added)
    try:
        yield added
    finally:
        for name in added:
            os.environ.pop(name, None)


def check_answers(answers: Mapping[str, Any]) -> list[AnswerProblem]:
    """Every problem of the configuration the answers describe, each naming its
    question: EnvMod's own type checks and validation, run with stand-ins for
    unset variables."""
    from traitlets.config import Config

    from .config import EnvMod, _check_trait_values

    traits = answers_to_traits(answers)
    with stand_in_variables(unset_variables(answers)):
        try:
            _check_trait_values(traits)
            EnvMod(config=Config({"EnvMod": traits})).validate()
        except ConfigError as err:
            return [_problem_of(p, answers) for p in err.problems]
    return []


def check_answer(key: str, value: Any, context: Mapping[str, Any]) -> list[AnswerProblem]:
    """The problems of one answer, checked within ``context`` (the other answers)."""
    answers = {**context, key: value}
    return [p for p in check_answers(answers) if p.key == key]


def _problem_of(problem: Mapping[str, Any], answers: Mapping[str, Any]) -> AnswerProblem:
    trait = problem["trait"]
    if trait == "allowed_roots":  # derived from env_dirs and shared_roots
        trait = "env_dirs"
    q = _BY_TRAIT.get(trait)
    if q is None:  # not something site-init asks; report it under the first question
        return AnswerProblem("env_dirs", problem["value"], f"EnvMod.{trait}: {problem['problem']}")
    value = problem["value"]
    if q.key == "module_system":
        value = answers["module_system"]
    return AnswerProblem(q.key, value, problem["problem"])


def resolve_answers(given: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Answers from flag values (``given``: question key -> raw flag value; keys that
    are absent take ``defaults``). Raises one :class:`InvalidInput` listing every
    rejected flag."""
    answers = dict(defaults)
    problems: list[AnswerProblem] = []
    for key, raw in given.items():
        try:
            answers[key] = parse_answer(key, raw)
        except BadAnswer as err:
            problems.append(AnswerProblem(key, err.value, err.problem))
    if not problems:
        problems = check_answers(answers)
    if problems:
        raise answers_error(problems)
    return answers


# -- warnings -------------------------------------------------------------------------------------


def _in_home(raw: str) -> bool:
    if raw == "~" or raw.startswith("~/") or _HOME_VAR.match(raw):
        return True
    home = os.path.normpath(os.path.expanduser("~"))
    if home == "/":
        return False
    from .config import expand_path

    try:
        path = os.path.normpath(expand_path(raw))
    except ValueError:
        return False
    return path == home or path.startswith(home + os.sep)


def answer_warnings(answers: Mapping[str, Any], keys: Iterable[str] | None = None) -> list[str]:
    """Advice that does not stop anything: places in $HOME, scratch, variables unset
    here. ``keys`` limits it to some questions (the interactive mode warns as it goes)."""
    wanted = set(keys) if keys is not None else set(_BY_KEY)
    warnings: list[str] = []
    if "env_dirs" in wanted:
        for raw in answers["env_dirs"]:
            if _in_home(raw):
                warnings.append(
                    f"Environment directory {raw!r} is in the home directory: home quotas are often small "
                    "and environments take gigabytes. Prefer project or scratch space, e.g. '$PROJECT/{user}/envs'."
                )
        first = answers["env_dirs"][0] if answers["env_dirs"] else ""
        if "SCRATCH" in variables_used({"env_dirs": [first]}) or "scratch" in first.lower():
            warnings.append(
                f"New environments go to {first!r}: scratch file systems are often purged; "
                "users should keep their environment specs (jupyter envmod export) to recreate them."
            )
    if "cache_dir" in wanted:
        cache = answers["cache_dir"]
        if not cache:
            warnings.append(
                "No cache directory: conda packages and pip wheels are cached in each user's home "
                "(~/.cache). Give one on project or scratch space to spare home quotas."
            )
        elif _in_home(cache):
            warnings.append(f"Cache directory {cache!r} is in the home directory: caches grow to gigabytes.")
    for name in unset_variables({k: v for k, v in answers.items() if k in wanted}):
        warnings.append(
            f"${name} is not set here, so it was checked with a stand-in value. It must be set for every "
            "user's Jupyter server (e.g. by the spawner), or their configuration is invalid."
        )
    return warnings


# -- the site file -------------------------------------------------------------------------------


def build_site_config(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``{"EnvMod": {...}}`` holding the answers that differ from EnvMod's built-in
    defaults, in question order. Built-in defaults stay out so that they keep
    following the user's environment ($CONDA_ENVS_PATH) and later releases."""
    builtin = builtin_defaults()
    traits = answers_to_traits(answers)
    return {"EnvMod": {trait: value for trait, value in traits.items() if value != builtin[trait]}}


def site_file_path(config_dir: str | Path) -> Path:
    return Path(config_dir) / DROPIN_DIR / SITE_FILE


def render_site_file(answers: Mapping[str, Any]) -> str:
    return json.dumps(build_site_config(answers), indent=2) + "\n"


def _load_site_dir(config_dir: str | Path) -> EnvMod:
    from .config import load_envmod

    return load_envmod(config_paths=[str(config_dir)])


def _verify_site_text(text: str, answers: Mapping[str, Any]) -> None:
    """Load the site file from a private directory through load_envmod (EnvMod's
    validation runs) and compare: the file says what the answers say."""
    import tempfile

    expected = build_site_config(answers)["EnvMod"]
    with tempfile.TemporaryDirectory(prefix="envmod-site-init-") as tmp:
        path = site_file_path(tmp)
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        try:
            envmod = _load_site_dir(tmp)
        except ConfigError as err:
            raise answers_error([_problem_of(p, answers) for p in err.problems]) from err
        loaded = {trait: json.loads(json.dumps(getattr(envmod, trait))) for trait in expected}
    if loaded != expected:
        raise OperationFailed(f"site-init: the site file did not load back as written: {loaded!r} != {expected!r}")


# -- sample files for conda, pip and uv -------------------------------------------------------


DEPLOY = {
    "site": (
        "Deploy: copy it into the jupyter_server_config.d/ folder of a config directory that "
        "`jupyter --paths` lists on the machines running users' servers, e.g. "
        "/etc/jupyter/jupyter_server_config.d/ or <prefix>/etc/jupyter/jupyter_server_config.d/ "
        "of the hub's single-user image. Settings in jupyter_server_config.py/.json override it."
    ),
    ".condarc": (
        "Deploy as /etc/conda/.condarc (read by every conda on the machine) or <conda root>/.condarc "
        "(one installation). Users' own ~/.condarc still adds to it."
    ),
    "pip.conf": (
        "Deploy as /etc/pip.conf or /etc/xdg/pip/pip.conf (pip's global files; "
        "$XDG_CONFIG_DIRS/pip/pip.conf when that variable is set)."
    ),
    "uv.toml": (
        "Deploy as /etc/uv/uv.toml or $XDG_CONFIG_DIRS/uv/uv.toml (default /etc/xdg/uv/uv.toml); uv "
        "reads only the first system file it finds, the XDG one first."
    ),
}
CHECK_ADVICE = (
    "Check as a user, with the environment their servers get: jupyter envmod site, then jupyter envmod doctor."
)


def _has_placeholders(raw: str) -> bool:
    return bool(_VAR.search(raw) or _PLACEHOLDER.search(raw))


def _for_conda(raw: str) -> str:
    """A path in conda's syntax: conda expands ~, $VAR and ${VAR} in envs_dirs and
    pkgs_dirs; {user} becomes ${USER}, {arch} this machine's architecture."""
    return _PLACEHOLDER.sub(lambda m: "${USER}" if m.group(1) == "user" else platform.machine(), raw)


def _for_shell(raw: str) -> str:
    """A path as a double-quoted POSIX shell word that still expands variables."""
    text = _PLACEHOLDER.sub(lambda m: "\0USER\0" if m.group(1) == "user" else "\0ARCH\0", raw)
    if text.startswith("~/") or text == "~":
        text = "\0HOME\0" + text[1:]
    out = []
    pos = 0
    for match in _VAR.finditer(text):
        out.append(_sh_escape(text[pos : match.start()]))
        out.append(match.group(0))
        pos = match.end()
    out.append(_sh_escape(text[pos:]))
    word = "".join(out).replace("\0USER\0", "$USER").replace("\0ARCH\0", "$(uname -m)").replace("\0HOME\0", "$HOME")
    return f'"{word}"'


def _sh_escape(text: str) -> str:
    return re.sub(r'([\\"`$])', r"\\\1", text)


def _sample_caches(answers: Mapping[str, Any]) -> dict[str, str]:
    """Where the samples put each tool's cache (in EnvMod path syntax): under the
    cache directory when there is one, else beside the first environment directory."""
    cache = str(answers["cache_dir"]).rstrip("/")
    if cache:
        return {"conda": f"{cache}/conda-pkgs", "pip": f"{cache}/pip", "uv": f"{cache}/uv"}
    first = str(answers["env_dirs"][0]).rstrip("/")
    parent = posixpath.dirname(first)
    if parent in ("", "/"):
        return {"conda": f"{first}/.pkgs", "pip": f"{first}/.pip-cache", "uv": f"{first}/.uv-cache"}
    return {"conda": f"{parent}/pkgs", "pip": f"{parent}/pip-cache", "uv": f"{parent}/uv-cache"}


@dataclass
class _Sample:
    name: str
    text: str
    expected: dict[str, Any]


def _render_condarc(answers: Mapping[str, Any], caches: Mapping[str, str]) -> _Sample:
    from io import StringIO

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    envs = [_for_conda(d) for d in [*answers["env_dirs"], *answers["shared_roots"]]]
    data = CommentedMap()
    data["envs_dirs"] = envs
    data["pkgs_dirs"] = [_for_conda(caches["conda"])]
    data["channels"] = list(answers["channels"])
    data["channel_priority"] = answers["channel_priority"]
    data["auto_activate_base"] = False
    header = [
        "Sample conda configuration written by `jupyter envmod site-init`.",
        "Deploy as /etc/conda/.condarc or <conda root>/.condarc.",
        "conda expands ~, $VAR and ${VAR} in envs_dirs, pkgs_dirs and channels with each",
        "user's own environment; {user} is written as ${USER}.",
    ]
    if any("{arch}" in d for d in [*answers["env_dirs"], *answers["shared_roots"], caches["conda"]]):
        header += [
            "conda has nothing like {arch}: it is written as " + platform.machine() + ", the architecture",
            "of the machine that ran site-init. Deploy one file per architecture.",
        ]
    data.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.default_flow_style = False
    stream = StringIO()
    yaml.dump(data, stream)
    expected = {
        "envs_dirs": envs,
        "pkgs_dirs": [_for_conda(caches["conda"])],
        "channels": list(answers["channels"]),
        "channel_priority": answers["channel_priority"],
        "auto_activate_base": False,
    }
    return _Sample(".condarc", stream.getvalue(), expected)


def _render_pip_conf(answers: Mapping[str, Any], caches: Mapping[str, str]) -> _Sample:
    import configparser
    from io import StringIO

    parser = configparser.RawConfigParser()  # pip reads its files without interpolation
    parser["global"] = {}
    expected: dict[str, dict[str, str]] = {"global": {}, "install": {"user": "false"}}
    header = [
        "Sample pip configuration written by `jupyter envmod site-init`.",
        "Deploy as /etc/pip.conf or /etc/xdg/pip/pip.conf.",
    ]
    if answers["pip_index_url"]:
        parser["global"]["index-url"] = expected["global"]["index-url"] = answers["pip_index_url"]
    if _has_placeholders(caches["pip"]):
        header += [
            "cache-dir is not set: pip expands ~ in its configuration files but no environment",
            "variables and no {user}. Set PIP_CACHE_DIR in each user's environment instead.",
        ]
    else:
        parser["global"]["cache-dir"] = expected["global"]["cache-dir"] = caches["pip"]
    header += [
        "user = false: pip never falls back to installing into ~/.local when site-packages",
        "is not writable (--user packages leak into every environment's Python).",
        "require-virtualenv is not set: it would also stop pip inside conda environments.",
    ]
    parser["install"] = {"user": "false"}
    stream = StringIO()
    parser.write(stream)
    text = "".join(f"# {line}\n" for line in header) + "\n" + stream.getvalue()
    return _Sample("pip.conf", text, expected)


def _render_uv_toml(answers: Mapping[str, Any], caches: Mapping[str, str]) -> _Sample:
    import tomlkit

    doc = tomlkit.document()
    header = [
        "Sample uv configuration written by `jupyter envmod site-init`.",
        "Deploy as /etc/uv/uv.toml or $XDG_CONFIG_DIRS/uv/uv.toml.",
        "uv has no user installs: it installs into environments only.",
    ]
    expected: dict[str, Any] = {}
    literal = not _has_placeholders(caches["uv"]) and not caches["uv"].startswith("~")
    if not literal:
        header += [
            "cache-dir is not set: uv expands neither ~ nor environment variables nor {user}",
            "in it. Set UV_CACHE_DIR in each user's environment instead.",
        ]
    for line in header:
        doc.add(tomlkit.comment(line))
    if literal:
        doc["cache-dir"] = expected["cache-dir"] = caches["uv"]
    if answers["pip_index_url"]:
        index = tomlkit.table()
        index["url"] = answers["pip_index_url"]
        index["default"] = True
        indexes = tomlkit.aot()
        indexes.append(index)
        doc["index"] = indexes
        expected["index"] = [{"url": answers["pip_index_url"], "default": True}]
    return _Sample("uv.toml", tomlkit.dumps(doc), expected)


def _samples(answers: Mapping[str, Any]) -> list[_Sample]:
    caches = _sample_caches(answers)
    return [
        _render_condarc(answers, caches),
        _render_pip_conf(answers, caches),
        _render_uv_toml(answers, caches),
    ]


def render_samples(answers: Mapping[str, Any]) -> dict[str, str]:
    """Sample ``.condarc``, ``pip.conf`` and ``uv.toml``: file name -> text."""
    return {s.name: s.text for s in _samples(answers)}


def load_sample(name: str, text: str) -> dict[str, Any]:
    """Parse a sample back with the reader its tool uses (YAML, RawConfigParser, TOML)."""
    if name == ".condarc":
        from ruamel.yaml import YAML

        data = YAML(typ="safe", pure=True).load(text)
        return dict(data or {})
    if name == "pip.conf":
        import configparser

        parser = configparser.RawConfigParser()
        parser.read_string(text)
        return {section: dict(parser[section]) for section in parser.sections()}
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib.loads(text)
    import tomlkit  # pragma: no cover - Python 3.10

    return tomlkit.parse(text).unwrap()  # pragma: no cover


def sample_warnings(answers: Mapping[str, Any]) -> list[str]:
    """What the samples cannot do for per-user paths, and what to do instead."""
    caches = _sample_caches(answers)
    warnings: list[str] = []
    if _has_placeholders(caches["pip"]):
        warnings.append(
            "pip.conf: pip does not expand environment variables or {user} in its configuration files, "
            "so cache-dir is left out. Set it per user instead, e.g. in /etc/profile.d/: "
            f"export PIP_CACHE_DIR={_for_shell(caches['pip'])}"
        )
    if _has_placeholders(caches["uv"]) or caches["uv"].startswith("~"):
        warnings.append(
            "uv.toml: uv expands neither ~ nor variables nor {user} in cache-dir, so it is left out. "
            f"Set it per user instead, e.g. in /etc/profile.d/: export UV_CACHE_DIR={_for_shell(caches['uv'])}"
        )
    if any("{arch}" in d for d in [*answers["env_dirs"], *answers["shared_roots"], caches["conda"]]):
        warnings.append(
            f".condarc: conda has no {{arch}}; it is written as {platform.machine()}. "
            "Deploy one .condarc per architecture."
        )
    if any(_in_home(c) for c in caches.values()):
        warnings.append(
            "The sample files put package caches under the home directory (beside the first environment "
            "directory); give a cache directory outside $HOME (--cache-dir) to avoid that."
        )
    return warnings


# -- writing -------------------------------------------------------------------------------------


@dataclass
class WrittenFile:
    path: Path
    kind: str  # "site", ".condarc", "pip.conf" or "uv.toml"
    deploy: str

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "kind": self.kind, "deploy": self.deploy}


@dataclass
class SiteInitResult:
    files: list[WrittenFile]
    warnings: list[str]
    errors: list[str]  # found when loading the written site file back from its directory


def target_files(config_dir: str | Path, samples_dir: str | Path | None = None) -> list[Path]:
    paths = [site_file_path(config_dir)]
    if samples_dir is not None:
        paths += [Path(samples_dir) / name for name in (".condarc", "pip.conf", "uv.toml")]
    return paths


def existing_files(config_dir: str | Path, samples_dir: str | Path | None = None) -> list[Path]:
    return [p for p in target_files(config_dir, samples_dir) if os.path.lexists(p)]


def write_site(
    answers: Mapping[str, Any],
    config_dir: str | Path,
    *,
    samples_dir: str | Path | None = None,
    force: bool = False,
) -> SiteInitResult:
    """Check the answers, render every file, parse each back, then write them all
    atomically and load the site file back from ``config_dir``. A rejected answer,
    or a file that exists without ``force``, raises :class:`InvalidInput` before
    anything is written."""
    problems = check_answers(answers)
    if problems:
        raise answers_error(problems)
    config_dir = Path(config_dir).absolute()
    site_text = render_site_file(answers)
    with stand_in_variables(unset_variables(answers)):
        _verify_site_text(site_text, answers)
    files: list[tuple[Path, str, str]] = [(site_file_path(config_dir), site_text, "site")]
    if samples_dir is not None:
        samples_dir = Path(samples_dir).absolute()
        if samples_dir.exists() and not samples_dir.is_dir():
            raise InvalidInput(
                f"--samples {str(samples_dir)!r}: not a directory. Nothing was written.", details={"field": "--samples"}
            )
        for sample in _samples(answers):
            loaded = load_sample(sample.name, sample.text)
            if any(loaded.get(k) != v for k, v in sample.expected.items()):
                raise OperationFailed(f"site-init: {sample.name} did not load back as written: {loaded!r}")
            files.append((samples_dir / sample.name, sample.text, sample.name))
    existing = [path for path, _, _ in files if os.path.lexists(path)]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise InvalidInput(
            f"{names} already exist{'s' if len(existing) == 1 else ''}; pass --force to replace. Nothing was written.",
            details={"field": "--force", "files": [str(p) for p in existing]},
        )
    written: list[WrittenFile] = []
    for path, text, kind in files:
        try:
            _write_atomically(path, text)
        except OSError as err:
            raise OperationFailed(f"site-init: cannot write {path}: {err.strerror or err}") from err
        written.append(WrittenFile(path, kind, DEPLOY[kind]))
    warnings = answer_warnings(answers)
    if samples_dir is not None:
        warnings += sample_warnings(answers)
    return SiteInitResult(written, warnings, _load_back(config_dir, answers))


def _load_back(config_dir: Path, answers: Mapping[str, Any]) -> list[str]:
    """Load the configuration of ``config_dir`` as the server would (with the site
    file in place) and say what does not match: another file there may override it."""
    written = build_site_config(answers)["EnvMod"]
    with stand_in_variables(unset_variables(answers)):
        try:
            envmod = _load_site_dir(config_dir)
        except ConfigError as err:
            return [f"The configuration in {config_dir} is invalid as a whole with the new file:\n{err.message}"]
        errors = []
        for trait, value in written.items():
            loaded = json.loads(json.dumps(getattr(envmod, trait)))
            if loaded != value:
                errors.append(
                    f"EnvMod.{trait} loads as {loaded!r}, not {value!r}: another configuration file in "
                    f"{config_dir} overrides it (jupyter_server_config.py/.json win over drop-in files)."
                )
    return errors


def _write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


# -- the users' first-run choice ---------------------------------------------------------------


def user_choice_path() -> Path:
    """The user's own drop-in file holding their first-run answer."""
    from jupyter_core.paths import jupyter_config_dir

    return Path(jupyter_config_dir()) / DROPIN_DIR / USER_CHOICE_FILE


def env_dirs_configured(config_paths: list[str] | None = None) -> bool:
    """Whether any configuration file sets EnvMod.env_dirs."""
    from .config import read_dropin_config, read_server_config

    merged = read_dropin_config(config_paths)
    merged.merge(read_server_config(config_paths))
    return "EnvMod" in merged and "env_dirs" in merged["EnvMod"]


def first_run_needed() -> bool:
    """True when nothing says where environments go: no user choice file, no
    $CONDA_ENVS_PATH, no EnvMod.env_dirs in any config file. An unreadable
    configuration counts as 'do not ask' (the command itself will report it)."""
    if os.path.lexists(user_choice_path()) or os.environ.get("CONDA_ENVS_PATH"):
        return False
    try:
        return not env_dirs_configured()
    except Exception:  # reported by the command that follows, not here
        return False


@dataclass(frozen=True)
class EnvDirChoice:
    raw: str  # as offered, e.g. $PROJECT/{user}/envs
    path: str  # expanded
    note: str


def env_dir_choices() -> list[EnvDirChoice]:
    """Places offered at the first-run question: project, work and scratch space when
    their variables are set, and conda's default in the home directory, last (the
    default answer)."""
    from .config import expand_path

    choices = []
    for var, raw, note in (
        ("PROJECT", "$PROJECT/{user}/envs", "project space"),
        ("WORK", "$WORK/envs", "work space"),
        ("SCRATCH", "$SCRATCH/envs", "scratch space: often purged, keep your specs"),
    ):
        if os.path.isabs(os.environ.get(var, "")):
            choices.append(EnvDirChoice(raw, os.path.normpath(expand_path(raw)), note))
    home = os.path.normpath(expand_path(CONDA_DEFAULT_ENV_DIR))
    choices.append(EnvDirChoice(CONDA_DEFAULT_ENV_DIR, home, "home directory: quotas are often small"))
    return choices


def parse_env_dir_choice(text: str, choices: Sequence[EnvDirChoice]) -> str:
    """The expanded, absolute directory chosen by ``text``: empty for the default
    (the last choice), a choice's number, or a directory (~, $VAR, {user} allowed)
    that the user can create. Raises :class:`InvalidInput` saying what is accepted."""
    from .config import expand_path

    text = text.strip()
    if not text:
        return choices[-1].path
    if text.isdigit():
        number = int(text)
        if 1 <= number <= len(choices):
            return choices[number - 1].path
        raise InvalidInput(f"there is no choice {number}: type 1 to {len(choices)}, or a directory")
    if _CONTROL.search(text):
        raise InvalidInput("the directory must not contain control characters")
    try:
        path = expand_path(text)
    except ValueError as err:
        raise InvalidInput(f"{text!r}: {err}") from err
    if not os.path.isabs(path):
        raise InvalidInput(f"{text!r} is not an absolute path: start it with /, ~ or $VAR")
    path = os.path.normpath(path)
    existing = path
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise InvalidInput(f"{existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "write into" if existing == path else "create directories in"
        raise InvalidInput(f"you cannot {what} {existing}; choose a directory of your own")
    return path


def in_home(path: str) -> bool:
    return _in_home(path)


def write_user_choice(env_dir: str) -> Path:
    """Write the user's choice file: ``env_dir`` first, and conda's default
    directory after it when it exists, so environments already there stay listed."""
    dirs = [env_dir]
    home_default = os.path.normpath(os.path.expanduser(CONDA_DEFAULT_ENV_DIR))
    if env_dir != home_default and os.path.isdir(home_default):
        dirs.append(home_default)
    path = user_choice_path()
    _write_atomically(path, json.dumps({"EnvMod": {"env_dirs": dirs}}, indent=2) + "\n")
    return path
