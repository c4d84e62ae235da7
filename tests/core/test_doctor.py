"""The doctor (jupyter_envmod.doctor): every check finds its problem in a temporary
HOME laid out as the tools leave it, and its fix removes the problem without losing
what should be kept (backups, moved directories, the files around the change)."""

from __future__ import annotations

import configparser
import os
import platform
import sys
import time
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from jupyter_envmod import discovery
from jupyter_envmod.config import EnvMod
from jupyter_envmod.doctor import CHECK_IDS, DISABLED_PREFIX, STATUSES, Check, Doctor, report
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.outputs import Outputs
from jupyter_envmod.siteinfo import ModuleSystemInfo, detect_module_system
from jupyter_envmod.state import EnvState, operation_record, read_state, write_state
from tests.core.test_discovery import make_conda_prefix, make_venv
from tests.modsys import LMOD_CMD, MODULES_CMD

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
PY_FULL = platform.python_version()
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def lmod() -> ModuleSystemInfo:
    """The real Lmod of this machine, detected as the server detects it."""
    info = detect_module_system({"LMOD_CMD": str(LMOD_CMD), "PATH": ""}, standard_locations=False)
    assert info.kind == "lmod", info.detail
    return info


@pytest.fixture
def home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The core tests' temporary HOME, also without the variables the doctor reads."""
    for var in (
        *("XDG_CACHE_HOME", "PIP_CONFIG_FILE", "PIP_USER", "PYTHONPATH", "PYTHONUSERBASE"),
        *("PIP_CACHE_DIR", "UV_CACHE_DIR", "RATTLER_CACHE_DIR"),
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def envmod(home: Path) -> EnvMod:
    return EnvMod(
        env_dirs=[str(home / "envs")],
        kernel_dir=str(home / "kernels"),
        module_dir=str(home / "modules"),
        activate_dir=str(home / "activate"),
    )


@pytest.fixture
def make_doctor(envmod: EnvMod, home: Path, lmod: ModuleSystemInfo):
    """A Doctor for the temp HOME; keyword arguments are extra environment variables."""

    def make(envmod: EnvMod = envmod, module_system: ModuleSystemInfo | None = lmod, **environ: str) -> Doctor:
        env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), **environ}
        return Doctor(envmod, environ=env, module_system=module_system)

    return make


def one(doctor: Doctor, cid: str) -> Check:
    (check,) = doctor.run([cid])
    assert check.id == cid
    assert check.status in STATUSES
    return check


def dist_info(site_packages: Path, name: str, version: str, installer: str = "pip") -> Path:
    """A distribution as pip (or conda) leaves it: the package and its dist-info."""
    (site_packages / name.lower()).mkdir(parents=True, exist_ok=True)
    (site_packages / name.lower() / "__init__.py").write_text(f"__version__ = {version!r}\n")
    info = site_packages / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nA package.\n")
    (info / "INSTALLER").write_text(installer + "\n")
    return info


def env_site_packages(prefix: Path) -> Path:
    path = prefix / "lib" / f"python{PY}" / "site-packages"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_outputs(envmod: EnvMod, lmod: ModuleSystemInfo, prefix: Path) -> tuple[list[Path], list[Path]]:
    """The kernel and the module files of the environment at ``prefix``, written by the
    project's own outputs layer; (kernel dirs, module files)."""
    env = discovery.inspect(str(prefix), "test", envmod)
    assert env is not None
    outputs = Outputs(envmod, lmod)
    kernel = outputs.write_kernel(env, modules=[], modulepath=[])
    written = outputs.write_modules(env, formats=None, module_dir=None, module_app=None, modules=[], modulepath=[])
    return [kernel.dir], [Path(p) for p in written["files"].values()]


# -- every check, clean ----------------------------------------------------------------------------


def test_clean_home_is_all_ok(make_doctor, home):
    doctor = make_doctor()
    checks = doctor.run()
    assert [c.id for c in checks] == list(CHECK_IDS)
    for check in checks:
        assert check.status in STATUSES
        assert check.summary, check
        assert check.explanation, check
        if check.id not in ("disk-space", "module-system"):
            assert check.status == "ok", check
            assert check.fix is None
    data = report(checks)
    assert set(data) == {"checks", "counts"}
    assert sum(data["counts"].values()) == len(CHECK_IDS)
    assert data["checks"][0] == {
        "id": "user-site",
        "title": "User site-packages",
        "status": "ok",
        "summary": checks[0].summary,
        "explanation": checks[0].explanation,
        "details": [],
        "fix": None,
    }
    before = sorted(str(p) for p in home.rglob("*"))
    results = doctor.fix(list(CHECK_IDS))
    assert [(r.id, r.fixed) for r in results] == [(cid, False) for cid in CHECK_IDS]
    assert all(r.message == "nothing to fix" for r in results if r.id not in ("disk-space", "module-system"))
    assert sorted(str(p) for p in home.rglob("*")) == before


