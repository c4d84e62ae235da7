"""Finding environments on disk: listing, looking one up, and path rules.

Environments are discovered, not remembered. Sources, in order: the configured
``env_dirs`` and ``shared_roots``, ``$CONDA_ENVS_PATH``, ``envs_dirs`` of conda's
``.condarc`` files, and the prefixes in ``~/.conda/environments.txt``. A directory
is an environment when it has ``conda-meta/`` (conda) or ``pyvenv.cfg`` (venv), or
our own state file (an interrupted create). Listing reads a few small files per
environment and never starts a subprocess.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import EnvMod, expand_path
from .engines.condameta import python_version_from_meta
from .errors import InvalidInput, NotFound
from .specs import check_env_name
from .state import STATE_DIR, EnvState, operation_alive, read_state

READY, BUSY, INTERRUPTED, BROKEN = "ready", "busy", "interrupted", "broken"

#: conda's own search order for configuration files (user files last, so they win)
CONDARC_LOCATIONS = (
    "/etc/conda/.condarc",
    "/etc/conda/condarc",
    "/etc/conda/condarc.d",
    "/var/lib/conda/.condarc",
    "/var/lib/conda/condarc",
    "/var/lib/conda/condarc.d",
    "$CONDA_ROOT/.condarc",
    "$CONDA_ROOT/condarc",
    "$CONDA_ROOT/condarc.d",
    "$XDG_CONFIG_HOME/conda/.condarc",
    "$XDG_CONFIG_HOME/conda/condarc",
    "$XDG_CONFIG_HOME/conda/condarc.d",
    "~/.config/conda/.condarc",
    "~/.config/conda/condarc",
    "~/.config/conda/condarc.d",
    "~/.conda/.condarc",
    "~/.conda/condarc",
    "~/.conda/condarc.d",
    "~/.condarc",
    "$CONDA_PREFIX/.condarc",
    "$CONDA_PREFIX/condarc",
    "$CONDA_PREFIX/condarc.d",
    "$CONDARC",
)


def env_id(real_path: str) -> str:
    """Short, stable, URL-safe id of an environment, derived from its real path."""
    digest = hashlib.sha256(real_path.encode("utf-8", "surrogateescape")).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


@dataclass
class Environment:
    id: str
    name: str
    path: str
    kind: str  # "conda" | "venv" | "unknown" (an interrupted create)
    engine: str  # the engine that made it, or the one used for it
    python_version: str | None
    managed: bool
    created: float | None
    modified: float | None
    state: str
    found_in: str  # the root, or "environments.txt"
    state_record: EnvState | None = field(default=None, repr=False)

    @property
    def prefix(self) -> Path:
        return Path(self.path)

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    def to_json(self) -> dict[str, Any]:
        generated = self.state_record.generated if self.state_record else {}
        operation = self.state_record.operation if self.state_record else None
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "engine": self.engine,
            "type": self.kind,
            "python_version": self.python_version,
            "managed": self.managed,
            "created": self.created,
            "modified": self.modified,
            "state": self.state,
            "operation": operation,
            "kernel": generated.get("kernel"),
            "modules": generated.get("modules", []),
            "module": generated.get("module"),
            "module_deps": list(self.state_record.module_deps) if self.state_record else [],
        }


# -- where to look -------------------------------------------------------------------


def _expand(raw: str) -> str | None:
    try:
        return os.path.normpath(expand_path(raw))
    except ValueError:
        return None


def condarc_files(environ: dict[str, str] | None = None) -> list[Path]:
    environ = dict(os.environ if environ is None else environ)
    files: list[Path] = []
    for raw in CONDARC_LOCATIONS:
        var = raw[1:].split("/", 1)[0] if raw.startswith("$") else None
        if var is not None and not environ.get(var):
            continue
        expanded = _expand(raw)
        if expanded is None:
            continue
        path = Path(expanded)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml")))
        elif path.is_file():
            files.append(path)
    return files


def condarc_envs_dirs(environ: dict[str, str] | None = None) -> list[str]:
    """``envs_dirs`` (and the older ``envs_path``) of every .condarc found."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="safe", pure=True)
    dirs: list[str] = []
    for path in condarc_files(environ):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"))
        except (OSError, YAMLError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict):
            continue
        for key in ("envs_dirs", "envs_path"):
            value = data.get(key)
            if isinstance(value, list):
                dirs.extend(str(v) for v in value if isinstance(v, str))
    return dirs


