"""Site initialisation: the questions of ``jupyter envmod site-init`` and the files
their answers become, and the users' first-run choice of where environments go.

One table of :class:`Question` drives both the command-line flags and the terminal
prompts. Answers are checked by building the ``EnvMod`` they describe and running
its validation before anything is written. The site file (a drop-in
``jupyter_server_config.d/jupyter_envmod_site.json``) and, on request, sample
``.condarc``, ``pip.conf`` and ``uv.toml`` are serialised with each format's own
library, parsed back and compared, then written atomically (temporary file and
rename). The site file is loaded back once more from its configuration directory.

The modules: :mod:`.questions` (the table, parsing what was typed),
:mod:`.answers` (defaults, the traits the answers set, their validation, advice),
:mod:`.samples` (sample .condarc, pip.conf, uv.toml), :mod:`.sitefile` (the site
file, writing everything) and :mod:`.firstrun` (the users' first-run choice).

No tornado and no ``input()`` here: ``cli/siteinit.py`` asks and prints. The
configuration and format libraries are imported inside the functions that need
them, so building the CLI parser stays quick.
"""

from __future__ import annotations

from .answers import (
    SiteDefaults,
    answer_warnings,
    answers_to_traits,
    builtin_defaults,
    check_answer,
    check_answers,
    current_defaults,
    in_home,
    module_system_of,
    resolve_answers,
    stand_in_variables,
    unset_variables,
    variables_used,
)
from .firstrun import (
    USER_CHOICE_FILE,
    EnvDirChoice,
    env_dir_choices,
    env_dirs_configured,
    first_run_needed,
    parse_env_dir_choice,
    user_choice_path,
    write_user_choice,
)
from .questions import (
    CONDA_DEFAULT_ENV_DIR,
    MODULE_SYSTEMS,
    NONE_WORD,
    QUESTIONS,
    AnswerProblem,
    BadAnswer,
    Question,
    answers_error,
    display,
    parse_answer,
    parse_prompt,
    question,
)
from .samples import load_sample, render_samples, sample_warnings
from .sitefile import (
    CHECK_ADVICE,
    DEPLOY,
    DROPIN_DIR,
    SITE_FILE,
    SiteInitResult,
    WrittenFile,
    build_site_config,
    existing_files,
    render_site_file,
    site_file_path,
    target_files,
    write_site,
)

__all__ = [
    "CHECK_ADVICE",
    "CONDA_DEFAULT_ENV_DIR",
    "DEPLOY",
    "DROPIN_DIR",
    "MODULE_SYSTEMS",
    "NONE_WORD",
    "QUESTIONS",
    "SITE_FILE",
    "USER_CHOICE_FILE",
    "AnswerProblem",
    "BadAnswer",
    "EnvDirChoice",
    "Question",
    "SiteDefaults",
    "SiteInitResult",
    "WrittenFile",
    "answer_warnings",
    "answers_error",
    "answers_to_traits",
    "build_site_config",
    "builtin_defaults",
    "check_answer",
    "check_answers",
    "current_defaults",
    "display",
    "env_dir_choices",
    "env_dirs_configured",
    "existing_files",
    "first_run_needed",
    "in_home",
    "load_sample",
    "module_system_of",
    "parse_answer",
    "parse_env_dir_choice",
    "parse_prompt",
    "question",
    "render_samples",
    "render_site_file",
    "resolve_answers",
    "sample_warnings",
    "site_file_path",
    "stand_in_variables",
    "target_files",
    "unset_variables",
    "user_choice_path",
    "variables_used",
    "write_site",
    "write_user_choice",
]