def test_unknown_or_no_check_is_refused(make_doctor):
    doctor = make_doctor()
    for bad in (["nope"], ["caches", "user_site"], []):
        with pytest.raises(InvalidInput) as err:
            doctor.fix(bad)
        assert err.value.details["field"] == "checks"
        assert "user-site" in err.value.message  # the known ids are listed
    with pytest.raises(InvalidInput) as err:
        doctor.run(["disk"])
    assert err.value.details["field"] == "checks"
    assert "'disk'" in err.value.message


# -- user-site --------------------------------------------------------------------------------------


def test_user_site_shadowing_is_found_and_moved_aside(make_doctor, home):
    conda_env = make_conda_prefix(home / "envs" / "analysis", python=PY_FULL)
    dist_info(env_site_packages(conda_env), "numpy", "2.0.1", installer="conda")
    isolated = make_venv(home / "envs" / "isolated", version=PY_FULL)  # no system site-packages: not affected
    dist_info(env_site_packages(isolated), "numpy", "2.0.2")
    user_site = home / ".local" / "lib" / f"python{PY}" / "site-packages"
    dist_info(user_site, "numpy", "1.26.4")
    dist_info(user_site, "six", "1.16.0")

    check = one(make_doctor(), "user-site")
    assert check.status == "problem"
    assert f"numpy 1.26.4 shadows numpy 2.0.1 in analysis ({conda_env})" in check.details
    assert not any("isolated" in line for line in check.details)
    assert any(line.startswith(f"{user_site}: 2 distribution(s)") for line in check.details)
    assert "PYTHONNOUSERSITE" in check.explanation
    assert check.fix is not None
    assert str(user_site) in check.fix

    (result,) = make_doctor().fix(["user-site"])
    assert result.fixed, result.message
    assert not user_site.exists()
    (moved,) = user_site.parent.glob("site-packages.envmod-disabled-*")
    assert str(moved) in result.changed
    assert (moved / "numpy-1.26.4.dist-info" / "METADATA").is_file()  # nothing deleted
    assert (moved / "six" / "__init__.py").is_file()
    assert one(make_doctor(), "user-site").status == "ok"


def test_user_site_without_overlap_is_a_warning(make_doctor, home):
    base = home / "pyuser"
    user_site = base / "lib" / f"python{PY}" / "site-packages"
    dist_info(user_site, "rich", "13.0.0")
    make_conda_prefix(home / "envs" / "plain", python=PY_FULL)

    check = one(make_doctor(PYTHONUSERBASE=str(base)), "user-site")
    assert check.status == "warning"
    assert any("rich 13.0.0" in line for line in check.details)
    assert check.fix is not None
    assert one(make_doctor(), "user-site").status == "ok"  # ~/.local is empty


# -- pythonpath ------------------------------------------------------------------------------------


