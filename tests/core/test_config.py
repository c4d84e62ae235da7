"""EnvMod: defaults, expansion, validation and the loading function shared by the
server and the CLI."""

from __future__ import annotations

import getpass
import json
import os
import platform

import pytest
from traitlets.config import Config

from jupyter_envmod.config import DEFAULT_THREAD_VARIABLES, EnvMod, expand_path, load_envmod
from jupyter_envmod.errors import ConfigError


@pytest.fixture
def config_dir(tmp_path):
    d = tmp_path / "etc-jupyter"
    d.mkdir()
    return d


def load(config_dir, **traits):
    return load_envmod(Config({"EnvMod": traits}), config_paths=[str(config_dir)])


def problems_of(excinfo):
    return {(p["trait"], p["problem"].split(";")[0]) for p in excinfo.value.problems}


def test_defaults(home, config_dir, monkeypatch):
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(home / "jdata"))
    envmod = load(config_dir)
    assert envmod.env_dirs == ["~/.conda/envs"]
    assert envmod.env_roots == [home / ".conda" / "envs"]
    assert envmod.expanded("allowed_roots") == [str(home / ".conda" / "envs")]
    assert envmod.default_engine == "rattler"
    assert envmod.conda_executable == "conda"
    assert envmod.channels == ["conda-forge"]
    assert envmod.channel_priority == "strict"
    assert envmod.kernel_dir == str(home / "jdata" / "kernels")
    assert envmod.kernel_display_name_template == "Python {python_version} ({name})"
    assert envmod.thread_variables == DEFAULT_THREAD_VARIABLES
    assert envmod.expanded("module_dir") == str(home / "privatemodules")
    assert envmod.module_app == "conda-env"
    assert envmod.module_name_template == "{name}-py{python_version}"
    assert envmod.module_formats == ["lua", "tcl", "sh", "csh"]
    assert envmod.shared_umask == 0o002


def test_env_dirs_default_follows_conda_envs_path(home, config_dir, monkeypatch):
    monkeypatch.setenv("CONDA_ENVS_PATH", f"/scratch/a{os.pathsep}/scratch/b")
    assert load(config_dir).env_dirs == ["/scratch/a", "/scratch/b"]


def test_conda_executable_default_follows_conda_exe(home, config_dir, monkeypatch):
    monkeypatch.setenv("CONDA_EXE", "/opt/miniforge/bin/conda")
    assert load(config_dir).conda_executable == "/opt/miniforge/bin/conda"


def test_expansion_of_user_arch_vars_and_home(home, config_dir, monkeypatch):
    monkeypatch.setenv("PROJECT", "/proj/abc")
    envmod = load(config_dir, env_dirs=["$PROJECT/{user}/envs-{arch}", "${PROJECT}/shared", "~/envs"])
    user, arch = getpass.getuser(), platform.machine()
    assert envmod.expanded("env_dirs") == [f"/proj/abc/{user}/envs-{arch}", "/proj/abc/shared", str(home / "envs")]
    # allowed_roots defaults to env_dirs plus shared_roots
    envmod = load(config_dir, env_dirs=["/a"], shared_roots=["/b"])
    assert envmod.expanded("allowed_roots") == ["/a", "/b"]


