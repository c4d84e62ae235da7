"""Parse and validate environment specifications, and write exports.

Four input formats are understood: conda ``environment.yml``, pip
``requirements.txt`` (with ``-r`` includes), conda explicit files (``@EXPLICIT``)
and rattler/pixi lock files. Every rejection raises
:class:`~jupyter_envmod.errors.InvalidInput` whose ``details`` name the request
``field``, or the ``file`` and 1-based ``line`` of a spec file. The ``render_*``
functions write files that :func:`parse_spec_text` reads back to the same content.
"""

from __future__ import annotations

import io
import posixpath
import re
import shlex
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import rattler
from packaging.requirements import InvalidRequirement, Requirement
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .errors import InvalidInput

MAX_SPEC_BYTES = 1024 * 1024
NAME_RE = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\Z")
FORMATS = ("environment.yml", "requirements.txt", "explicit", "lock")
ENV_YML_KEYS = ("name", "channels", "dependencies", "prefix", "variables")
REQUEST_SOURCE = "<request>"

_NAME_HINT = "use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'"
_CONDA_HINT = "use a conda match spec such as 'numpy', 'numpy>=1.26', 'numpy=1.26.4=py311h_0' or 'conda-forge::numpy'"
_PIP_HINT = (
    "use a PEP 508 requirement such as 'requests', 'requests[socks]>=2.31', "
    "'pkg; python_version < \"3.12\"' or 'pkg @ https://host/pkg-1.0-py3-none-any.whl'"
)
_REQ_FORMS = f"requirement lines ({_PIP_HINT}) and '-r FILE' / '--requirement FILE' includes"
_CHANNEL_HINT = (
    "use a channel name such as 'conda-forge', 'bioconda' or 'conda-forge/label/dev', "
    "or an http://, https:// or file:// URL"
)
_EXPLICIT_HINT = (
    "one package URL per line (http, https or file; ending in .conda or .tar.bz2), "
    "optionally followed by '#<sha256>' or '#<md5>'"
)
_CHANNEL_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9._-]+)*")
_PY_RE = re.compile(r"[0-9]+(?:\.[0-9]+){0,2}")
_PY_PIN_RE = re.compile(r"(?:==)?([0-9]+\.[0-9]+(?:\.[0-9]+)?)(?:\.\*)?")
_VAR_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_INCLUDE_RE = re.compile(r"(?:-r|--requirement\b)\s*=?\s*(?P<path>.*)")
_EXPLICIT_RE = re.compile(r"^[ \t]*@EXPLICIT[ \t]*\r?$", re.MULTILINE)
_ENV_KEY_RE = re.compile(r"^(?:name|channels|dependencies)[ \t]*:", re.MULTILINE)


@dataclass(frozen=True)
class ExplicitEntry:
    """One package of an explicit file or lock: its URL and hash, if known."""

    url: str
    sha256: str | None = None
    md5: str | None = None

    @property
    def filename(self) -> str:
        """The package file name (last component of the URL path)."""
        return posixpath.basename(urlsplit(self.url).path)

    def to_line(self) -> str:
        """The line for an explicit file: ``url#sha256`` (or ``#md5``, or the bare URL)."""
        digest = self.sha256 or self.md5
        return f"{self.url}#{digest}" if digest else self.url


@dataclass
class EnvSpec:
    """The validated content of a spec; which fields are filled depends on ``format``."""

    format: str
    source: str
    name: str | None = None
    prefix: str | None = None
    channels: list[str] = field(default_factory=list)
    conda: list[str] = field(default_factory=list)
    pip: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    explicit: list[ExplicitEntry] = field(default_factory=list)
    python: str | None = None


