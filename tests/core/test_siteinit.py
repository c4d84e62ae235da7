"""Site initialisation in the core: answers -> the site drop-in file and sample
.condarc/pip.conf/uv.toml, loaded back by jupyter_envmod, ruamel.yaml, configparser,
tomllib and by the real pip and uv; rejected answers name their flag and write
nothing; the users' first-run choice."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from ruamel.yaml import YAML

from jupyter_envmod import siteinit as core
from jupyter_envmod.config import ENGINES, MODULE_FORMATS, load_envmod
from jupyter_envmod.errors import InvalidInput


def answers(**changes):
    """Every question answered with EnvMod's built-in defaults, then ``changes``."""
    builtin = core.builtin_defaults()
    result = {q.key: builtin[q.trait] for q in core.QUESTIONS if q.key != "module_system"}
    result["module_system"] = "lmod"
    result.update(changes)
    return result


def site_file(config_dir: Path) -> dict:
    return json.loads((config_dir / "jupyter_server_config.d" / "jupyter_envmod_site.json").read_text())


def all_files(*dirs: Path) -> list[Path]:
    return [p for d in dirs if d.exists() for p in d.rglob("*") if p.is_file()]


@pytest.fixture
def user_env(home, tmp_path, monkeypatch):
    """A temp HOME and Jupyter config dir, no PROJECT/SCRATCH/WORK."""
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "user-config"))
    for var in ("PROJECT", "SCRATCH", "WORK", "UV_CACHE_DIR", "PIP_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    return home


def test_questions_offer_what_envmod_accepts():
    assert core.question("default_engine").choices == ENGINES
    for formats in core.MODULE_SYSTEMS.values():
        assert set(formats) <= set(MODULE_FORMATS)
    assert len({q.flag for q in core.QUESTIONS}) == len(core.QUESTIONS)


def test_site_file_holds_the_answers_that_differ_and_loads_back(user_env, tmp_path):
    config_dir = tmp_path / "etc" / "jupyter"
    envs = str(tmp_path / "project" / "{user}" / "envs")
    given = answers(
        env_dirs=[envs, "~/.conda/envs"],
        default_engine="venv",
        channels=["https://mirror.example/conda-forge", "conda-forge"],
        pip_index_url="https://pypi.example/simple",
        module_system="tcl",
        module_app="py-envs",
        kernel_env={"MPLBACKEND": "Agg"},
        thread_variables=["OMP_NUM_THREADS"],
    )
    result = core.write_site(given, config_dir)

    assert [f.kind for f in result.files] == ["site"]
    assert result.errors == []
    assert site_file(config_dir) == {
        "EnvMod": {
            "env_dirs": [envs, "~/.conda/envs"],
            "default_engine": "venv",
            "channels": ["https://mirror.example/conda-forge", "conda-forge"],
            "pip_index_url": "https://pypi.example/simple",
            "module_formats": ["tcl", "sh", "csh"],
            "module_app": "py-envs",
            "thread_variables": ["OMP_NUM_THREADS"],
            "kernel_env": {"MPLBACKEND": "Agg"},
        }
    }
    envmod = load_envmod(config_paths=[str(config_dir)])
    assert envmod.default_engine == "venv"
    assert envmod.module_formats == ["tcl", "sh", "csh"]
    assert envmod.expanded("env_dirs")[0] == str(tmp_path / "project" / envmod_user() / "envs")
    assert envmod.channel_priority == "strict"  # a default: not written, still in effect
    assert "/etc/jupyter/jupyter_server_config.d/" in result.files[0].deploy


def envmod_user() -> str:
    import getpass

    return getpass.getuser()


@pytest.mark.parametrize(("system", "formats"), [("lmod", ["lua", "sh", "csh"]), ("none", ["sh", "csh"])])
def test_module_system_chooses_module_formats(user_env, tmp_path, system, formats):
    core.write_site(answers(module_system=system), tmp_path / "cfg")
    assert site_file(tmp_path / "cfg")["EnvMod"]["module_formats"] == formats
    assert load_envmod(config_paths=[str(tmp_path / "cfg")]).module_formats == formats


def test_defaults_come_from_the_configuration_in_effect(user_env, tmp_path):
    config_dir = tmp_path / "cfg"
    core.write_site(
        answers(channels=["https://mirror.example/cf"], module_system="tcl", cache_dir="/x/{user}"), config_dir
    )
    defaults = core.current_defaults(config_dir)
    assert defaults.notes == []
    assert defaults.answers["channels"] == ["https://mirror.example/cf"]
    assert defaults.answers["module_system"] == "tcl"
    assert defaults.answers["cache_dir"] == "/x/{user}"
    assert defaults.answers["thread_variables"] == core.builtin_defaults()["thread_variables"]

    (config_dir / "jupyter_server_config.d" / "broken.json").write_text("{not json")
    broken = core.current_defaults(config_dir, detect_modules=False)
    assert "broken.json" in broken.notes[0]
    assert broken.answers["channels"] == ["conda-forge"]


def test_samples_with_literal_paths_are_read_by_real_pip_and_uv(user_env, tmp_path):
    cache = tmp_path / "cache"
    samples = tmp_path / "samples"
    given = answers(
        env_dirs=[str(tmp_path / "envs")],
        cache_dir=str(cache),
        channels=["https://mirror.example/conda-forge"],
        pip_index_url="https://pypi.example/simple",
    )
    result = core.write_site(given, tmp_path / "cfg", samples_dir=samples)
    assert [f.kind for f in result.files] == ["site", ".condarc", "pip.conf", "uv.toml"]
    assert {f.path for f in result.files[1:]} == {samples / n for n in (".condarc", "pip.conf", "uv.toml")}

    condarc = YAML(typ="safe").load((samples / ".condarc").read_text())
    assert condarc == {
        "envs_dirs": [str(tmp_path / "envs")],
        "pkgs_dirs": [f"{cache}/conda-pkgs"],
        "channels": ["https://mirror.example/conda-forge"],
        "channel_priority": "strict",
        "auto_activate_base": False,
    }

    pip_env = {**os.environ, "PIP_CONFIG_FILE": str(samples / "pip.conf")}
    for key, value in (
        ("global.cache-dir", f"{cache}/pip"),
        ("global.index-url", "https://pypi.example/simple"),
        ("install.user", "false"),
    ):
        got = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", key], capture_output=True, text=True, env=pip_env, check=True
        )
        assert got.stdout.strip() == value

    uv = uv_bin()
    got = subprocess.run(
        [uv, "--config-file", str(samples / "uv.toml"), "cache", "dir"], capture_output=True, text=True, check=True
    )
    assert got.stdout.strip() == f"{cache}/uv"
    assert tomllib.loads((samples / "uv.toml").read_text())["index"] == [
        {"url": "https://pypi.example/simple", "default": True}
    ]
    for f in result.files[1:]:
        assert f.deploy.startswith("Deploy as /etc/")


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


