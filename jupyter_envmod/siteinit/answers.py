"""From answers to a configuration: the answers' defaults (the configuration in
effect now), the ``EnvMod`` traits they set, their check by EnvMod's own validation
(with stand-ins for variables unset in the admin's shell), and the advice that does
not stop anything."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .questions import (
    BY_KEY,
    BY_TRAIT,
    CONDA_DEFAULT_ENV_DIR,
    MODULE_SYSTEMS,
    PATH_KEYS,
    QUESTIONS,
    AnswerProblem,
    BadAnswer,
    answers_error,
    parse_answer,
)

#: $VAR or ${VAR} in a path answer
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
#: {user} or {arch} in a path answer (EnvMod expands them, the tools do not)
PLACEHOLDER = re.compile(r"(?<!\$)\{(user|arch)\}")
_HOME_VAR = re.compile(r"^\$(?:HOME|\{HOME\})(?:/|$)")


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
    from ..config import EnvMod

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

    from ..config import MODULE_FORMATS, EnvMod, _check_trait_values, read_dropin_config, read_server_config

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
        from ..siteinfo import detect_module_system

        found = detect_module_system()
        answers["module_system"] = {"lmod": "lmod", "environment-modules": "tcl"}.get(found.kind or "", "none")
        detail = found.detail
    return SiteDefaults(answers, notes, detail)


def variables_used(answers: Mapping[str, Any]) -> list[str]:
    """Names of the environment variables the path answers use, in order, once each."""
    names: list[str] = []
    for key in PATH_KEYS:
        value = answers.get(key) or []
        for raw in [value] if isinstance(value, str) else value:
            for match in VARIABLE.finditer(raw):
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

    from ..config import EnvMod, _check_trait_values

    traits = answers_to_traits(answers)
    with stand_in_variables(unset_variables(answers)):
        try:
            _check_trait_values(traits)
            EnvMod(config=Config({"EnvMod": traits})).validate()
        except ConfigError as err:
            return [problem_of(p, answers) for p in err.problems]
    return []


def check_answer(key: str, value: Any, context: Mapping[str, Any]) -> list[AnswerProblem]:
    """The problems of one answer, checked within ``context`` (the other answers)."""
    answers = {**context, key: value}
    return [p for p in check_answers(answers) if p.key == key]


def problem_of(problem: Mapping[str, Any], answers: Mapping[str, Any]) -> AnswerProblem:
    """One problem of a :class:`~jupyter_envmod.errors.ConfigError`, under the question it concerns."""
    trait = problem["trait"]
    if trait == "allowed_roots":  # derived from env_dirs and shared_roots
        trait = "env_dirs"
    q = BY_TRAIT.get(trait)
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


def in_home(raw: str) -> bool:
    """Whether a path (~, $VAR, {user} allowed) is the home directory or below it."""
    if raw == "~" or raw.startswith("~/") or _HOME_VAR.match(raw):
        return True
    home = os.path.normpath(os.path.expanduser("~"))
    if home == "/":
        return False
    from ..config import expand_path

    try:
        path = os.path.normpath(expand_path(raw))
    except ValueError:
        return False
    return path == home or path.startswith(home + os.sep)


def answer_warnings(answers: Mapping[str, Any], keys: Iterable[str] | None = None) -> list[str]:
    """Advice that does not stop anything: places in $HOME, scratch, variables unset
    here. ``keys`` limits it to some questions (the interactive mode warns as it goes)."""
    wanted = set(keys) if keys is not None else set(BY_KEY)
    warnings: list[str] = []
    if "env_dirs" in wanted:
        for raw in answers["env_dirs"]:
            if in_home(raw):
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
        elif in_home(cache):
            warnings.append(f"Cache directory {cache!r} is in the home directory: caches grow to gigabytes.")
    for name in unset_variables({k: v for k, v in answers.items() if k in wanted}):
        warnings.append(
            f"${name} is not set here, so it was checked with a stand-in value. It must be set for every "
            "user's Jupyter server (e.g. by the spawner), or their configuration is invalid."
        )
    return warnings