@dataclass(frozen=True)
class _Loc:
    """Where a value came from: a request field, or a file and (maybe) a line."""

    field: str | None = None
    file: str | None = None
    line: int | None = None

    def at(self, line: int) -> _Loc:
        return _Loc(file=self.file, line=line)

    def error(self, message: str) -> InvalidInput:
        if self.file is None:
            return InvalidInput(f"{self.field}: {message}", details={"field": self.field})
        if self.line is None:
            return InvalidInput(f"{self.file}: {message}", details={"file": self.file})
        return InvalidInput(f"{self.file}, line {self.line}: {message}", details={"file": self.file, "line": self.line})


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _clean_text(value: object, what: str, loc: _Loc, hint: str) -> str:
    if not isinstance(value, str):
        raise loc.error(f"expected {what} as a string, got {type(value).__name__}; {hint}")
    text = value.strip()
    if not text:
        raise loc.error(f"empty {what}; {hint}")
    if _CONTROL_RE.search(text):
        raise loc.error(f"{what} {value!r} contains a line break or control character; {hint}")
    if text.startswith("-"):
        raise loc.error(f"{text!r} is an option, not a {what}; options are not accepted; {hint}")
    return text


def _env_name(name: object, loc: _Loc) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        length = f" ({len(name)} characters)" if isinstance(name, str) and len(name) > 64 else ""
        raise loc.error(f"invalid environment name {name!r}{length}; {_NAME_HINT}")
    return name


def _conda_spec(spec: object, loc: _Loc) -> str:
    text = _clean_text(spec, "conda package spec", loc, _CONDA_HINT)
    try:
        rattler.MatchSpec(text)
    except Exception as exc:
        raise loc.error(f"{text!r} is not a valid conda package spec ({_first_line(exc)}); {_CONDA_HINT}") from None
    return text


def _pip_requirement(req: object, loc: _Loc) -> str:
    text = _clean_text(req, "pip requirement", loc, _PIP_HINT)
    if re.search(r"\s--?[A-Za-z]", text):
        raise loc.error(f"{text!r} contains pip options; options are not accepted; {_PIP_HINT}")
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise loc.error(f"{text!r} is not a valid PEP 508 requirement ({_first_line(exc)}); {_PIP_HINT}") from None
    return text


def _channel(channel: object, loc: _Loc) -> str:
    text = _clean_text(channel, "channel", loc, _CHANNEL_HINT)
    if any(c.isspace() for c in text):
        raise loc.error(f"channel {text!r} contains whitespace; {_CHANNEL_HINT}")
    if "://" in text:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https", "file"):
            raise loc.error(f"channel URL {text!r} has unsupported scheme {parts.scheme!r}; {_CHANNEL_HINT}")
        if (scheme != "file" and not parts.netloc) or (scheme == "file" and not parts.path):
            raise loc.error(f"channel URL {text!r} is incomplete; {_CHANNEL_HINT}")
    elif not _CHANNEL_RE.fullmatch(text):
        raise loc.error(f"{text!r} is not a valid channel; {_CHANNEL_HINT}")
    return text


def check_env_name(name: str, *, field: str = "name") -> str:
    """Return ``name`` if it is a valid environment name (see :data:`NAME_RE`)."""
    return _env_name(name, _Loc(field=field))


def check_conda_spec(spec: str, *, field: str = "packages") -> str:
    """Return the conda match spec with surrounding whitespace removed, or raise.

    Rejects empty specs, options (anything starting with ``-``), line breaks and
    specs that ``rattler.MatchSpec`` cannot parse.
    """
    return _conda_spec(spec, _Loc(field=field))


def check_pip_requirement(req: str, *, field: str = "pip_packages") -> str:
    """Return the PEP 508 requirement with surrounding whitespace removed, or raise.

    Only requirements (name, extras, specifiers, markers, ``name @ url``) are
    accepted: no pip options, no line breaks.
    """
    return _pip_requirement(req, _Loc(field=field))


def check_channel(channel: str, *, field: str = "channels") -> str:
    """Return the channel (a name like ``conda-forge/label/dev``, or an http(s)/file URL), or raise."""
    return _channel(channel, _Loc(field=field))


