"""The template set: escaping filters checked by the real interpreter of each language,
site templates overriding the built-in ones, and broken site templates reported with
their file and line when the configuration loads."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest
from traitlets.config import Config

from jupyter_envmod.config import EnvMod, load_envmod
from jupyter_envmod.errors import ConfigError
from jupyter_envmod.templating import (
    BUILTIN_DIR,
    FILTERS,
    TEMPLATE_NAMES,
    FileNames,
    Target,
    TemplateError,
    Templates,
    context,
    sample_context,
    to_csh,
    to_json,
    to_lua,
    to_py,
    to_sh,
    to_tcl,
)

#: values that break naive quoting somewhere
NASTY = [
    "plain",
    "two words",
    "it's",
    'say "hi"',
    "both ' and \"",
    "$HOME",
    "${HOME}",
    "$(id)",
    "`id`",
    "a;b",
    "a & b | c > d < e",
    "back\\slash",
    "trailing\\",
    "line1\nline2",
    "\n",
    "ends with newline\n",
    "backslash-newline\\\nx",
    "wow!",
    "!",
    "!!",
    "\\!",
    "{}[]",
    "{unbalanced",
    "close}",
    "[exit 3]",
    "tab\there",
    "Jürgen π 日本",
    "emoji 😀",
    "",
    " ",
    "-n",
    "--",
    "*",
    "~",
    "#not a comment",
    "%s%d",
    "\r",
    "\x01\x1f",
    "\x011",  # a control character, then a digit
    "\x7f",
    "a\u2028b",
]
IDS = [repr(v)[1:-1][:24] or "empty" for v in NASTY]


def run(argv: list[str], script: str | None = None) -> list[str]:
    """Run an interpreter; its stdout split at NUL bytes (each value ends with one)."""
    out = subprocess.run(
        argv, input=script.encode() if script is not None else None, capture_output=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr.decode()
    assert out.stderr == b"", out.stderr.decode()
    text = out.stdout.decode("utf-8")
    assert text.endswith("\0")
    return text[:-1].split("\0")


# -- each filter, through the real interpreter ----------------------------------------------


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_sh_words(shell):
    """Each value is one word, top level and inside a function body."""
    words = " ".join(to_sh(v) for v in NASTY)
    script = f"printf '%s\\0' {words}\nshow() {{\n    printf '%s\\0' {words}\n}}\nshow\n"
    assert run([shell, "-c", script]) == NASTY * 2


def test_csh_words():
    """In tcsh: set, setenv, inside an if block, and in a block that is skipped
    (csh scans skipped lines for its keywords)."""
    lines = ["if ( 0 ) then"]
    lines += [f"    set skipped = {to_csh(v)}" for v in NASTY]
    lines += ["endif", "if ( 1 ) then"]
    for i, value in enumerate(NASTY):
        lines += [f"    set v{i} = {to_csh(value)}", f"    printf '%s\\0' $v{i}:q"]
    lines += ["endif"]
    for value in NASTY:
        if value:  # csh cannot tell an empty environment variable from an empty word here
            lines += [f"setenv ENVMOD_V {to_csh(value)}", "printenv ENVMOD_V | head -c -1; printf '\\0'"]
    expected = NASTY + [v for v in NASTY if v]
    assert run(["tcsh", "-f", "-c", "\n".join(lines)]) == expected


def test_lua_literals():
    body = "\n".join(f'io.write({to_lua(v)}, "\\0")' for v in NASTY)
    assert run(["lua5.3", "-e", body]) == NASTY


def test_tcl_words():
    """Top level and inside a braced proc body (where braces are counted)."""
    puts = "\n".join(f"    puts -nonewline {to_tcl(v)}; puts -nonewline \\0" for v in NASTY)
    script = f"fconfigure stdout -encoding utf-8 -translation lf\n{puts}\nproc show {{}} {{\n{puts}\n}}\nshow\n"
    assert run(["tclsh"], script) == NASTY * 2


def test_tcl_words_are_ascii():
    """Lmod's built-in Tcl reads UTF-8 module files as Latin-1: escapes avoid that."""
    for value in NASTY:
        assert to_tcl(value).isascii()


@pytest.mark.parametrize("value", NASTY, ids=IDS)
def test_json_and_python_literals(value):
    assert json.loads(to_json(value)) == value
    assert "\n" not in to_json(value)
    assert ast.literal_eval(to_py(value)) == value
    for other in (None, True, False, 3, 2.5, ["a", {"b": 'c"'}]):
        assert ast.literal_eval(to_py(other)) == other


def test_filters_are_registered():
    assert {"json": to_json, "sh": to_sh, "csh": to_csh, "lua": to_lua, "tcl": to_tcl, "py": to_py} == FILTERS
    assert Templates().env.filters["tcl"] is to_tcl


# -- the built-in templates ----------------------------------------------------------------


def nasty_context(envmod: EnvMod) -> dict:
    weird = 'we\'ird "env" $HOME `id`; a\\b\nc Jürgen π 日本 !'
    target = Target(
        name=weird,
        prefix=Path("/envs") / weird,
        engine="venv",
        kind="venv",
        python_version="3.11.7",
        created="",
        modules=(weird, "gcc/12.2.0"),
    )
    names = FileNames(
        module_app="conda-env",
        module_name="we_ird-py3.11.7",
        module_dir="/modules/" + weird,
        activate_dir="/activate/" + weird,
    )
    return context(target, names, envmod)