def test_pythonpath_in_startup_files_is_commented_out(make_doctor, home):
    bashrc = home / ".bashrc"
    original = (
        "alias ll='ls -l'\n"
        "export PYTHONPATH=$HOME/lib/python:$PYTHONPATH\n"
        "PYTHONPATH=/tmp/x python -c 'print(1)'\n"  # for one command only: left alone
        "# PYTHONPATH=/commented\n"
    )
    bashrc.write_text(original)
    cshrc = home / ".cshrc"
    cshrc.write_text("setenv PYTHONPATH /opt/py\nset prompt='%m> '\n")

    check = one(make_doctor(PYTHONPATH="/opt/py"), "pythonpath")
    assert check.status == "problem"
    assert "PYTHONPATH is set in this environment: /opt/py" in check.details
    assert f"{bashrc}:2: export PYTHONPATH=$HOME/lib/python:$PYTHONPATH" in check.details
    assert f"{cshrc}:1: setenv PYTHONPATH /opt/py" in check.details
    assert not any(line.startswith((f"{bashrc}:3", f"{bashrc}:4")) for line in check.details)
    assert "drop it" in check.explanation  # kernels made here drop PYTHONPATH

    (result,) = make_doctor(PYTHONPATH="/opt/py").fix(["pythonpath"])
    assert result.fixed, result.message
    assert "log in again" in result.message
    lines = bashrc.read_text().splitlines()
    assert lines[1] == DISABLED_PREFIX + "export PYTHONPATH=$HOME/lib/python:$PYTHONPATH"
    assert [lines[0], *lines[2:]] == [original.splitlines()[0], *original.splitlines()[2:]]
    assert cshrc.read_text() == DISABLED_PREFIX + "setenv PYTHONPATH /opt/py\nset prompt='%m> '\n"
    (backup,) = home.glob(".bashrc.envmod-backup-*")
    assert backup.read_text() == original
    assert str(backup) in result.changed
    assert len(list(home.glob(".cshrc.envmod-backup-*"))) == 1

    # the session's own variable cannot be fixed from here: still reported, no fix offered
    again = one(make_doctor(PYTHONPATH="/opt/py"), "pythonpath")
    assert again.status == "problem"
    assert again.fix is None
    (result,) = make_doctor(PYTHONPATH="/opt/py").fix(["pythonpath"])
    assert not result.fixed
    assert "log in again" in result.message
    assert one(make_doctor(), "pythonpath").status == "ok"


# -- pip-user --------------------------------------------------------------------------------------


def test_pip_user_option_is_removed(make_doctor, home, tmp_path):
    conf = home / ".config" / "pip" / "pip.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[global]\nindex-url = https://pypi.example/simple\n# a comment\n\n[install]\nuser = true\n")
    site_conf = tmp_path / "site-pip.conf"  # not the user's: reported, not changed
    site_conf.write_text("[install]\nuser = yes\n")

    check = one(make_doctor(PIP_CONFIG_FILE=str(site_conf)), "pip-user")
    assert check.status == "problem"
    assert f"{conf}:6: user = true" in check.details
    assert f"{site_conf}:2: user = yes" in check.details
    assert check.fix is not None
    assert str(conf) in check.fix
    assert str(site_conf) not in check.fix

    (result,) = make_doctor().fix(["pip-user"])
    assert result.fixed, result.message
    parser = configparser.RawConfigParser()
    parser.read(conf)
    assert not parser.has_option("install", "user")
    assert parser.get("global", "index-url") == "https://pypi.example/simple"
    assert "# a comment" in conf.read_text()
    (backup,) = conf.parent.glob("pip.conf.envmod-backup-*")
    assert "user = true" in backup.read_text()
    assert site_conf.read_text() == "[install]\nuser = yes\n"
    assert one(make_doctor(), "pip-user").status == "ok"

    # PIP_USER in the environment: found, but only the user can remove it where it is set
    (home / ".profile").write_text("export PIP_USER=1\n")
    check = one(make_doctor(PIP_USER="1"), "pip-user")
    assert check.status == "problem"
    assert f"{home / '.profile'}:1: sets PIP_USER" in check.details
    assert check.fix is None
    (result,) = make_doctor(PIP_USER="1").fix(["pip-user"])
    assert not result.fixed
    assert result.message.startswith("no automatic fix")


def test_unreadable_pip_config_is_a_warning(make_doctor, home):
    conf = home / ".pip" / "pip.conf"
    conf.parent.mkdir()
    conf.write_text("user = true\n")  # no section header
    check = one(make_doctor(), "pip-user")
    assert check.status == "warning"
    assert any(line.startswith(f"{conf}: cannot be read") for line in check.details)


# -- caches ----------------------------------------------------------------------------------------