def test_expand_path_names_what_is_missing(monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(ValueError, match=r"\$NOPE_NOT_SET is not set"):
        expand_path("$NOPE_NOT_SET/envs")
    with pytest.raises(ValueError, match=r"unknown placeholder \{host\}"):
        expand_path("/x/{host}")


@pytest.mark.parametrize(
    ("traits", "trait", "fragment"),
    [
        ({"default_engine": "pip"}, "default_engine", "expected any of ['rattler', 'conda', 'venv']"),
        ({"channel_priority": "loose"}, "channel_priority", "expected any of ['strict', 'flexible']"),
        ({"module_formats": ["lua", "bash"]}, "module_formats", "bash"),
        ({"env_dirs": ["relative/envs"]}, "env_dirs", "must be an absolute path"),
        ({"env_dirs": ["$NOPE_NOT_SET/envs"]}, "env_dirs", "$NOPE_NOT_SET is not set"),
        ({"env_dirs": []}, "env_dirs", "at least one directory"),
        ({"kernel_dir": "kernels"}, "kernel_dir", "must be an absolute path"),
        ({"module_dir": "/x/{host}"}, "module_dir", "unknown placeholder {host}"),
        ({"template_dirs": ["/does/not/exist"]}, "template_dirs", "does not exist"),
        ({"default_python": "python3"}, "default_python", "X.Y or X.Y.Z"),
        ({"default_python": "2.7"}, "default_python", "X.Y or X.Y.Z"),
        ({"kernel_name_template": "envmod-{nmae}"}, "kernel_name_template", "unknown placeholder {nmae}"),
        ({"kernel_display_name_template": "Python {"}, "kernel_display_name_template", "not a valid template"),
        ({"module_name_template": "{name}-{version}"}, "module_name_template", "unknown placeholder {version}"),
        ({"kernel_env": {"1BAD": "x"}}, "kernel_env", "variable names"),
        ({"thread_variables": ["OMP NUM"]}, "thread_variables", "variable names"),
        ({"module_app": "a/b"}, "module_app", "one directory name"),
        ({"module_formats": ["lua", "lua"]}, "module_formats", "each format may appear once"),
        ({"shared_group": "no-such-group-envmod"}, "shared_group", "no such group"),
        ({"shared_umask": 0o1000}, "shared_umask", "between 0 and 0o777"),
        ({"channels": ["conda forge"]}, "channels", "without spaces"),
        ({"pip_index_url": "pypi.example/simple"}, "pip_index_url", "http(s)://"),
        ({"conda_executable": "bin/conda"}, "conda_executable", "absolute path"),
    ],
)
def test_each_bad_value_names_trait_and_value(home, config_dir, monkeypatch, traits, trait, fragment):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    with pytest.raises(ConfigError) as excinfo:
        load(config_dir, **traits)
    err = excinfo.value
    assert err.reason == "invalid-configuration"
    assert f"EnvMod.{trait}" in err.message
    assert fragment in err.message
    problem = next(p for p in err.problems if p["trait"] == trait)
    bad_value = traits[trait]
    if (isinstance(bad_value, list) and bad_value) or isinstance(bad_value, dict):
        assert problem["value"] in (bad_value, *bad_value)
    else:
        assert problem["value"] == bad_value
    assert repr(problem["value"]) in err.message


def test_all_problems_are_reported_at_once(home, config_dir):
    with pytest.raises(ConfigError) as excinfo:
        load(config_dir, env_dirs=["rel"], default_python="x", module_app="")
    assert {p["trait"] for p in excinfo.value.problems} == {"env_dirs", "default_python", "module_app"}


def test_valid_site_configuration_loads(home, config_dir, tmp_path, monkeypatch):
    templates = tmp_path / "templates"
    templates.mkdir()
    monkeypatch.setenv("SCRATCH", str(tmp_path / "scratch"))
    envmod = load(
        config_dir,
        env_dirs=["$SCRATCH/{user}/envs"],
        default_engine="venv",
        channels=["https://mirror.example/conda-forge", "file:///opt/channel"],
        channel_priority="flexible",
        pip_index_url="https://pypi.example/simple",
        default_python="3.11.7",
        template_dirs=[str(templates)],
        kernel_env={"MPLBACKEND": "agg"},
        module_formats=["lua", "sh"],
        shared_group=_some_group(),
        shared_umask=0o007,
    )
    assert envmod.effective()["shared_umask"] == "0007"
    assert envmod.effective()["env_dirs"] == [str(tmp_path / "scratch" / getpass.getuser() / "envs")]


def _some_group() -> str:
    import grp

    return grp.getgrgid(os.getgid()).gr_name


def test_every_trait_is_configurable_and_documented():
    traits = EnvMod.class_own_traits()
    assert len(traits) >= 21
    for name, trait in traits.items():
        assert trait.metadata.get("config") is True, name
        assert len(trait.help) > 40, f"{name} needs a full help text"


def test_server_config_files_and_dropins_are_read(home, config_dir):
    """What the CLI does: read jupyter_server_config.json/.py and the EnvMod
    sections of jupyter_server_config.d/*.json, higher-priority files winning."""
    (config_dir / "jupyter_server_config.d").mkdir()
    (config_dir / "jupyter_server_config.d" / "site.json").write_text(
        json.dumps({"EnvMod": {"default_engine": "venv", "module_app": "envs"}})
    )
    (config_dir / "jupyter_server_config.py").write_text("c.EnvMod.module_app = 'py-envs'\n")
    envmod = load_envmod(config_paths=[str(config_dir)])
    assert envmod.default_engine == "venv"
    assert envmod.module_app == "py-envs"  # the main config file wins over drop-ins


def test_unreadable_dropin_is_named(home, config_dir):
    (config_dir / "jupyter_server_config.d").mkdir()
    bad = config_dir / "jupyter_server_config.d" / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"broken\.json"):
        load_envmod(config_paths=[str(config_dir)])


def test_effective_configuration_is_json(home, config_dir):
    effective = load(config_dir).effective()
    assert json.loads(json.dumps(effective)) == effective
    assert set(effective) == set(EnvMod.class_own_traits(config=True))


def test_type_errors_and_misspelt_traits_are_reported_together(home, config_dir):
    with pytest.raises(ConfigError) as excinfo:
        load(config_dir, default_engine="pip", channel_priority="loose", env_dir=["/x"])
    problems = {p["trait"]: p["problem"] for p in excinfo.value.problems}
    assert set(problems) == {"default_engine", "channel_priority", "env_dir"}
    assert "did you mean env_dirs?" in problems["env_dir"]
