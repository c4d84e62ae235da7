"""Sphinx extension: generate the configuration and CLI references from the code.

At ``builder-inited`` this writes two MyST files into ``docs/reference/_generated/``
(git-ignored), which ``reference/config.md`` and ``reference/cli.md`` include:

- ``config.md`` from the traits of :class:`jupyter_envmod.config.EnvMod`, grouped by
  the ``# -- <group> ---`` comments of the class source, in source order;
- ``cli.md`` from the argparse parser of ``jupyter envmod``
  (:func:`jupyter_envmod.cli.build_parser`).

Files are only rewritten when their content changes, so incremental builds stay
incremental. Nothing machine-specific is printed: defaults computed at run time
(``@default`` methods) are shown as "computed"; their help text says how.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging
from traitlets import Dict, Enum, Int, List, TraitType, Unicode

logger = logging.getLogger(__name__)

GENERATED_DIR = Path("reference") / "_generated"
OTHER_GROUP = "Other settings"
# A group comment in the EnvMod class body: "# -- where environments live ----".
_GROUP_COMMENT = re.compile(r"^\s*#\s*--\s*(?P<title>[^-].*?)\s*-{3,}\s*$")
# Characters that Markdown or MyST could read as syntax inside help text.
_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]{}|$~#&!])")


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def code(value: str) -> str:
    """Inline code that survives backticks inside ``value``."""
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def config_label(name: str) -> str:
    return f"config-{name}"


# -- configuration reference ---------------------------------------------------------


def trait_groups(cls: type) -> list[tuple[str, list[str]]]:
    """(group title, trait names) in the order of the class source."""
    traits = cls.class_own_traits(config=True)  # type: ignore[attr-defined]
    in_order = [name for name in vars(cls) if name in traits]
    try:
        source_lines = inspect.getsource(cls).splitlines()
    except (OSError, TypeError):
        source_lines = []

    group_of: dict[str, str] = {}
    current = OTHER_GROUP
    assignment = re.compile(r"^\s{4}(?P<name>\w+)\s*=")
    for line in source_lines:
        comment = _GROUP_COMMENT.match(line)
        if comment:
            title = comment.group("title")
            current = title[:1].upper() + title[1:]
            continue
        match = assignment.match(line)
        if match and match.group("name") in traits:
            group_of.setdefault(match.group("name"), current)

    groups: dict[str, list[str]] = {}
    for name in in_order:
        groups.setdefault(group_of.get(name, OTHER_GROUP), []).append(name)
    return list(groups.items())


def describe_type(trait: TraitType[Any, Any], inner: bool = False) -> str:
    """Type as written in the reference; ``inner`` for the items of a List or Dict."""

    def allowed(values: Any) -> str:
        return ", ".join(code(json.dumps(v)) for v in values)

    if isinstance(trait, Enum):
        return f"Enum, one of {allowed(trait.values)}"
    if isinstance(trait, List):
        item = trait._trait
        if isinstance(item, Enum):
            return f"List of str, each one of {allowed(item.values)}"
        if item is None:
            return "List"
        return f"List of {describe_type(item, inner=True)}"
    if isinstance(trait, Dict):
        key = trait._key_trait
        value = trait._value_trait
        key_type = describe_type(key, inner=True) if isinstance(key, TraitType) else "str"
        value_type = describe_type(value, inner=True) if isinstance(value, TraitType) else "any value"
        return f"Dict of {key_type} to {value_type}"
    if isinstance(trait, Unicode):
        return "str" if inner else "Unicode (str)"
    if isinstance(trait, Int):
        return "int" if inner else "Int"
    return type(trait).__name__


def describe_default(cls: type, name: str, trait: TraitType[Any, Any]) -> str:
    if name in getattr(cls, "_trait_default_generators", {}):
        return "computed (see below)"
    value = trait.default()
    if isinstance(trait, Int) and "umask" in name:
        return f"{code(f'0o{value:03o}')} (decimal {value})"
    return code(json.dumps(value))


def link_traits(help_text: str, names: list[str], own: str) -> str:
    """Escape help text for MyST and turn mentions of other traits into links."""
    others = sorted((n for n in names if n != own), key=len, reverse=True)
    if not others:
        return md_escape(help_text)
    # Not inside a placeholder such as '<module_app>/<name>': only free-standing mentions.
    pattern = re.compile(r"(?<![\w<{])(" + "|".join(map(re.escape, others)) + r")(?![\w>}])")
    out: list[str] = []
    pos = 0
    for match in pattern.finditer(help_text):
        out.append(md_escape(help_text[pos : match.start()]))
        out.append(f"{{ref}}`{match.group(1)} <{config_label(match.group(1))}>`")
        pos = match.end()
    out.append(md_escape(help_text[pos:]))
    return "".join(out)


def config_markdown(cls: type) -> str:
    traits = cls.class_own_traits(config=True)  # type: ignore[attr-defined]
    names = list(traits)
    lines = [
        "<!-- Generated by docs/_ext/envmod_config.py from jupyter_envmod.config.EnvMod. Do not edit. -->",
        "",
    ]
    for title, members in trait_groups(cls):
        lines += [f"## {md_escape(title)}", ""]
        for name in members:
            trait = traits[name]
            help_text = " ".join((trait.help or "").split())
            if not help_text:
                logger.warning("EnvMod.%s has no help text", name, type="envmod", subtype="config")
            lines += [
                f"({config_label(name)})=",
                f"### `EnvMod.{name}`",
                "",
                f"Type\n: {describe_type(trait)}",
                "",
                f"Default\n: {describe_default(cls, name, trait)}",
                "",
                link_traits(help_text, names, name) if help_text else "*(no help text)*",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


# -- CLI reference -------------------------------------------------------------------

USAGE_WIDTH = 88


def usage(parser: argparse.ArgumentParser) -> str:
    formatter = parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)  # type: ignore[call-arg]
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def option_rows(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if action.nargs != 0:
                metavar = action.metavar or action.dest.upper()
                name += f" {metavar}"
        else:
            name = str(action.metavar or action.dest)
        help_text = formatter._expand_help(action) if action.help else ""
        extras = []
        if action.choices is not None:
            extras.append("choices: " + ", ".join(code(str(c)) for c in action.choices))
        if action.required and action.option_strings:
            extras.append("required")
        text = md_escape(" ".join(help_text.split()))
        if extras:
            text += f" ({'; '.join(extras)})"
        rows.append(f"{code(name)}\n: {text or '—'}")
        rows.append("")
    return rows


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    found: list[tuple[str, str, argparse.ArgumentParser]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            short = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                found.append((name, short.get(name, ""), sub))
    return found


def cli_markdown(parser: argparse.ArgumentParser) -> str:
    lines = [
        "<!-- Generated by docs/_ext/envmod_config.py from jupyter_envmod.cli.build_parser(). Do not edit. -->",
        "",
        "```text",
        usage(parser),
        "```",
        "",
        md_escape(parser.description or ""),
        "",
        "Options:",
        "",
        *option_rows(parser),
        "Commands:",
        "",
    ]
    for name, short, _ in subcommands(parser):
        lines += [f"{{ref}}`{name} <cli-{name}>`", f": {md_escape(short) or '—'}", ""]
    for name, short, sub in subcommands(parser):
        lines += [
            f"(cli-{name})=",
            f"## `{parser.prog} {name}`",
            "",
            md_escape(short[:1].upper() + short[1:] + ".") if short else "",
            "",
            "```text",
            usage(sub),
            "```",
            "",
            md_escape(" ".join((sub.description or "").split())),
            "",
            "Options:",
            "",
            *option_rows(sub),
        ]
    return "\n".join(lines).rstrip() + "\n"


# -- Sphinx glue -----------------------------------------------------------------------


def write_if_changed(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == content:
        return
    path.write_text(content, encoding="utf-8")
    logger.info("envmod_config: wrote %s", path)


def generate(app: Sphinx) -> None:
    from jupyter_envmod.cli import build_parser
    from jupyter_envmod.config import EnvMod

    target = Path(app.srcdir) / GENERATED_DIR
    write_if_changed(target / "config.md", config_markdown(EnvMod))
    write_if_changed(target / "cli.md", cli_markdown(build_parser()))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