def test_per_user_paths_in_samples_and_unset_variables(user_env, tmp_path):
    samples = tmp_path / "samples"
    given = answers(env_dirs=["$PROJECT/{user}/envs"], cache_dir="/scratch/{user}/envmod-cache")
    before = dict(os.environ)
    result = core.write_site(given, tmp_path / "cfg", samples_dir=samples)
    assert dict(os.environ) == before  # the stand-in for $PROJECT is gone again

    condarc = YAML(typ="safe").load((samples / ".condarc").read_text())
    assert condarc["envs_dirs"] == ["$PROJECT/${USER}/envs"]
    assert condarc["pkgs_dirs"] == ["/scratch/${USER}/envmod-cache/conda-pkgs"]
    pip = configparser.RawConfigParser()
    pip.read_string((samples / "pip.conf").read_text())
    assert not pip.has_option("global", "cache-dir")  # pip cannot expand {user}
    assert "cache-dir" not in tomllib.loads((samples / "uv.toml").read_text())

    warnings = "\n".join(result.warnings)
    assert "$PROJECT is not set here" in warnings
    assert 'export PIP_CACHE_DIR="/scratch/$USER/envmod-cache/pip"' in warnings
    assert 'export UV_CACHE_DIR="/scratch/$USER/envmod-cache/uv"' in warnings
    assert site_file(tmp_path / "cfg")["EnvMod"]["env_dirs"] == ["$PROJECT/{user}/envs"]


def test_without_a_cache_dir_sample_caches_go_beside_the_first_env_dir(user_env, tmp_path):
    texts = core.render_samples(answers(env_dirs=["/proj/{user}/envs"], cache_dir=""))
    assert YAML(typ="safe").load(texts[".condarc"])["pkgs_dirs"] == ["/proj/${USER}/pkgs"]
    warnings = "\n".join(core.sample_warnings(answers(env_dirs=["~/.conda/envs"], cache_dir="")))
    assert "under the home directory" in warnings
    assert "UV_CACHE_DIR" in warnings  # uv does not expand ~