def test_caches_in_home_are_sized_and_emptied(make_doctor, envmod, home, tmp_path):
    xdg = home / "xdg-cache"
    wheels = xdg / "pip" / "wheels" / "ab"
    wheels.mkdir(parents=True)
    (wheels / "big.whl").write_bytes(os.urandom(3 * MIB))
    pkgs = home / ".conda" / "pkgs"
    pkgs.mkdir(parents=True)
    (pkgs / "urls.txt").write_text("https://conda.anaconda.org/conda-forge/noarch/six.conda\n")
    own = home / "envmod-cache" / "rattler"
    own.mkdir(parents=True)
    (own / "pkg.conda").write_bytes(b"x" * 10000)
    scratch = tmp_path / "scratch-uv"  # outside HOME: not the doctor's business
    scratch.mkdir()
    (scratch / "keep").write_text("keep")
    envmod.cache_dir = str(home / "envmod-cache")
    environ = {"XDG_CACHE_HOME": str(xdg), "UV_CACHE_DIR": str(scratch)}

    check = one(make_doctor(**environ), "caches")
    assert check.status == "warning"
    assert f"pip cache: {xdg / 'pip'} — 3.0 MiB" in check.details
    assert any(line.startswith(f"conda package cache: {pkgs} — ") for line in check.details)
    own_line = f"jupyter envmod cache (EnvMod.cache_dir): {home / 'envmod-cache'} — "
    assert any(line.startswith(own_line) for line in check.details)
    assert not any(str(scratch) in line for line in check.details)
    assert check.fix is not None
    assert f"{xdg / 'pip'} (3.0 MiB)" in check.fix

    (result,) = make_doctor(**environ).fix(["caches"])
    assert result.fixed, result.message
    assert sorted(result.changed) == sorted([str(xdg / "pip"), str(pkgs), str(home / "envmod-cache")])
    for directory in (xdg / "pip", pkgs, home / "envmod-cache"):
        assert directory.is_dir()
        assert list(directory.iterdir()) == []
    assert (scratch / "keep").read_text() == "keep"
    assert one(make_doctor(**environ), "caches").status == "ok"


# -- disk-space ------------------------------------------------------------------------------------


def test_disk_space_and_quota(make_doctor, home, tmp_path):
    (home / "envs").mkdir()
    missing_root = home / "not-yet"
    envmod = EnvMod(env_dirs=[str(home / "envs"), str(missing_root)])

    check = one(make_doctor(envmod=envmod, PATH=str(tmp_path / "empty-bin")), "disk-space")
    assert check.fix is None
    assert any(line.startswith(f"{home}: ") and " free of " in line and "% used" in line for line in check.details)
    assert any(line.startswith(f"{home / 'envs'}: ") for line in check.details)
    assert f"{missing_root}: does not exist yet (it is made with the first environment)" in check.details
    assert any(line.startswith("no quota tool found") for line in check.details)

    # The machine has no quota tool and no quota system to ask: a stand-in `quota` on
    # PATH prints what Linux's quota prints, to see its output reach the details.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "quota"
    tool.write_text(
        "#!/bin/sh\n"
        "echo 'Disk quotas for user alice (uid 1000):'\n"
        "echo '     Filesystem  blocks   quota   limit   grace   files   quota   limit   grace'\n"
        "echo '      /dev/home  900000 1000000 1100000            4000       0       0'\n"
    )
    tool.chmod(0o755)
    check = one(make_doctor(envmod=envmod, PATH=str(bin_dir)), "disk-space")
    assert "quota: Disk quotas for user alice (uid 1000):" in check.details
    assert any(line.startswith("quota:") and "/dev/home" in line for line in check.details)
    (result,) = make_doctor(envmod=envmod).fix(["disk-space"])
    assert not result.fixed


# -- orphans ---------------------------------------------------------------------------------------


def test_orphan_kernels_and_module_files_are_removed(make_doctor, envmod, lmod, home):
    gone = make_venv(home / "envs" / "gone", version=PY_FULL)
    kept = make_venv(home / "envs" / "kept", version=PY_FULL)
    gone_kernels, gone_modules = write_outputs(envmod, lmod, gone)
    kept_kernels, kept_modules = write_outputs(envmod, lmod, kept)
    foreign = home / "modules" / "conda-env" / "handwritten"
    foreign.write_text("#%Module\nsetenv X 1\n")
    (gone / "bin" / "python").unlink()
    (gone / "bin").rmdir()
    (gone / "pyvenv.cfg").unlink()
    gone.rmdir()

    kernels_check = one(make_doctor(), "orphan-kernels")
    assert kernels_check.status == "warning"
    (line,) = kernels_check.details
    assert "envmod-gone" in line
    assert f"environment missing: {gone}" in line
    modules_check = one(make_doctor(), "orphan-modules")
    assert modules_check.status == "warning"
    assert sorted(modules_check.details) == sorted(
        f"{path} (conda-env/gone-py{PY_FULL}, {fmt}): environment missing: {gone}"
        for path, fmt in zip(gone_modules, ("lua", "tcl", "sh", "csh"), strict=True)
    )

    results = make_doctor().fix(["orphan-kernels", "orphan-modules"])
    assert [(r.id, r.fixed) for r in results] == [("orphan-kernels", True), ("orphan-modules", True)]
    assert results[0].changed == [str(gone_kernels[0])]
    assert sorted(results[1].changed) == sorted(str(p) for p in gone_modules)
    assert not gone_kernels[0].exists()
    assert not any(p.exists() for p in gone_modules)
    assert all(p.is_dir() for p in kept_kernels)
    assert all(p.is_file() for p in kept_modules)
    assert foreign.read_text() == "#%Module\nsetenv X 1\n"
    assert one(make_doctor(), "orphan-kernels").status == "ok"
    assert one(make_doctor(), "orphan-modules").status == "ok"


