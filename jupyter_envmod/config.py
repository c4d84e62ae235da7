"""Site configuration: the ``EnvMod`` configurable and the one function that loads it.

Admins set ``c.EnvMod.<trait>`` in the ordinary Jupyter Server config files
(``jupyter_server_config.py`` / ``.json`` in any ``jupyter --paths`` config
directory) or drop a JSON file with an ``"EnvMod"`` section into a
``jupyter_server_config.d/`` directory. The server extension and the CLI both call
:func:`load_envmod`, so they always agree on the effective configuration.
"""

from __future__ import annotations

import getpass
import glob
import grp
import json
import os
import platform
import re
import string
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default
from traitlets.config import Config, Configurable
from traitlets.config.loader import LazyConfigValue

from .errors import ConfigError

ENGINES = ("rattler", "conda", "venv")
MODULE_FORMATS = ("lua", "tcl", "sh", "csh")
DEFAULT_THREAD_VARIABLES = [
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
]
#: Placeholders a naming template (kernel name, display name, module name) may use.
NAME_FIELDS = ("name", "python_version", "engine", "user", "arch")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNEXPANDED_VAR = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_PLACEHOLDER = re.compile(r"(?<!\$)\{([^{}]*)\}")
_PYTHON_VERSION = re.compile(r"^3(\.\d+){1,2}$")

PATH_EXPANSION_HELP = (
    "Each path may use ~, $VAR or ${VAR} (environment variables), {user} (the login "
    "name) and {arch} (the machine architecture, e.g. x86_64 or aarch64 — useful when "
    "clusters of different architectures share one home)."
)