@pytest.mark.parametrize(
    ("change", "flag", "fragment"),
    [
        ({"default_engine": "pip"}, "--engine", "'pip'"),
        ({"pip_index_url": "ftp://mirror.example/simple"}, "--pip-index-url", "http(s)://"),
        ({"channels": ["conda forge"]}, "--channel", "without spaces"),
        ({"kernel_env": {"1BAD": "x"}}, "--kernel-env", "variable names"),
        ({"env_dirs": ["relative/envs"]}, "--env-dir", "absolute"),
        ({"env_dirs": ["$NO_SUCH_VARIABLE_X/envs"], "shared_group": "no-such-group-xyz"}, "--shared-group", "group"),
    ],
)
def test_bad_answers_name_the_flag_and_write_nothing(user_env, tmp_path, change, flag, fragment):
    config_dir, samples = tmp_path / "cfg", tmp_path / "samples"
    with pytest.raises(InvalidInput) as caught:
        core.write_site(answers(**change), config_dir, samples_dir=samples)
    message = caught.value.message
    assert flag in message
    assert fragment in message
    assert "nothing was written" in message
    assert all_files(config_dir, samples) == []


def test_bad_flag_values_are_all_listed(user_env):
    given = {
        "kernel_env": ["NOVALUE"],
        "default_engine": "pip",
        "env_dirs": ["envs"],
        "channels": ["conda forge"],
        "pip_index_url": "not a url",
    }
    with pytest.raises(InvalidInput) as caught:
        core.resolve_answers(given, answers())
    message = caught.value.message
    assert "--kernel-env 'NOVALUE'" in message
    assert "KEY=VALUE" in message
    assert "--engine 'pip'" in message
    assert "choose one of rattler, conda, venv" in message
    assert "--channel 'conda forge'" in message
    assert caught.value.details["field"] == "--kernel-env"

    with pytest.raises(InvalidInput) as semantic:
        core.resolve_answers({"env_dirs": ["envs"], "pip_index_url": "not a url"}, answers())
    assert "--env-dir 'envs'" in semantic.value.message
    assert "--pip-index-url 'not a url'" in semantic.value.message


def test_existing_file_is_kept_without_force(user_env, tmp_path):
    config_dir = tmp_path / "cfg"
    core.write_site(answers(module_app="first"), config_dir)
    with pytest.raises(InvalidInput) as caught:
        core.write_site(answers(module_app="second"), config_dir, samples_dir=tmp_path / "samples")
    assert "--force" in caught.value.message
    assert site_file(config_dir)["EnvMod"]["module_app"] == "first"
    assert not (tmp_path / "samples").exists()
    core.write_site(answers(module_app="second"), config_dir, force=True)
    assert site_file(config_dir)["EnvMod"]["module_app"] == "second"
    assert [p.name for p in (config_dir / "jupyter_server_config.d").iterdir()] == ["jupyter_envmod_site.json"]