def search_roots(envmod: EnvMod) -> list[Path]:
    """Every directory whose sub-directories may be environments, de-duplicated, in order."""
    raw: list[str] = list(envmod.expanded("env_dirs")) + list(envmod.expanded("shared_roots"))
    raw += [p for p in os.environ.get("CONDA_ENVS_PATH", "").split(os.pathsep) if p]
    raw += condarc_envs_dirs()
    seen: set[str] = set()
    roots: list[Path] = []
    for entry in raw:
        expanded = _expand(entry)
        if expanded is None:
            continue
        real = os.path.realpath(expanded)
        if real not in seen:
            seen.add(real)
            roots.append(Path(expanded))
    return roots


def environments_txt() -> Path:
    return Path(os.path.expanduser("~/.conda/environments.txt"))


def registered_prefixes() -> list[str]:
    try:
        text = environments_txt().read_text(encoding="utf-8")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


# -- one environment -----------------------------------------------------------------


def _scan(path: str) -> tuple[str | None, bool]:
    """(kind, has our state dir) from one directory scan. kind: conda, venv, unknown
    (only our state file: an interrupted create) or None (not an environment)."""
    try:
        with os.scandir(path) as it:
            names = {e.name for e in it if e.name in ("conda-meta", "pyvenv.cfg", STATE_DIR)}
    except OSError:
        return None, False
    managed = STATE_DIR in names
    if "conda-meta" in names:
        return "conda", managed
    if "pyvenv.cfg" in names:
        return "venv", managed
    return ("unknown" if managed else None), managed


#: conda-meta directory -> (its mtime_ns, the python version found): a listing repeated
#: by a polling panel costs one stat per conda environment instead of a directory scan
_PYTHON_VERSIONS: dict[str, tuple[int, str | None]] = {}


def _conda_python_version(path: str) -> str | None:
    meta = os.path.join(path, "conda-meta")
    try:
        mtime = os.stat(meta).st_mtime_ns
    except OSError:
        return None
    cached = _PYTHON_VERSIONS.get(meta)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    version = python_version_from_meta(Path(path))
    _PYTHON_VERSIONS[meta] = (mtime, version)
    return version