def check_python_version(value: str, *, field: str = "python") -> str:
    """Return ``value`` if it has the form ``3``, ``3.11`` or ``3.11.4``, or raise."""
    if not isinstance(value, str) or not _PY_RE.fullmatch(value.strip()):
        raise _Loc(field=field).error(f"invalid Python version {value!r}; use a version like '3', '3.11' or '3.11.4'")
    return value.strip()


# -- reading ------------------------------------------------------------------


def _too_big(display: str, size: int, suffix: str = "") -> InvalidInput:
    return _Loc(file=display).error(
        f"spec file is {size} bytes, larger than the limit of {MAX_SPEC_BYTES} bytes (1 MiB){suffix}"
    )


def _read_spec(path: Path, display: str, suffix: str = "") -> str:
    """Read a spec file as text, checking its size before reading it."""
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise _too_big(display, size, suffix)
        with path.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise _Loc(file=display).error(f"cannot read spec file: {exc.strerror or exc}{suffix}") from None
    if len(data) > MAX_SPEC_BYTES:
        raise _too_big(display, len(data), suffix)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _Loc(file=display, line=line).error(f"not UTF-8 text (invalid byte at offset {exc.start})") from None


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_spec_file(path: Path, *, fmt: str | None = None) -> EnvSpec:
    """Read and parse a spec file (at most :data:`MAX_SPEC_BYTES`); see :func:`parse_spec_text`."""
    path = Path(path)
    text = _read_spec(path, str(path))
    return parse_spec_text(text, fmt=fmt, source=str(path), base_dir=path.parent)


def parse_spec_text(
    text: str, *, fmt: str | None = None, source: str = REQUEST_SOURCE, base_dir: Path | None = None
) -> EnvSpec:
    """Parse spec text in format ``fmt`` (detected when ``None``; one of :data:`FORMATS`).

    ``source`` names the text in messages and errors; ``base_dir`` is where
    ``-r`` includes of a requirements file are resolved (without it they are refused).
    """
    if fmt is not None and fmt not in FORMATS:
        raise _Loc(field="format").error(f"unknown spec format {fmt!r}; accepted formats: {', '.join(FORMATS)}")
    if len(text) > MAX_SPEC_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        raise _too_big(source, len(text.encode("utf-8", "surrogatepass")))
    if fmt is None:
        fmt = detect_format(text, None if source == REQUEST_SOURCE else source)
    if fmt == "environment.yml":
        return _parse_environment_yml(text, source)
    if fmt == "explicit":
        return _parse_explicit(text, source)
    if fmt == "lock":
        return _parse_lock(text, source)
    spec = EnvSpec(format="requirements.txt", source=source)
    stack: list[tuple[Path, str]] = []
    if base_dir is not None and source != REQUEST_SOURCE and (Path(base_dir) / Path(source).name).is_file():
        stack.append(((Path(base_dir) / Path(source).name).resolve(), source))
    _parse_requirements(text, source, Path(base_dir) if base_dir is not None else None, stack, spec.pip)
    return spec


def detect_format(text: str, filename: str | None) -> str:
    """Guess the format of spec text from its content and file name (one of :data:`FORMATS`)."""
    if _EXPLICIT_RE.search(text):
        return "explicit"
    base = posixpath.basename((filename or "").replace("\\", "/")).lower()
    if base.endswith(".txt"):
        return "requirements.txt"
    is_yml = base.endswith((".yml", ".yaml"))
    try:
        data = YAML(typ="safe").load(text)
    except Exception:
        data = None
    if isinstance(data, dict):
        if "version" in data and any(k in data for k in ("environments", "packages", "package")):
            return "lock"
        if is_yml or any(k in data for k in ENV_YML_KEYS):
            return "environment.yml"
    if is_yml or _ENV_KEY_RE.search(text):
        return "environment.yml"
    if base.endswith(".lock"):
        return "lock"
    return "requirements.txt"