# -- interrupted -----------------------------------------------------------------------------------


def interrupted(kind: str) -> dict:
    """An operation record as reconciliation leaves it for an operation nobody runs."""
    return {**operation_record(kind, "t-" + kind), "interrupted": time.time()}


def test_interrupted_create_is_deleted_and_a_change_is_left_for_retry(make_doctor, envmod, lmod, home):
    half = home / "envs" / "half"
    write_state(half, EnvState(engine="rattler", python=PY_FULL, operation=interrupted("create")))
    half_kernels, half_modules = write_outputs(envmod, lmod, half)
    changing = make_venv(home / "envs" / "changing", version=PY_FULL)
    write_state(changing, EnvState(engine="venv", requested_pip=["six"], operation=interrupted("install")))

    check = one(make_doctor(), "interrupted")
    assert check.status == "problem"
    assert any(line.startswith(f"{half}: create interrupted") for line in check.details)
    assert any(line.endswith(f"run: jupyter envmod retry -p {changing}") for line in check.details)
    assert check.fix is not None
    assert str(half) in check.fix
    assert str(changing) not in check.fix

    (result,) = make_doctor().fix(["interrupted"])
    assert result.fixed, result.message
    assert not half.exists()
    assert not half_kernels[0].exists()
    assert not any(p.exists() for p in half_modules)
    assert str(half) in result.changed
    state = read_state(changing)  # an interrupted change is never deleted
    assert state is not None
    assert state.requested_pip == ["six"]

    again = one(make_doctor(), "interrupted")
    assert again.status == "problem"
    assert again.fix is None
    (result,) = make_doctor().fix(["interrupted"])
    assert not result.fixed
    assert "jupyter envmod retry -p PATH" in result.message


def test_one_failing_fix_does_not_stop_the_others(make_doctor, home, tmp_path):
    # an interrupted create registered in environments.txt outside the environment
    # directories: deleting it is refused by the delete operation's own rules
    outside = tmp_path / "elsewhere" / "half"
    write_state(outside, EnvState(engine="rattler", operation=interrupted("create")))
    discovery.register_conda_prefix(outside, add=True)
    (home / ".bashrc").write_text("export PYTHONPATH=/x\n")

    results = make_doctor().fix(["interrupted", "pythonpath"])
    assert [(r.id, r.fixed) for r in results] == [("interrupted", False), ("pythonpath", True)]
    assert results[0].message.startswith("the fix failed:")
    assert "outside the directories where environments may be changed" in results[0].message
    assert outside.is_dir()
    assert (home / ".bashrc").read_text() == DISABLED_PREFIX + "export PYTHONPATH=/x\n"


# -- environments-txt -------------------------------------------------------------------------------


def test_conda_environments_missing_from_environments_txt_are_registered(make_doctor, home):
    registered = make_conda_prefix(home / "envs" / "registered")
    missing = make_conda_prefix(home / "envs" / "missing")
    make_venv(home / "envs" / "venv")  # not a conda environment: conda does not list it
    txt = home / ".conda" / "environments.txt"
    txt.parent.mkdir(parents=True)
    txt.write_text(f"# conda's list\n{registered}\n")

    check = one(make_doctor(), "environments-txt")
    assert check.status == "warning"
    assert check.details == [str(missing)]
    (result,) = make_doctor().fix(["environments-txt"])
    assert result.fixed, result.message
    assert result.changed == [str(txt)]
    assert txt.read_text().splitlines() == ["# conda's list", str(registered), str(missing)]
    assert one(make_doctor(), "environments-txt").status == "ok"


# -- module-system ---------------------------------------------------------------------------------


