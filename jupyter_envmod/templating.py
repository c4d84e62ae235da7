"""Jinja2 templates for the files this project generates: kernelspecs and their
launcher, Lmod and TCL module files, and activation scripts for sh and csh.

The built-in set lives in ``jupyter_envmod/templates/``; a file of the same name in
one of ``EnvMod.template_dirs`` replaces it (earlier directories win). Templates use
:class:`jinja2.StrictUndefined`, and :meth:`Templates.check` renders every template
with a sample context when the configuration loads, so a typo in a site template is
reported with its file and line before any kernel starts.

Every value that comes from a user (names, paths, display names, module names) must
pass through the escaping filter of the target language: ``json``, ``sh``, ``csh``,
``lua``, ``tcl`` or ``py``.
"""

from __future__ import annotations

import datetime
import getpass
import json
import platform
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from jupyter_envmod._version import __version__
from jupyter_envmod.errors import EnvModError

#: built-in template names; a site overrides one by putting a file of the same name
#: in a template directory
TEMPLATE_NAMES = ("kernel.json", "launcher.py", "modulefile.lua", "modulefile.tcl", "activate.sh", "activate.csh")

BUILTIN_DIR = Path(__file__).parent / "templates"


class TemplateError(EnvModError):
    """A template failed to load or render: ``file`` and ``line`` say where."""

    reason = "invalid-template"

    def __init__(self, message: str, file: str, line: int | None):
        where = f"{file}, line {line}" if line else file
        super().__init__(f"template {where}: {message}", details={"file": file, "line": line})
        self.file = file
        self.line = line
        self.problem = message


# -- escaping filters ---------------------------------------------------------------------


def _defined(value: Any) -> Any:
    """Touching an undefined value raises StrictUndefined's error (which names it)."""
    if isinstance(value, jinja2.Undefined):
        str(value)
    return value


def to_json(value: Any) -> str:
    """A JSON value (strings quoted, non-ASCII kept)."""
    return json.dumps(_defined(value), ensure_ascii=False)


def to_sh(value: Any) -> str:
    """One POSIX shell word with exactly this value."""
    return shlex.quote(str(value))


def to_csh(value: Any) -> str:
    """One csh/tcsh word with exactly this value.

    Single quotes protect everything in csh except ``!`` (history), the quote itself
    and newlines. The quote and ``!`` are taken outside the quotes and
    backslash-escaped; a newline stays inside them behind a backslash (outside quotes
    csh turns backslash-newline into a blank, inside it keeps the newline).
    """
    text = str(value)
    if text == "":
        return "''"
    out = ["'"]
    for char in text:
        if char == "'":
            out.append("'\\''")
        elif char == "!":
            out.append("'\\!'")
        elif char == "\n":
            out.append("\\\n")
        else:
            out.append(char)
    out.append("'")
    return "".join(out)


_LUA_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}


def to_lua(value: Any) -> str:
    """A Lua string literal with exactly this value."""
    text = str(value)
    # other control characters as 3-digit decimal escapes, so a digit after one stays a digit
    return '"' + "".join(_LUA_ESCAPES.get(c, c if c >= " " else f"\\{ord(c):03d}") for c in text) + '"'


_TCL_SPECIAL = set('\\"$[]{};')