# -- environment.yml ----------------------------------------------------------


def _yaml_line(node: Any, key: Any, *, item: bool = False) -> int | None:
    try:
        return int((node.lc.item(key) if item else node.lc.key(key))[0]) + 1
    except Exception:
        return None


def _parse_environment_yml(text: str, source: str) -> EnvSpec:
    file = _Loc(file=source)
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "syntax error"
        loc = file.at(mark.line + 1) if mark is not None else file
        raise loc.error(f"not valid YAML: {problem}") from None
    except YAMLError as exc:
        raise file.error(f"not valid YAML: {_first_line(exc)}") from None
    if data is None:
        raise file.error(f"the file is empty; an environment.yml needs keys among {', '.join(ENV_YML_KEYS)}")
    if not isinstance(data, CommentedMap):
        raise file.at(1).error(f"expected a mapping with keys among {', '.join(ENV_YML_KEYS)}")
    spec = EnvSpec(format="environment.yml", source=source)
    for key in data:
        if key not in ENV_YML_KEYS:
            raise file.at(_yaml_line(data, key) or 1).error(
                f"unknown key {key!r}; accepted keys: {', '.join(ENV_YML_KEYS)}"
            )
    for key in ("name", "prefix"):
        value = data.get(key)
        if value is not None:
            loc = file.at(_yaml_line(data, key) or 1)
            if not isinstance(value, str):
                raise loc.error(f"'{key}' must be a string, got {type(value).__name__}")
            setattr(spec, key, _env_name(value, loc) if key == "name" else value)
    for item, loc in _yaml_list(data, "channels", file):
        spec.channels.append(_channel(item, loc))
    for item, loc in _yaml_list(data, "dependencies", file):
        if isinstance(item, CommentedMap) and list(item) == ["pip"]:
            for req, req_loc in _yaml_list(item, "pip", file):
                if isinstance(req, str) and req.strip().startswith("-"):
                    raise req_loc.error(
                        f"pip options such as {req.strip()!r} are not accepted in environment.yml; "
                        f"list requirements only ({_PIP_HINT})"
                    )
                spec.pip.append(_pip_requirement(req, req_loc))
        elif isinstance(item, str):
            spec.conda.append(_conda_spec(item, loc))
        else:
            kind = "a mapping" if isinstance(item, dict) else type(item).__name__
            raise loc.error(f"a dependency must be a conda spec string or a 'pip:' list, got {kind}; {_CONDA_HINT}")
    variables = data.get("variables")
    if variables is not None:
        vloc = file.at(_yaml_line(data, "variables") or 1)
        if not isinstance(variables, CommentedMap):
            raise vloc.error(f"'variables' must be a mapping of NAME: value, got {type(variables).__name__}")
        for key, value in variables.items():
            loc = file.at(_yaml_line(variables, key) or vloc.line or 1)
            if not isinstance(key, str) or not _VAR_RE.fullmatch(key):
                raise loc.error(
                    f"invalid variable name {key!r}; use letters, digits and '_', not starting with a digit"
                )
            if value is None or isinstance(value, (list, dict)):
                raise loc.error(f"variable {key!r} must have a string or number value")
            spec.variables[key] = str(value)
    spec.python = _python_from_specs(spec.conda)
    return spec


def _yaml_list(parent: CommentedMap, key: str, file: _Loc) -> Iterator[tuple[Any, _Loc]]:
    """Items of the list ``parent[key]`` (None counts as empty), each with its location."""
    value = parent.get(key)
    if value is None:
        return
    if not isinstance(value, CommentedSeq):
        line = _yaml_line(parent, key) or 1
        raise file.at(line).error(f"'{key}' must be a list, got {type(value).__name__}")
    for i, item in enumerate(value):
        yield item, file.at(_yaml_line(value, i, item=True) or _yaml_line(parent, key) or 1)