def test_builtin_templates_render_and_carry_a_one_line_marker():
    templates = Templates()
    assert templates.check(EnvMod()) == []
    variables = nasty_context(EnvMod(template_variables={"x": "y"}))
    comment = {"modulefile.lua": "-- envmod: ", "modulefile.tcl": "# envmod: "}
    for name in ("modulefile.lua", "modulefile.tcl", "activate.sh", "activate.csh"):
        lines = templates.render(name, variables).split("\n")
        if name == "modulefile.tcl":
            assert lines.pop(0) == "#%Module1.0"
        prefix = comment.get(name, "# envmod: ")
        assert lines[0].startswith(prefix)
        marker = json.loads(lines[0][len(prefix) :])
        assert marker == {
            "path": variables["env"]["path"],
            "module": "conda-env/we_ird-py3.11.7",
            "format": name.rsplit(".", 1)[-1],
            "version": 1,
        }
        rendered = "\n".join(lines)
        assert "LD_LIBRARY_PATH" not in rendered
        assert "OMP_NUM_THREADS" not in rendered  # thread variables are the kernel's business


def test_template_dirs_override_the_builtin_set(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "modulefile.lua").write_text(
        '-- site {{ site.center | lua }} for {{ env.name | lua }}\nsetenv("A", "1")\n'
    )
    (second / "modulefile.lua").write_text("-- never used: the first directory wins\n")
    (second / "activate.sh").write_text("# site sh for {{ env.name | sh }}\n")
    envmod = EnvMod(template_dirs=[str(first), str(second)], template_variables={"center": 'HPC "C"'})
    templates = Templates.for_site(envmod)
    variables = sample_context(envmod)
    assert templates.render("modulefile.lua", variables) == '-- site "HPC \\"C\\"" for "example"\nsetenv("A", "1")\n'
    assert templates.render("activate.sh", variables) == "# site sh for example\n"
    builtin = Templates().render("modulefile.tcl", variables)
    assert templates.render("modulefile.tcl", variables) == builtin
    assert templates.source_of("modulefile.lua") == str(first / "modulefile.lua")
    assert templates.source_of("modulefile.tcl") == str(BUILTIN_DIR / "modulefile.tcl")


# -- broken site templates ------------------------------------------------------------------

BROKEN = {
    # an unclosed block: a syntax error Jinja reports at the end of the file
    "modulefile.lua": ("-- envmod: {{ {} | json }}\n{% if modules %}\ndepends_on(1)\n", "line 3", "if"),
    # a misspelt variable on line 3
    "modulefile.tcl": ("#%Module1.0\n# envmod: {{ {} | json }}\nsetenv X {{ env.nmae | tcl }}\n", "line 3", "nmae"),
    # an unknown filter
    "activate.sh": ("# envmod: {{ {} | json }}\n\nX={{ env.name | shell }}\n", "line 3", "shell"),
}


@pytest.fixture
def broken_dir(tmp_path):
    directory = tmp_path / "site templates"
    directory.mkdir()
    for name, (text, _, _) in BROKEN.items():
        (directory / name).write_text(text)
    return directory


def test_broken_templates_fail_validation_with_file_and_line(broken_dir):
    with pytest.raises(ConfigError) as err:
        EnvMod(template_dirs=[str(broken_dir)]).validate()
    problems = {p["value"]: p["problem"] for p in err.value.problems if p["trait"] == "template_dirs"}
    for name, (_, line, word) in BROKEN.items():
        where = f"{broken_dir / name}, {line}"
        assert where in problems, problems
        assert word in problems[where]
        assert where in err.value.message
    assert len(problems) == len(BROKEN)  # the untouched built-in templates are fine


def test_render_reports_file_and_line(broken_dir):
    templates = Templates([str(broken_dir)])
    with pytest.raises(TemplateError) as err:
        templates.render("modulefile.tcl", sample_context(EnvMod()))
    assert (err.value.file, err.value.line) == (str(broken_dir / "modulefile.tcl"), 3)
    assert f"{broken_dir / 'modulefile.tcl'}, line 3: " in str(err.value)
    with pytest.raises(TemplateError, match="template not found"):
        templates.render("no-such-template", {})


def test_load_envmod_reports_broken_templates(broken_dir, tmp_path):
    config_dir = tmp_path / "etc"
    (config_dir / "jupyter_server_config.d").mkdir(parents=True)
    (config_dir / "jupyter_server_config.d" / "site.json").write_text(
        json.dumps({"EnvMod": {"template_dirs": [str(broken_dir)]}})
    )
    with pytest.raises(ConfigError, match=r"modulefile\.tcl, line 3"):
        load_envmod(Config(), config_paths=[str(config_dir)])
    # the same directory with the mistakes fixed loads
    for name in BROKEN:
        (broken_dir / name).write_text((BUILTIN_DIR / name).read_text())
    envmod = load_envmod(Config(), config_paths=[str(config_dir)])
    assert envmod.template_dirs == [str(broken_dir)]


def test_every_template_name_is_built_in():
    assert {p.name for p in BUILTIN_DIR.iterdir()} >= set(TEMPLATE_NAMES)