def to_tcl(value: Any) -> str:
    """A TCL word (double-quoted) with exactly this value: no substitution happens.

    The word is plain ASCII: control and non-ASCII characters become ``\\uXXXX``
    escapes (always 4 digits, so a following digit stays a digit; a character beyond
    U+FFFF as a surrogate pair, which Tcl 8.6 turns back into UTF-8). Tcl readers
    disagree on a module file's encoding (Lmod's built-in Tcl reads UTF-8 as Latin-1);
    escapes mean the same to all of them.
    """
    text = str(value)
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _TCL_SPECIAL:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif " " <= char < "\x7f":
            out.append(char)
        elif code > 0xFFFF:
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def to_py(value: Any) -> str:
    """A Python literal (JSON's string escapes are valid Python)."""
    value = _defined(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


FILTERS = {"json": to_json, "sh": to_sh, "csh": to_csh, "lua": to_lua, "tcl": to_tcl, "py": to_py}


# -- what a template sees ------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The environment a set of files is generated for."""

    name: str
    prefix: Path
    engine: str  # rattler | conda | venv | unknown (adopted)
    kind: str  # conda | venv
    python_version: str  # X.Y.Z
    created: str  # ISO 8601, or "" when unknown
    env_id: str = ""
    #: module dependencies (e.g. "gcc/12.2.0"), loaded by module files and the kernel launcher
    modules: tuple[str, ...] = ()

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    @property
    def python_short(self) -> str:
        return ".".join(self.python_version.split(".")[:2])


@dataclass
class FileNames:
    """Names and places of the generated files (computed from the naming templates)."""

    kernel_name: str = ""
    kernel_display_name: str = ""
    kernel_dir: str = ""
    module_app: str = ""
    module_name: str = ""
    module_dir: str = ""
    activate_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def context(
    target: Target, names: FileNames, envmod: Any, *, module_system: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The variables every template gets (documented in docs/admin/templates.md)."""
    module_system = module_system or {"kind": None, "command": None, "modulepath": []}
    return {
        "env": {
            "name": target.name,
            "path": str(target.prefix),
            "id": target.env_id,
            "engine": target.engine,
            "kind": target.kind,
            "python": str(target.python),
            "python_version": target.python_version,
            "python_short": target.python_short,
            "created": target.created,
        },
        "modules": list(target.modules),
        "module_system": module_system,
        "kernel": {
            "name": names.kernel_name,
            "display_name": names.kernel_display_name,
            "dir": names.kernel_dir,
        },
        "module": {
            "app": names.module_app,
            "name": names.module_name,
            "full_name": f"{names.module_app}/{names.module_name}",
            "dir": names.module_dir,
        },
        "activate_dir": names.activate_dir,
        "thread_variables": list(envmod.thread_variables),
        "kernel_env": dict(envmod.kernel_env),
        "site": dict(envmod.template_variables),
        "user": _user(),
        "arch": platform.machine(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generator": f"jupyter_envmod {__version__}",
        **names.extra,
    }


def sample_context(envmod: Any) -> dict[str, Any]:
    """A context with made-up values of every kind, for checking templates at load."""
    target = Target(
        name="example",
        prefix=Path("/envs/example"),
        engine="rattler",
        kind="conda",
        python_version="3.11.7",
        created="2025-01-01T00:00:00Z",
        env_id="example-0000",
        modules=("gcc/12.2.0",),
    )
    names = FileNames(
        kernel_name="envmod-example",
        kernel_display_name="Python 3.11 (example)",
        kernel_dir="/kernels/envmod-example",
        module_app="conda-env",
        module_name="example-py3.11.7",
        module_dir="/modules",
        activate_dir="/activate",
    )
    system = {"kind": "lmod", "command": "/usr/share/lmod/lmod/libexec/lmod", "modulepath": ["/modules"]}
    return context(target, names, envmod, module_system=system)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# -- the template set -----------------------------------------------------------------------


class Templates:
    """The site's template set: ``template_dirs`` first, then the built-in one."""

    def __init__(self, template_dirs: list[str] | tuple[str, ...] = ()):
        self.dirs = [str(d) for d in template_dirs] + [str(BUILTIN_DIR)]
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.dirs),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            # none of the targets is HTML: each template escapes values with the filter
            # of its own language (json, sh, csh, lua, tcl, py)
            autoescape=False,  # noqa: S701
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(FILTERS)

    @classmethod
    def for_site(cls, envmod: Any) -> Templates:
        return cls(envmod.expanded("template_dirs"))

    def source_of(self, name: str) -> str:
        """The file a template is read from."""
        for directory in self.dirs:
            candidate = Path(directory) / name
            if candidate.is_file():
                return str(candidate)
        return name

    def render(self, name: str, variables: dict[str, Any]) -> str:
        """Render one template; raise :class:`TemplateError` with file and line."""
        try:
            template = self.env.get_template(name)
            return template.render(variables)
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(err.message or str(err), err.filename or self.source_of(name), err.lineno) from err
        except jinja2.TemplateNotFound as err:
            raise TemplateError(f"template not found in {', '.join(self.dirs)}", name, None) from err
        except Exception as err:  # StrictUndefined and errors raised while rendering
            file, line = self.source_of(name), _render_line(err, self.source_of(name))
            raise TemplateError(f"{type(err).__name__}: {err}", file, line) from err

    def check(self, envmod: Any) -> list[TemplateError]:
        """Render every template with :func:`sample_context`; the errors found."""
        variables = sample_context(envmod)
        errors: list[TemplateError] = []
        for name in TEMPLATE_NAMES:
            try:
                self.render(name, variables)
            except TemplateError as err:
                errors.append(err)
        return errors


def _render_line(err: BaseException, filename: str) -> int | None:
    """The template line an exception was raised at, from its traceback (Jinja2 maps
    compiled frames back to template lines)."""
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_file_name(text: str) -> str:
    """A name usable as one path component and module name: runs of anything but
    letters, digits, '.', '_', '+' and '-' become '_'."""
    cleaned = _SAFE_NAME.sub("_", text).strip("._") or "env"
    return cleaned
