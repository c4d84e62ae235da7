"""Sample ``.condarc``, ``pip.conf`` and ``uv.toml`` for the site's answers, each
serialised with its tool's own library (ruamel.yaml, configparser, tomlkit) and
parsed back with the reader the tool uses; and what the samples cannot express for
per-user paths."""

from __future__ import annotations

import platform
import posixpath
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .answers import PLACEHOLDER, VARIABLE, in_home


def _has_placeholders(raw: str) -> bool:
    return bool(VARIABLE.search(raw) or PLACEHOLDER.search(raw))


def _for_conda(raw: str) -> str:
    """A path in conda's syntax: conda expands ~, $VAR and ${VAR} in envs_dirs and
    pkgs_dirs; {user} becomes ${USER}, {arch} this machine's architecture."""
    return PLACEHOLDER.sub(lambda m: "${USER}" if m.group(1) == "user" else platform.machine(), raw)


def _for_shell(raw: str) -> str:
    """A path as a double-quoted POSIX shell word that still expands variables."""
    text = PLACEHOLDER.sub(lambda m: "\0USER\0" if m.group(1) == "user" else "\0ARCH\0", raw)
    if text.startswith("~/") or text == "~":
        text = "\0HOME\0" + text[1:]
    out = []
    pos = 0
    for match in VARIABLE.finditer(text):
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
class Sample:
    name: str
    text: str
    expected: dict[str, Any]


def _render_condarc(answers: Mapping[str, Any], caches: Mapping[str, str]) -> Sample:
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
    return Sample(".condarc", stream.getvalue(), expected)


def _render_pip_conf(answers: Mapping[str, Any], caches: Mapping[str, str]) -> Sample:
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
    return Sample("pip.conf", text, expected)


def _render_uv_toml(answers: Mapping[str, Any], caches: Mapping[str, str]) -> Sample:
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
    return Sample("uv.toml", tomlkit.dumps(doc), expected)


def build_samples(answers: Mapping[str, Any]) -> list[Sample]:
    """The three samples, each with what it must load back as."""
    caches = _sample_caches(answers)
    return [
        _render_condarc(answers, caches),
        _render_pip_conf(answers, caches),
        _render_uv_toml(answers, caches),
    ]


def render_samples(answers: Mapping[str, Any]) -> dict[str, str]:
    """Sample ``.condarc``, ``pip.conf`` and ``uv.toml``: file name -> text."""
    return {s.name: s.text for s in build_samples(answers)}


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
    if any(in_home(c) for c in caches.values()):
        warnings.append(
            "The sample files put package caches under the home directory (beside the first environment "
            "directory); give a cache directory outside $HOME (--cache-dir) to avoid that."
        )
    return warnings