def expand_path(value: str) -> str:
    """Expand ``{user}``, ``{arch}``, ``$VAR``/``${VAR}`` and ``~`` in ``value``.

    Raises ``ValueError`` naming what could not be expanded; the result is not
    checked for being absolute (callers decide).
    """

    def placeholder(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "user":
            return getpass.getuser()
        if key == "arch":
            return platform.machine()
        raise ValueError(f"unknown placeholder {{{key}}}; only {{user}} and {{arch}} are expanded")

    expanded = _PLACEHOLDER.sub(placeholder, value)
    expanded = os.path.expandvars(expanded)
    left = _UNEXPANDED_VAR.search(expanded)
    if left:
        raise ValueError(f"environment variable {left.group(0)} is not set")
    return os.path.expanduser(expanded)


class EnvMod(Configurable):
    """Site configuration of jupyter_envmod: where environments go, engines and
    channels, kernels, module files and templates."""

    # -- where environments live --------------------------------------------------
    env_dirs = List(
        Unicode(),
        config=True,
        help=(
            "Ordered list of directories that hold environments. New environments "
            "created by name go into the first one; all are searched when listing. "
            "Default: conda's own default — the entries of $CONDA_ENVS_PATH when set, "
            "else ~/.conda/envs. Many sites want $PROJECT or scratch space here "
            "rather than $HOME. " + PATH_EXPANSION_HELP
        ),
    )

    @default("env_dirs")
    def _default_env_dirs(self) -> list[str]:
        from_env = [p for p in os.environ.get("CONDA_ENVS_PATH", "").split(os.pathsep) if p]
        return from_env or ["~/.conda/envs"]

    allowed_roots = List(
        Unicode(),
        config=True,
        help=(
            "Directories inside which create, delete and package changes may act. An "
            "environment given by path outside all of them is refused. Default: "
            "env_dirs plus shared_roots. " + PATH_EXPANSION_HELP
        ),
    )

    @default("allowed_roots")
    def _default_allowed_roots(self) -> list[str]:
        return list(self.env_dirs) + list(self.shared_roots)

    # -- engines --------------------------------------------------------------------
    default_engine = Enum(
        list(ENGINES),
        default_value="rattler",
        config=True,
        help=(
            "Engine used when a request names none: 'rattler' (conda packages solved "
            "and installed by the embedded py-rattler library, no conda installation "
            "needed), 'conda' (the site's conda, mamba or micromamba executable, see "
            "conda_executable) or 'venv' (a Python virtual environment made and filled "
            "by uv from PyPI or pip_index_url)."
        ),
    )

    conda_executable = Unicode(
        config=True,
        help=(
            "Name (looked up on PATH) or absolute path of the conda, mamba or "
            "micromamba executable used by the 'conda' engine. Default: $CONDA_EXE, "
            "else $MAMBA_EXE, else 'conda'."
        ),
    )

    @default("conda_executable")
    def _default_conda_executable(self) -> str:
        return os.environ.get("CONDA_EXE") or os.environ.get("MAMBA_EXE") or "conda"

    channels = List(
        Unicode(),
        default_value=["conda-forge"],
        config=True,
        help=(
            "Conda channels, highest priority first, used by the 'rattler' and "
            "'conda' engines when a request names none: channel names (conda-forge), "
            "URLs of a site mirror (https://mirror.example/conda-forge) or local "
            "channels (file:///opt/channel)."
        ),
    )

    channel_priority = Enum(
        ["strict", "flexible"],
        default_value="strict",
        config=True,
        help=(
            "'strict': a package found in a higher-priority channel is never taken "
            "from a lower one (conda-forge's recommendation; avoids mixing builds). "
            "'flexible': the solver may take a newer build from any channel."
        ),
    )

    pip_index_url = Unicode(
        "",
        config=True,
        help=(
            "Package index for pip packages (venv engine and pip packages inside conda "
            "environments), e.g. a site mirror https://pypi.example/simple. Empty: uv "
            "uses the user's and the site's own uv/pip configuration (PyPI by default)."
        ),
    )

    default_python = Unicode(
        config=True,
        help=(
            "Python version for new environments when a request names none, as X.Y or "
            "X.Y.Z. Default: the version of the Python running Jupyter Server."
        ),
    )

    @default("default_python")
    def _default_default_python(self) -> str:
        return f"{sys.version_info.major}.{sys.version_info.minor}"

    # -- kernels --------------------------------------------------------------------
    kernel_dir = Unicode(
        config=True,
        help=(
            "Directory that receives the kernelspecs of environments. Default: the "
            "'kernels' folder of the user's Jupyter data directory (jupyter --data-dir), "
            "where Jupyter finds kernels without further configuration. " + PATH_EXPANSION_HELP
        ),
    )

    @default("kernel_dir")
    def _default_kernel_dir(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "kernels")

    kernel_name_template = Unicode(
        "envmod-{name}",
        config=True,
        help=(
            "Template of the kernelspec directory name (what notebooks record as "
            "their kernel). Placeholders: {name}, {python_version}, {engine}, {user}, "
            "{arch}. The result is lower-cased and reduced to letters, digits, '.', '_' "
            "and '-'; it must stay stable so notebooks keep finding their kernel."
        ),
    )

    kernel_display_name_template = Unicode(
        "Python {python_version} ({name})",
        config=True,
        help=(
            "Template of the kernel name shown in the Launcher and the kernel menu. "
            "Placeholders: {name}, {python_version}, {engine}, {user}, {arch}."
        ),
    )

    kernel_env = Dict(
        value_trait=Unicode(),
        default_value={},
        config=True,
        help=(
            "Extra environment variables set by every generated kernel, e.g. "
            '{"MPLBACKEND": "module://matplotlib_inline.backend_inline"}. Keys must be '
            "valid variable names."
        ),
    )

    thread_variables = List(
        Unicode(),
        default_value=list(DEFAULT_THREAD_VARIABLES),
        config=True,
        help=(
            "Variables that a kernel sets, at each start, to the number of CPUs its job "
            "may use (Slurm's SLURM_CPUS_PER_TASK, else the CPU affinity mask capped by "
            "the cgroup CPU quota), unless already set, so threaded libraries do not "
            "oversubscribe the job's cores."
        ),
    )

    # -- module files ---------------------------------------------------------------
    module_dir = Unicode(
        "~/privatemodules",
        config=True,
        help=(
            "Directory that receives module files; users add it with 'module use'. The "
            "default follows the conda-env-mod convention. " + PATH_EXPANSION_HELP
        ),
    )

    module_app = Unicode(
        "conda-env",
        config=True,
        help=(
            "Subdirectory of module_dir for environment modules: users load "
            "'<module_app>/<module name>', e.g. 'module load conda-env/myenv-py3.11.7'."
        ),
    )

    module_name_template = Unicode(
        "{name}-py{python_version}",
        config=True,
        help=(
            "Template of the module name (the version part of '<module_app>/<name>'). "
            "Placeholders: {name}, {python_version}, {engine}, {user}, {arch}."
        ),
    )

    module_formats = List(
        Enum(list(MODULE_FORMATS)),
        default_value=list(MODULE_FORMATS),
        config=True,
        help=(
            "Which files to generate for an environment: 'lua' (Lmod module), 'tcl' "
            "(Environment Modules / Lmod), 'sh' (activate.sh for POSIX shells) and "
            "'csh' (activate.csh for csh/tcsh)."
        ),
    )

    activate_dir = Unicode(
        config=True,
        help=(
            "Directory that receives activation scripts for batch jobs without a module "
            "system: '<module name>.sh' (sh, bash, zsh) and '<module name>.csh' (csh, "
            "tcsh), each defining a matching deactivate. Default: 'envmod/activate' in "
            "the user's Jupyter data directory. " + PATH_EXPANSION_HELP
        ),
    )

    @default("activate_dir")
    def _default_activate_dir(self) -> str:
        from jupyter_core.paths import jupyter_data_dir

        return os.path.join(jupyter_data_dir(), "envmod", "activate")

    kernel_keep_pythonpath = Bool(
        False,
        config=True,
        help=(
            "Keep a PYTHONPATH inherited from the server in generated kernels. By default "
            "the kernel launcher drops it: packages from another Python shadowing the "
            "environment's are a common cause of broken kernels."
        ),
    )

    module_timeout = Float(
        30.0,
        config=True,
        help=(
            "Seconds the kernel launcher waits for the module system to load an "
            "environment's module dependencies before the kernel start fails."
        ),
    )

    # -- templates --------------------------------------------------------------------
    template_dirs = List(
        Unicode(),
        default_value=[],
        config=True,
        help=(
            "Directories of site Jinja2 templates. A file here replaces the built-in "
            "template of the same file name (kernel.json, the kernel launcher, module "
            "files, activation scripts); earlier directories win. Each must exist. " + PATH_EXPANSION_HELP
        ),
    )

    template_variables = Dict(
        default_value={},
        config=True,
        help=(
            "Site values for templates, available as {{ site.<key> }}, e.g. "
            '{"support_url": "https://hpc.example.org/help"}. Keys must be identifiers.'
        ),
    )

    # -- group-shared environments ----------------------------------------------------
    shared_roots = List(
        Unicode(),
        default_value=[],
        config=True,
        help=(
            "Directories for environments shared by a group of users. Environments "
            "created there are owned by shared_group, with setgid, group-writable "
            "directories (see shared_umask). " + PATH_EXPANSION_HELP
        ),
    )

    shared_group = Unicode(
        "",
        config=True,
        help=(
            "Unix group that owns environments in shared_roots. Empty: the group of the "
            "shared root directory itself. When set, the group must exist."
        ),
    )

    shared_umask = Int(
        0o002,
        config=True,
        help=(
            "umask applied while creating or changing environments in shared_roots. The "
            "default 0o002 keeps files group-writable so co-maintainers can change them "
            "and everyone else read-only. In JSON config files give it as a decimal "
            "number (2 for 0o002, 7 for 0o007)."
        ),
    )

    # -- tasks -----------------------------------------------------------------------
    task_retention = Float(
        3600.0,
        config=True,
        help=(
            "Seconds the server keeps a finished task (its state, log and result) for "
            "GET /envmod/tasks after it ended, so a browser that was closed during a long "
            "create still finds the outcome. Running tasks are always kept."
        ),
    )

    # -- caches ----------------------------------------------------------------------
    cache_dir = Unicode(
        "",
        config=True,
        help=(
            "Per-user directory for package caches: conda packages go to <cache_dir>/rattler, "
            "pip wheels to <cache_dir>/uv. Sites with small home quotas point this at scratch "
            "or project space, e.g. /scratch/{user}/envmod-cache. Empty: each tool's own "
            "per-user default ($XDG_CACHE_HOME or ~/.cache, or $UV_CACHE_DIR and "
            "$RATTLER_CACHE_DIR when set). It must not be a world-writable directory such as "
            "/tmp: caches are never shared between users. " + PATH_EXPANSION_HELP
        ),
    )

    def cache_path(self, tool: str) -> Path | None:
        """The cache directory for ``tool`` ("rattler" or "uv"), created private to
        the user; None when the tool's own default applies."""
        if not self.cache_dir:
            return None
        path = Path(self.expanded("cache_dir")) / tool
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    # -- validation and expansion ----------------------------------------------------

    def validate(self) -> None:
        """Check every trait; raise one :class:`ConfigError` listing all problems."""
        problems: list[dict[str, Any]] = []

        def bad(trait: str, value: Any, problem: str) -> None:
            problems.append({"trait": trait, "value": value, "problem": problem})

        for trait in ("env_dirs", "shared_roots", "template_dirs", "allowed_roots"):
            values = getattr(self, trait)
            if trait == "allowed_roots":  # entries copied from env_dirs/shared_roots are checked there
                values = [v for v in values if v not in self.env_dirs and v not in self.shared_roots]
            for raw in values:
                self._check_path(trait, raw, bad, must_exist=trait == "template_dirs")
        for trait in ("kernel_dir", "module_dir", "activate_dir"):
            self._check_path(trait, getattr(self, trait), bad)
        if self.cache_dir:
            self._check_path("cache_dir", self.cache_dir, bad)
            self._check_cache_dir(self.cache_dir, bad)
        if not self.env_dirs:
            bad("env_dirs", [], "at least one directory is needed for new environments")

        if not self.conda_executable.strip():
            bad("conda_executable", self.conda_executable, "give a name such as 'conda' or an absolute path")
        elif os.sep in self.conda_executable and not os.path.isabs(self.conda_executable):
            bad("conda_executable", self.conda_executable, "give a bare name looked up on PATH or an absolute path")

        for channel in self.channels:
            if not channel.strip() or any(c.isspace() for c in channel):
                bad("channels", channel, "a channel is a name, an https:// or a file:// URL, without spaces")
        if not self.channels:
            bad("channels", [], "at least one channel is needed by the conda engines")

        if self.pip_index_url:
            parsed = urllib.parse.urlparse(self.pip_index_url)
            if parsed.scheme not in ("http", "https", "file") or not (parsed.netloc or parsed.path):
                bad("pip_index_url", self.pip_index_url, "give an http(s):// or file:// URL, or leave it empty")

        if not _PYTHON_VERSION.match(self.default_python):
            bad("default_python", self.default_python, "give a Python 3 version as X.Y or X.Y.Z, e.g. '3.11'")

        for trait in ("kernel_name_template", "kernel_display_name_template", "module_name_template"):
            self._check_name_template(trait, getattr(self, trait), bad)

        bad_name = "variable names use letters, digits and '_' and do not start with a digit"
        for key in self.kernel_env:
            if not _ENV_NAME.match(key):
                bad("kernel_env", key, bad_name)
        for name in self.thread_variables:
            if not _ENV_NAME.match(name):
                bad("thread_variables", name, bad_name)

        for key in self.template_variables:
            if not key.isidentifier():
                bad("template_variables", key, "keys are identifiers (letters, digits and '_'), used as site.<key>")
        if not 0 < self.module_timeout <= 600:
            bad("module_timeout", self.module_timeout, "give a number of seconds between 0 and 600")
        if not 0 <= self.task_retention <= 30 * 86400:
            bad("task_retention", self.task_retention, "give a number of seconds between 0 and 2592000 (30 days)")

        if not self.module_app or "/" in self.module_app or self.module_app in (".", ".."):
            bad("module_app", self.module_app, "give one directory name, e.g. 'conda-env'")
        if len(set(self.module_formats)) != len(self.module_formats):
            bad("module_formats", list(self.module_formats), "each format may appear once")

        if self.shared_group:
            try:
                grp.getgrnam(self.shared_group)
            except KeyError:
                bad("shared_group", self.shared_group, "no such group on this machine (see 'getent group')")
        if not 0 <= self.shared_umask <= 0o777:
            bad("shared_umask", self.shared_umask, "give a umask between 0 and 0o777, e.g. 0o002")

        if self.template_dirs and not any(p["trait"] == "template_dirs" for p in problems):
            self._check_templates(bad)

        if problems:
            raise ConfigError(problems)

    def _check_templates(self, bad: Any) -> None:
        """Render the site's templates with sample values now, so a typo fails at
        load naming the file and line, not at kernel start."""
        from .templating import Templates

        for err in Templates.for_site(self).check(self):
            where = f"{err.file}, line {err.line}" if err.line else err.file
            bad("template_dirs", where, err.problem)

    @staticmethod
    def _check_path(trait: str, raw: str, bad: Any, must_exist: bool = False) -> None:
        try:
            path = expand_path(raw)
        except ValueError as err:
            bad(trait, raw, str(err))
            return
        if not os.path.isabs(path):
            bad(trait, raw, f"must be an absolute path after expansion (got {path!r}); start it with /, ~ or $VAR")
        elif must_exist and not os.path.isdir(path):
            bad(trait, raw, f"directory {path} does not exist")

    @staticmethod
    def _check_cache_dir(raw: str, bad: Any) -> None:
        try:
            path = Path(expand_path(raw))
        except ValueError:
            return  # already reported by _check_path
        if path.exists() and path.stat().st_mode & 0o002:
            bad("cache_dir", raw, "is world-writable; caches are per user, use e.g. /scratch/{user}/envmod-cache")

    @staticmethod
    def _check_name_template(trait: str, template: str, bad: Any) -> None:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as err:
            bad(trait, template, f"not a valid template: {err}")
            return
        for field in fields:
            if field not in NAME_FIELDS:
                allowed = ", ".join("{" + f + "}" for f in NAME_FIELDS)
                bad(trait, template, f"unknown placeholder {{{field}}}; use {allowed}")
        if not template.strip():
            bad(trait, template, "must not be empty")

    def expanded(self, trait: str) -> Any:
        """The value of a path trait (or list of paths) with all expansion applied."""
        value = getattr(self, trait)
        if isinstance(value, list):
            return [os.path.normpath(expand_path(v)) for v in value]
        return os.path.normpath(expand_path(value))

    @property
    def env_roots(self) -> list[Path]:
        """Expanded env_dirs, in order; the first receives new environments."""
        return [Path(p) for p in self.expanded("env_dirs")]

    def effective(self) -> dict[str, Any]:
        """Every trait's effective value, paths expanded: what /envmod/site reports."""
        paths = {"env_dirs", "allowed_roots", "template_dirs", "shared_roots"}
        paths |= {"kernel_dir", "module_dir", "activate_dir"}
        result: dict[str, Any] = {}
        for name in sorted(self.class_own_traits(config=True)):
            value = (
                self.expanded(name)
                if name in paths or (name == "cache_dir" and self.cache_dir)
                else getattr(self, name)
            )
            if name == "shared_umask":
                value = f"{value:04o}"
            elif isinstance(value, (list, dict)):
                value = json.loads(json.dumps(value))
            result[name] = value
        return result


def read_dropin_config(config_paths: list[str] | None = None) -> Config:
    """``EnvMod`` sections of ``jupyter_server_config.d/*.json`` files.

    Jupyter Server reads those drop-in directories only for ``jpserver_extensions``;
    jupyter_envmod also reads its own section there so a site can deploy its
    configuration as one file beside the file that enables the extension. Later
    (higher-priority) config directories win; within a directory, files apply in
    name order.
    """
    from jupyter_core.paths import jupyter_config_path

    merged = Config()
    paths = config_paths if config_paths is not None else jupyter_config_path()
    for directory in reversed(paths):  # lowest priority first
        for filename in sorted(glob.glob(os.path.join(directory, "jupyter_server_config.d", "*.json"))):
            try:
                with open(filename, encoding="utf-8") as f:
                    data = json.load(f)
            except (OSError, ValueError) as err:
                raise ConfigError(
                    [{"trait": "(file)", "value": filename, "problem": f"cannot read this JSON config file: {err}"}]
                ) from err
            if isinstance(data, dict) and isinstance(data.get("EnvMod"), dict):
                merged.merge(Config({"EnvMod": data["EnvMod"]}))
    return merged


def read_server_config(config_paths: list[str] | None = None) -> Config:
    """The configuration Jupyter Server itself would read from its config files
    (``jupyter_config`` and ``jupyter_server_config``, .py and .json, in every
    config directory), for callers that are not the server (the CLI)."""
    from jupyter_core.application import JupyterApp

    class _ServerConfigReader(JupyterApp):
        name = "jupyter_server"
        config_file_name = "jupyter_server_config"

        @property
        def config_file_paths(self) -> list[str]:
            return config_paths if config_paths is not None else super().config_file_paths

    reader = _ServerConfigReader()
    reader.raise_config_file_errors = True
    reader.load_config_file()
    return reader.config


def load_envmod(config: Config | None = None, *, config_paths: list[str] | None = None) -> EnvMod:
    """Build and validate the site's :class:`EnvMod`.

    ``config`` is the server's already-loaded configuration (``serverapp.config``);
    without it the Jupyter Server config files are read (what the CLI does). Drop-in
    ``EnvMod`` sections under ``jupyter_server_config.d`` apply beneath either.
    Raises :class:`ConfigError` naming each bad trait and value.
    """
    merged = read_dropin_config(config_paths)
    merged.merge(config if config is not None else read_server_config(config_paths))
    _check_trait_values(merged.get("EnvMod", {}))
    envmod = EnvMod(config=merged)
    envmod.validate()
    return envmod


def _check_trait_values(section: Any) -> None:
    """Type-check every configured EnvMod value on its own, so all bad values (and
    misspelt trait names, which traitlets would only warn about) are reported
    together."""
    import difflib

    traits = EnvMod.class_own_traits(config=True)
    probe = EnvMod()
    problems: list[dict[str, Any]] = []
    for name in sorted(section):
        value = section[name]
        if name not in traits:
            close = difflib.get_close_matches(name, traits, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append({"trait": name, "value": value, "problem": f"EnvMod has no such setting{hint}"})
            continue
        if isinstance(value, LazyConfigValue):  # e.g. c.EnvMod.channels.append(...)
            value = value.get_value(getattr(probe, name))
        try:
            setattr(probe, name, value)
        except TraitError as err:
            problems.append({"trait": name, "value": value, "problem": str(err)})
    if problems:
        raise ConfigError(problems)