def _python_from_specs(specs: list[str]) -> str | None:
    for text in specs:
        spec = rattler.MatchSpec(text)  # validated already
        if spec.name is not None and spec.name.normalized == "python" and spec.version:
            m = _PY_PIN_RE.fullmatch(str(spec.version).strip())
            if m:
                return m.group(1)
    return None


# -- requirements.txt ---------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Requirement lines as pip sees them: continuations joined, comments removed."""
    parts: list[str] = []
    start = 0
    for number, line in enumerate(_lines(text), 1):
        if not parts:
            start = number
        if line.endswith("\\") and not _COMMENT_RE.match(line):
            parts.append(line[:-1])
            continue
        parts.append(" " + line if _COMMENT_RE.match(line) else line)
        joined = _COMMENT_RE.sub("", "".join(parts)).strip()
        parts = []
        if joined:
            yield start, joined
    if parts and (joined := _COMMENT_RE.sub("", "".join(parts)).strip()):
        yield start, joined


def _parse_requirements(
    text: str, source: str, base_dir: Path | None, stack: list[tuple[Path, str]], out: list[str]
) -> None:
    file = _Loc(file=source)
    for number, line in _logical_lines(text):
        loc = file.at(number)
        if not line.startswith("-"):
            out.append(_pip_requirement(line, loc))
            continue
        match = _INCLUDE_RE.fullmatch(line)
        if match is None:
            option = line.split()[0].split("=")[0]
            raise loc.error(f"pip option {option!r} is not accepted; accepted are {_REQ_FORMS}")
        try:
            words = shlex.split(match["path"])
        except ValueError:
            words = []
        if len(words) != 1:
            raise loc.error(f"'-r' needs exactly one file name, got {match['path']!r}")
        if base_dir is None:
            raise loc.error(
                f"includes ({line!r}) are only accepted in requirement files; list the requirements directly"
            )
        target = words[0]
        path = base_dir / target
        display = (
            target if posixpath.isabs(target) else posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        )
        resolved = path.resolve()
        if any(seen == resolved for seen, _ in stack):
            chain = " -> ".join([name for _, name in stack] + [display])
            raise loc.error(f"include cycle: {chain}")
        included = _read_spec(path, display, f" (included from {source}, line {number})")
        _parse_requirements(included, display, resolved.parent, [*stack, (resolved, display)], out)


# -- explicit -----------------------------------------------------------------


def _explicit_entry(line: str, loc: _Loc) -> ExplicitEntry:
    url, sep, digest = line.partition("#")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    filename = posixpath.basename(parts.path)
    if any(c.isspace() for c in line) or _CONTROL_RE.search(line):
        raise loc.error(f"{line!r} contains whitespace; expected {_EXPLICIT_HINT}")
    if scheme not in ("http", "https", "file") or (scheme != "file" and not parts.netloc):
        raise loc.error(f"{url!r} is not an http, https or file URL; expected {_EXPLICIT_HINT}")
    if not filename.endswith((".conda", ".tar.bz2")) or filename in (".conda", ".tar.bz2"):
        raise loc.error(f"{url!r} is not a package URL (ending in .conda or .tar.bz2); expected {_EXPLICIT_HINT}")
    digest = digest.strip().lower()
    if not sep:
        return ExplicitEntry(url, None, None)
    if re.fullmatch(r"[0-9a-f]{64}", digest):
        return ExplicitEntry(url, digest, None)
    if re.fullmatch(r"[0-9a-f]{32}", digest):
        return ExplicitEntry(url, None, digest)
    raise loc.error(f"hash {digest!r} is neither a sha256 (64 hex digits) nor an md5 (32 hex digits)")