def _venv_python_version(path: str) -> str | None:
    try:
        with open(os.path.join(path, "pyvenv.cfg"), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition("=")
                if key.strip() in ("version_info", "version"):
                    return value.strip()
    except OSError:
        return None
    return None


def default_engine_for(kind: str, envmod: EnvMod) -> str:
    if kind == "venv":
        return "venv"
    return envmod.default_engine if envmod.default_engine in ("rattler", "conda") else "rattler"


def inspect(path: str, found_in: str, envmod: EnvMod, *, real: str | None = None) -> Environment | None:
    """The environment at ``path`` (not resolved further), or None when it is none.
    ``real``: its real path when the caller already knows it."""
    kind, managed = _scan(path)
    if kind is None:
        return None
    if real is None:
        real = os.path.realpath(path)
    state = read_state(Path(path)) if managed else None
    if kind == "conda":
        python_version = _conda_python_version(path)
    elif kind == "venv":
        python_version = _venv_python_version(path)
    else:
        python_version = None
    if state is not None and state.operation:
        status = BUSY if operation_alive(state.operation) else INTERRUPTED
    elif kind == "unknown":
        status = INTERRUPTED
    elif python_version is not None and not os.path.exists(os.path.join(path, "bin", "python")):
        status = BROKEN  # the interpreter (or what its symlink points at) is gone
    else:
        status = READY
    if state is not None:
        created, modified = state.created, state.modified
    else:
        try:
            st = os.stat(os.path.join(path, "conda-meta" if kind == "conda" else "pyvenv.cfg"))
            created, modified = st.st_ctime, st.st_mtime
        except OSError:
            created, modified = None, None
    return Environment(
        id=env_id(real),
        name=os.path.basename(path.rstrip("/")) or path,
        path=path,
        kind=kind,
        engine=state.engine if state else default_engine_for(kind, envmod),
        python_version=python_version or (state.python if state else None) or None,
        managed=state is not None,
        created=created,
        modified=modified,
        state=status,
        found_in=found_in,
        state_record=state,
    )


# -- all of them ---------------------------------------------------------------------


def _candidates(envmod: EnvMod) -> Iterator[tuple[str, str, str]]:
    """(path, where found, real path) of every directory that may be an environment.
    A root's real path is resolved once; only entries that are symlinks cost a
    realpath of their own."""
    for root in search_roots(envmod):
        root_real = os.path.realpath(root)
        try:
            with os.scandir(root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_dir():
                real = os.path.realpath(entry.path) if entry.is_symlink() else os.path.join(root_real, entry.name)
                yield entry.path, str(root), real
    for prefix in registered_prefixes():
        yield prefix, "environments.txt", os.path.realpath(prefix)


def list_environments(envmod: EnvMod) -> list[Environment]:
    """Every environment found, each once (by real path), in discovery order."""
    seen: set[str] = set()
    found: list[Environment] = []
    for path, source, real in _candidates(envmod):
        if real in seen:
            continue
        env = inspect(path, source, envmod, real=real)
        if env is not None:
            seen.add(real)
            found.append(env)
    return found


# -- looking one up ------------------------------------------------------------------


def resolve_path(raw: str, *, field: str = "path") -> Path:
    """An absolute or ~-relative path, expanded (not yet checked against allowed_roots)."""
    if not raw or "\n" in raw or "\0" in raw:
        raise InvalidInput(f"{field}: give an absolute or ~-relative path.", details={"field": field})
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        raise InvalidInput(
            f"{field} {raw!r} is relative: give an absolute path or one starting with ~.", details={"field": field}
        )
    return Path(os.path.normpath(expanded))


def allowed_real_roots(envmod: EnvMod) -> list[str]:
    return [os.path.realpath(p) for p in envmod.expanded("allowed_roots")]


def check_allowed(envmod: EnvMod, path: Path, *, field: str = "path") -> Path:
    """Refuse ``path`` unless, after resolving symlinks, it lies strictly inside one of
    ``allowed_roots``. Returns the real path."""
    real = os.path.realpath(path)
    for root in allowed_real_roots(envmod):
        if real != root and real.startswith(root.rstrip("/") + "/"):
            return Path(real)
    roots = ", ".join(envmod.expanded("allowed_roots")) or "(none configured)"
    raise InvalidInput(
        f"{path} is outside the directories where environments may be changed ({roots}). "
        "Choose a path inside one of them, or ask your site to add its directory to EnvMod.allowed_roots.",
        details={"field": field, "path": str(path), "allowed_roots": envmod.expanded("allowed_roots")},
    )


def path_for_name(envmod: EnvMod, name: str) -> Path:
    """Where a new environment called ``name`` goes: the first env_dirs root."""
    check_env_name(name)
    return envmod.env_roots[0] / name


def find(envmod: EnvMod, *, name: str | None = None, path: str | None = None) -> Environment:
    """Look up an existing environment by name (searched in the roots, in order) or by
    path. Raises :class:`NotFound`. (By id: ``Environments.find``, which also knows
    adopted environments.)"""
    if path is not None:
        prefix = resolve_path(path)
        env = inspect(str(prefix), "path", envmod)
        if env is None:
            raise NotFound(
                f"{prefix} is not an environment (it has neither conda-meta/ nor pyvenv.cfg).",
                details={"field": "path", "path": str(prefix)},
            )
        return env
    if name is not None:
        check_env_name(name)
        for root in search_roots(envmod):
            env = inspect(str(root / name), str(root), envmod)
            if env is not None:
                return env
        raise NotFound(
            f"No environment named {name!r} in {', '.join(str(r) for r in search_roots(envmod))}. "
            "`jupyter envmod list` shows the environments found.",
            details={"field": "name", "name": name},
        )
    raise InvalidInput("Name an environment with -n NAME or -p PATH.", details={"field": "name"})


def register_conda_prefix(prefix: Path, *, add: bool) -> None:
    """Add ``prefix`` to (or drop it from) ~/.conda/environments.txt as conda does,
    so conda itself lists environments made here."""
    txt = environments_txt()
    lines = registered_prefixes()
    entry = str(prefix)
    if add and entry not in lines:
        txt.parent.mkdir(parents=True, exist_ok=True)
        with open(txt, "a", encoding="utf-8") as f:
            f.write(entry + "\n")
    elif not add and entry in lines:
        kept: Iterable[str] = (line for line in lines if line != entry)
        tmp = txt.with_name(f".environments.txt.{os.getpid()}")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, txt)