def test_quotes_spaces_percent_and_dollar_round_trip_in_every_file(user_env, tmp_path, monkeypatch):
    root = tmp_path / 'it\'s a "quoted" dir %(x)s 100%'
    monkeypatch.setenv("ENVMOD_TEST_ROOT", str(root))
    env_dir = "${ENVMOD_TEST_ROOT}/envs #1; x=y"
    cache = str(root / "ca[che] 'q' \"d\" %s")
    index = "https://mirror.example/py%20pi/simple?a='1'&b=\"2\"#frag"
    kernel_env = {"TEXT": "line one\nline \"two\" 'three' %(x)s $HOME ${HOME} \\n", "EMPTY": ""}
    given = answers(env_dirs=[env_dir], cache_dir=cache, pip_index_url=index, kernel_env=kernel_env)
    samples = tmp_path / "samples"
    core.write_site(given, tmp_path / "cfg", samples_dir=samples)

    written = site_file(tmp_path / "cfg")["EnvMod"]
    assert written["env_dirs"] == [env_dir]
    assert written["cache_dir"] == cache
    assert written["pip_index_url"] == index
    assert written["kernel_env"] == kernel_env
    envmod = load_envmod(config_paths=[str(tmp_path / "cfg")])
    assert envmod.expanded("env_dirs") == [f"{root}/envs #1; x=y"]
    assert envmod.kernel_env == kernel_env

    condarc = YAML(typ="safe").load((samples / ".condarc").read_text())
    assert condarc["envs_dirs"] == [env_dir]
    assert condarc["pkgs_dirs"] == [f"{cache}/conda-pkgs"]
    pip = configparser.RawConfigParser()
    pip.read_string((samples / "pip.conf").read_text())
    assert pip.get("global", "index-url") == index
    assert pip.get("global", "cache-dir") == f"{cache}/pip"
    got = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.cache-dir"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": str(samples / "pip.conf")},
    )
    assert got.stdout.strip() == f"{cache}/pip"
    uv_toml = tomllib.loads((samples / "uv.toml").read_text())
    assert uv_toml["cache-dir"] == f"{cache}/uv"
    assert uv_toml["index"][0]["url"] == index
    got = subprocess.run(
        [uv_bin(), "--config-file", str(samples / "uv.toml"), "cache", "dir"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert got.stdout.strip() == f"{cache}/uv"


def test_newlines_in_paths_are_refused_with_the_flag(user_env):
    with pytest.raises(ValueError, match="control character"):
        core.parse_answer("env_dirs", ["/data/a\nb"])
    with pytest.raises(InvalidInput) as caught:
        core.resolve_answers({"cache_dir": "/scratch/x\ny"}, answers())
    assert "--cache-dir" in caught.value.message
    assert core.parse_answer("kernel_env", ["NOTE=a\nb"]) == {"NOTE": "a\nb"}  # JSON holds it


def test_prompt_parsing(user_env):
    default = ["/a", "/b"]
    assert core.parse_prompt("env_dirs", "  ", default) is default
    assert core.parse_prompt("env_dirs", "/x, /y z ,", default) == ["/x", "/y z"]
    assert core.parse_prompt("thread_variables", "none", ["A"]) == []
    assert core.parse_prompt("kernel_env", "A=1, B=x y", {}) == {"A": "1", "B": "x y"}
    assert core.parse_prompt("shared_group", "NONE", "staff") == ""
    assert core.parse_prompt("default_engine", "VENV", "rattler") == "venv"
    assert core.display("kernel_env", {"A": "1"}) == "A=1"
    assert core.display("pip_index_url", "") == "none"
    with pytest.raises(core.BadAnswer, match="choose one of"):
        core.parse_prompt("default_engine", "pip", "rattler")
    not_optional = core.parse_prompt("env_dirs", "none", default)  # taken as a (relative) directory
    [problem] = core.check_answer("env_dirs", not_optional, answers())
    assert "absolute" in problem.problem


def test_home_and_scratch_warnings(user_env):
    warnings = core.answer_warnings(answers(env_dirs=["~/envs", "$HOME/more"], cache_dir=""))
    text = "\n".join(warnings)
    assert text.count("is in the home directory") == 2
    assert "No cache directory" in text
    scratch = core.answer_warnings(answers(env_dirs=["/scratch/{user}/envs"], cache_dir="/scratch/{user}/c"))
    assert any("purged" in w for w in scratch)
    assert not any("home directory" in w for w in scratch)
    assert core.check_answers(answers(env_dirs=["~/envs"])) == []  # warned, not refused


# -- the users' first-run choice ---------------------------------------------------------------


def test_first_run_is_needed_only_when_nothing_says_where(user_env, tmp_path, monkeypatch):
    assert core.first_run_needed()
    monkeypatch.setenv("CONDA_ENVS_PATH", str(tmp_path / "envs"))
    assert not core.first_run_needed()
    monkeypatch.delenv("CONDA_ENVS_PATH")

    user_config = Path(os.environ["JUPYTER_CONFIG_DIR"])
    user_config.mkdir(parents=True)
    (user_config / "jupyter_server_config.json").write_text(json.dumps({"EnvMod": {"env_dirs": ["/srv/envs"]}}))
    assert not core.first_run_needed()
    (user_config / "jupyter_server_config.json").unlink()
    assert core.first_run_needed()

    core.write_user_choice("/srv/envs")
    assert not core.first_run_needed()


def test_first_run_choices_and_answers(user_env, tmp_path, monkeypatch):
    project = tmp_path / "proj"
    monkeypatch.setenv("PROJECT", str(project))
    choices = core.env_dir_choices()
    assert [c.raw for c in choices] == ["$PROJECT/{user}/envs", "~/.conda/envs"]
    assert choices[0].path == str(project / envmod_user() / "envs")
    assert core.parse_env_dir_choice("", choices) == str(user_env / ".conda" / "envs")
    assert core.parse_env_dir_choice("1", choices) == choices[0].path
    assert core.parse_env_dir_choice("~/x/../envs", choices) == str(user_env / "envs")
    for bad, fragment in (("3", "1 to 2"), ("envs", "absolute"), ("$NOPE_X/envs", "not set"), ("/a\nb", "control")):
        with pytest.raises(InvalidInput, match=fragment):
            core.parse_env_dir_choice(bad, choices)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InvalidInput, match="not a directory"):
        core.parse_env_dir_choice(str(blocker / "envs"), choices)


def test_user_choice_keeps_existing_conda_envs_listed(user_env, tmp_path):
    (user_env / ".conda" / "envs").mkdir(parents=True)
    path = core.write_user_choice(str(tmp_path / "proj" / "envs"))
    assert path == Path(os.environ["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.d" / "jupyter_envmod_user.json"
    assert json.loads(path.read_text()) == {
        "EnvMod": {"env_dirs": [str(tmp_path / "proj" / "envs"), str(user_env / ".conda" / "envs")]}
    }
    envmod = load_envmod(config_paths=[os.environ["JUPYTER_CONFIG_DIR"]])
    assert envmod.env_roots[0] == tmp_path / "proj" / "envs"