def _parse_explicit(text: str, source: str) -> EnvSpec:
    file = _Loc(file=source)
    spec = EnvSpec(format="explicit", source=source)
    seen = False
    for number, raw in enumerate(_lines(text), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "@EXPLICIT":
            seen = True
        elif not seen:
            raise file.at(number).error(
                f"unexpected {line!r} before '@EXPLICIT'; an explicit file has '#' comment lines, "
                f"then '@EXPLICIT', then {_EXPLICIT_HINT}"
            )
        else:
            spec.explicit.append(_explicit_entry(line, file.at(number)))
    if not seen:
        raise file.error(f"no '@EXPLICIT' line; an explicit file has '@EXPLICIT' followed by {_EXPLICIT_HINT}")
    return spec


# -- lock files ---------------------------------------------------------------


def _parse_lock(text: str, source: str) -> EnvSpec:
    file = _Loc(file=source)
    with tempfile.TemporaryDirectory(prefix="envmod-lock-") as tmp:
        path = Path(tmp) / "pixi.lock"
        path.write_text(text, encoding="utf-8")
        try:
            lock = rattler.LockFile.from_path(path)
        except Exception as exc:
            raise file.error(f"not a lock file rattler can read: {_first_line(exc)}") from None
    env = lock.environment("default")
    if env is None:
        names = ", ".join(name for name, _ in lock.environments()) or "none"
        raise file.error(f"the lock file has no 'default' environment (environments: {names})")
    current = str(rattler.Subdir.current())
    platform = next((p for p in env.platforms() if p.name == current), None)
    if platform is None:
        names = ", ".join(p.name for p in env.platforms()) or "none"
        raise file.error(f"the lock file has no packages for this platform, {current} (platforms: {names})")
    spec = EnvSpec(format="lock", source=source, channels=[str(c) for c in env.channels()])
    try:
        records = env.conda_repodata_records_for_platform(platform) or []
        pypi = env.pypi_packages_for_platform(platform) or []
    except Exception as exc:
        raise file.error(f"cannot use the lock file's packages for {current}: {_first_line(exc)}") from None
    for record in records:
        entry = _explicit_entry(str(record.url), file)
        sha256 = record.sha256.hex() if record.sha256 else None
        md5 = record.md5.hex() if record.md5 else None
        spec.explicit.append(ExplicitEntry(entry.url, sha256, None if sha256 else md5))
        if record.name.normalized == "python":
            m = _PY_PIN_RE.fullmatch(str(record.version))
            spec.python = m.group(1) if m else spec.python
    for package in pypi:
        location = str(package.location)
        pin = f"{package.name} @ {location}" if "://" in location else f"{package.name}=={package.version}"
        spec.pip.append(_pip_requirement(pin, file))
    return spec


# -- exports ------------------------------------------------------------------


def _header(header: str | None) -> str:
    if header is None:
        return ""
    return "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines() or [""])


def render_environment_yml(
    *,
    name: str | None,
    channels: list[str],
    conda: list[str],
    pip: list[str],
    variables: dict[str, str] | None = None,
    header: str | None = None,
) -> str:
    """Write an ``environment.yml`` (name, channels, dependencies with a ``pip:`` list, variables)."""
    doc = CommentedMap()
    if name is not None:
        doc["name"] = name
    doc["channels"] = list(channels)
    dependencies: list[Any] = list(conda)
    if pip:
        dependencies.append({"pip": list(pip)})
    doc["dependencies"] = dependencies
    if variables:
        doc["variables"] = {str(k): str(v) for k, v in variables.items()}
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(doc, buffer)
    return _header(header) + buffer.getvalue()


def render_requirements(pins: list[str], *, header: str | None = None) -> str:
    """Write a ``requirements.txt`` with one requirement per line."""
    return _header(header) + "".join(f"{pin}\n" for pin in pins)


def render_explicit(entries: list[ExplicitEntry], *, platform: str, header: str | None = None) -> str:
    """Write a conda explicit file: ``# platform: …``, ``@EXPLICIT``, then ``url#hash`` lines."""
    lines = [f"# platform: {platform}", "@EXPLICIT", *(entry.to_line() for entry in entries)]
    return _header(header) + "".join(f"{line}\n" for line in lines)