def test_module_files_without_a_module_system(make_doctor, home):
    none = ModuleSystemInfo(None, detail="No module system found ($LMOD_CMD, $MODULES_CMD, ... are all absent)")
    check = one(make_doctor(module_system=none), "module-system")
    assert check.status == "warning"
    assert check.fix is None
    assert '["sh", "csh"]' in check.explanation
    assert check.details == [none.detail]
    (result,) = make_doctor(module_system=none).fix(["module-system"])
    assert not result.fixed

    scripts_only = EnvMod(module_formats=["sh", "csh"])
    assert one(make_doctor(envmod=scripts_only, module_system=none), "module-system").status == "ok"
    # detected for real, as the server does when it has no cached answer
    found = one(make_doctor(module_system=None, LMOD_CMD=str(LMOD_CMD)), "module-system")
    assert found.status == "ok"
    assert "Lmod" in found.summary
    lua_only = EnvMod(module_formats=["lua", "sh"])
    tcl_system = one(make_doctor(envmod=lua_only, module_system=None, MODULES_CMD=str(MODULES_CMD)), "module-system")
    assert tcl_system.status == "warning"
    assert "Environment Modules" in tcl_system.summary


# -- condarc-channels ------------------------------------------------------------------------------

MIXED_CONDARC = """\
# my conda settings
channels:
  - conda-forge
  - defaults   # an old habit
show_channel_urls: true
"""


def test_channel_mixing_in_condarc_is_fixed_keeping_comments(make_doctor, home):
    condarc = home / ".condarc"
    condarc.write_text(MIXED_CONDARC)

    check = one(make_doctor(), "condarc-channels")
    assert check.status == "problem"
    assert f"{condarc}: channels conda-forge, defaults" in check.details
    assert check.fix is not None
    assert f"In {condarc}: drop defaults from the channels" in check.fix

    (result,) = make_doctor().fix(["condarc-channels"])
    assert result.fixed, result.message
    (backup,) = home.glob(".condarc.envmod-backup-*")
    assert backup.read_text() == MIXED_CONDARC
    text = condarc.read_text()
    assert text.startswith("# my conda settings\n")
    data = YAML(typ="safe").load(text)
    assert data == {"channels": ["conda-forge"], "show_channel_urls": True, "channel_priority": "strict"}
    assert one(make_doctor(), "condarc-channels").status == "ok"


def test_several_channels_without_strict_priority(make_doctor, home):
    condarc = home / ".conda" / "condarc"
    condarc.parent.mkdir()
    condarc.write_text("channels: [conda-forge, bioconda]\nchannel_priority: flexible\n")
    check = one(make_doctor(), "condarc-channels")
    assert check.status == "warning"
    assert f"channel_priority: flexible (set in {condarc})" in check.details
    (result,) = make_doctor().fix(["condarc-channels"])
    assert result.fixed, result.message
    assert YAML(typ="safe").load(condarc.read_text()) == {
        "channels": ["conda-forge", "bioconda"],
        "channel_priority": "strict",
    }
    assert one(make_doctor(), "condarc-channels").status == "ok"


def test_condarc_not_the_users_own_is_not_changed(make_doctor, home, tmp_path, monkeypatch):
    site = tmp_path / "site-condarc.yml"
    site.write_text("channels: [conda-forge, defaults]\nchannel_priority: strict\n")
    monkeypatch.setenv("CONDARC", str(site))
    check = one(make_doctor(CONDARC=str(site)), "condarc-channels")
    assert check.status == "problem"
    assert check.fix is None
    assert str(site) in check.explanation
    (result,) = make_doctor(CONDARC=str(site)).fix(["condarc-channels"])
    assert not result.fixed
    assert site.read_text() == "channels: [conda-forge, defaults]\nchannel_priority: strict\n"


def test_unreadable_condarc_is_a_warning(make_doctor, home):
    (home / ".condarc").write_text("channels: [conda-forge\n")
    check = one(make_doctor(), "condarc-channels")
    assert check.status == "warning"
    assert any(line.startswith(f"{home / '.condarc'}: cannot be read") for line in check.details)


def test_a_check_that_cannot_run_is_a_warning_not_an_error(make_doctor, monkeypatch):
    monkeypatch.delenv("ENVMOD_DOCTOR_UNSET", raising=False)
    broken = EnvMod(env_dirs=["$ENVMOD_DOCTOR_UNSET/envs"])  # what validate() would reject at load
    checks = make_doctor(envmod=broken).run()
    assert [c.id for c in checks] == list(CHECK_IDS)
    disk = checks[CHECK_IDS.index("disk-space")]
    assert disk.status == "warning"
    assert disk.summary == "This check could not run: environment variable $ENVMOD_DOCTOR_UNSET is not set"
    assert disk.fix is None
