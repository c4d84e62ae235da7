"""Group-shared environments (jupyter_envmod.sharing), with real unix users.

Runs as root: each module run makes a throwaway group and two throwaway users
(tests/users.py) — a co-maintainer in the group and a colleague outside it — and
removes them afterwards. Everything those users must reach (their homes, the shared
root, the channel, the interpreter they run) lives in a 755 directory under /tmp:
pytest's own tmp_path is under /tmp/pytest-of-root, mode 700.

The interpreter: the other users run ``sys.executable`` when they can. On the
development machines they cannot — the interpreter of the test venv lives under
/root (pyenv), mode 700 — so they run a small venv over another build of the same
Python X.Y that they can reach (e.g. Debian's /usr/bin/python3.11), whose
site-packages point at the test venv's (a .pth file): the same jupyter_envmod and
dependencies. The test channel's ``python`` package links to that interpreter too,
so the environment's Python runs for every user. When no such interpreter exists
the tests fail saying so (a skip would count as a failure under ENVMOD_STRICT=1).

Unit tests drive prepare_prefix / fix_permissions on small trees; the end-to-end
tests create an environment in the shared root through the CLI as root and check
what the co-maintainer and the colleague can and cannot do with it, with real
Lmod and a real kernel started by jupyter_client.
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import site
import stat
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jupyter_envmod import sharing
from jupyter_envmod.config import EnvMod
from tests.localchannel import index_channel
from tests.modsys import INIT
from tests.users import Accounts, User, can_make_users, open_tempdir

MAJOR_MINOR = f"{sys.version_info.major}.{sys.version_info.minor}"
CREATE_SPECS = ("python", "ipykernel", "tinypy=1.0")
PROBE = "import jupyter_envmod, jupyter_client, ipykernel, rattler"


# -- the sandbox: users, group, a directory they reach -------------------------------


@dataclass
class Sandbox:
    root: Path  # 755, under /tmp
    group: str
    gid: int
    co: User  # a co-maintainer: member of the group
    ext: User  # a colleague: not a member
    #: the interpreter the other users run, and the real interpreter binary behind it
    python: str
    base_python: str
    base_version: str

    def run_python(self, user: User, code: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return user.run([self.python, "-c", code, *args], env=user.environ(**env))


def _try_python(user: User, python: str) -> str | None:
    """None when ``user`` can run ``python`` and import the project with it; else why not."""
    try:
        done = user.run([python, "-c", PROBE], timeout=60)
    except OSError as err:
        return f"{python}: {err}"
    if done.returncode == 0:
        return None
    last = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
    return f"{python}: {last[0]}"


def _runtime_venv(where: Path, base: str) -> str:
    """A venv over ``base`` whose site-packages adds the test run's (where
    jupyter_envmod is installed, editable or not)."""
    where.mkdir()
    (where / "bin").mkdir()
    packages = where / "lib" / f"python{MAJOR_MINOR}" / "site-packages"
    packages.mkdir(parents=True)
    (where / "pyvenv.cfg").write_text(
        f"home = {os.path.dirname(base)}\ninclude-system-site-packages = false\nversion = {MAJOR_MINOR}\n"
    )
    os.symlink(base, where / "bin" / "python")
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    (packages / "_envmod_test_run.pth").write_text(lines)
    return str(where / "bin" / "python")


def _reachable_python(root: Path, user: User) -> tuple[str, str]:
    """(python to run as ``user``, the real interpreter binary behind it)."""
    tried: list[str] = []
    problem = _try_python(user, sys.executable)
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    if problem is None:
        return sys.executable, base
    tried.append(problem)
    candidates = [base] + [os.path.realpath(f"{d}/python{MAJOR_MINOR}") for d in ("/usr/local/bin", "/usr/bin")]
    for n, candidate in enumerate(dict.fromkeys(candidates)):
        if not os.path.isfile(candidate):
            continue
        python = _runtime_venv(root / f"runtime{n}", candidate)
        problem = _try_python(user, python)
        if problem is None:
            return python, candidate
        tried.append(f"venv over {problem}")
    pytest.fail(
        f"No Python {MAJOR_MINOR} that another user can run with this project importable; tried: "
        + "; ".join(tried)
        + ". The test venv's interpreter must be reachable by other users (no mode-700 directory such as /root "
        f"on its path), or a Python {MAJOR_MINOR} must be installed where they reach it (e.g. /usr/bin)."
    )


@pytest.fixture(scope="module")
def sandbox():
    why = can_make_users()
    if why:
        pytest.fail(f"these tests create unix users and must run as root: {why}")
    root = open_tempdir("envmod-sharing-")
    accounts = Accounts()
    try:
        group = accounts.group("envmod-grp")
        co = accounts.user("envmod-co", root / "co", groups=[group])
        ext = accounts.user("envmod-ext", root / "ext")
        python, base = _reachable_python(root, ext)
        version = ext.run([python, "-c", "import platform; print(platform.python_version())"]).stdout.strip()
        yield Sandbox(root, group, grp.getgrnam(group).gr_gid, co, ext, python, base, version)
    finally:
        try:
            accounts.close()
        finally:
            shutil.rmtree(root, ignore_errors=True)


# -- unit level: prepare_prefix and fix_permissions ---------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _envmod(root: Path, group: str, umask: int = 0o002) -> EnvMod:
    return EnvMod(shared_roots=[str(root)], shared_group=group, shared_umask=umask)


@pytest.fixture
def tree(sandbox, request):
    """A shared root (root:group, 2775, as a site would set it up) with one new
    environment directory prepared in it, and a stand-in package cache outside."""
    base = sandbox.root / "unit" / request.node.name
    shared = base / "shared"
    shared.mkdir(parents=True)
    os.chown(shared, 0, sandbox.gid)
    shared.chmod(0o2775)
    cache = base / "cache"
    cache.mkdir()
    yield shared, cache
    shutil.rmtree(base)


def _fill(prefix: Path, cache: Path) -> None:
    """Files as an engine leaves them with umask 022: plain, executable, private, a
    hard link from the package cache, symlinks (one dangling)."""
    old = os.umask(0o022)
    try:
        (prefix / "lib" / "sub").mkdir(parents=True)
        (prefix / "lib" / "sub" / "data.txt").write_text("data")
        tool = prefix / "tool"
        tool.write_text("#!/bin/sh\n")
        tool.chmod(0o755)
        secret = prefix / "secret"
        secret.write_text("x")
        secret.chmod(0o600)
        (cache / "pkgfile.py").write_text("VERSION = 1\n")
        os.link(cache / "pkgfile.py", prefix / "lib" / "pkgfile.py")
        os.symlink("tool", prefix / "link")
        os.symlink("/nonexistent/target", prefix / "dangling")
    finally:
        os.umask(old)


def test_prepare_and_fix_make_a_group_shared_tree(sandbox, tree):
    shared, cache = tree
    envmod = _envmod(shared, sandbox.group)
    prefix = shared / "env"
    prefix.mkdir(mode=0o700)
    os.chown(prefix, 0, 0)
    sharing.prepare_prefix(envmod, prefix)
    assert os.stat(prefix).st_gid == sandbox.gid
    assert mode(prefix) == 0o2775
    _fill(prefix, cache)
    # setgid: what the operation makes inherits the group before any fixing
    assert os.stat(prefix / "lib" / "sub" / "data.txt").st_gid == sandbox.gid
    link_before = os.lstat(prefix / "link")

    changed = sharing.fix_permissions(envmod, prefix)
    assert changed >= 5
    assert mode(prefix / "lib") == mode(prefix / "lib" / "sub") == 0o2775
    assert mode(prefix / "lib" / "sub" / "data.txt") == 0o664
    assert mode(prefix / "tool") == 0o775
    assert mode(prefix / "secret") == 0o664  # group = user, others read-only use
    # a file shared with a package cache: the group, but no group write
    assert mode(prefix / "lib" / "pkgfile.py") == 0o644
    assert os.stat(cache / "pkgfile.py").st_gid == sandbox.gid
    for path in prefix.rglob("*"):
        if not path.is_symlink():
            assert path.stat().st_gid == sandbox.gid, path
    # symlinks are neither followed nor changed
    link_after = os.lstat(prefix / "link")
    assert (link_after.st_gid, link_after.st_mode) == (link_before.st_gid, link_before.st_mode)
    assert os.path.islink(prefix / "dangling")
    # one pass leaves nothing to do for the next
    assert sharing.fix_permissions(envmod, prefix) == 0
    assert sharing.shared_root_of(envmod, prefix) == shared
    info = sharing.sharing_info(envmod, prefix)
    assert info["shared_root"] == str(shared)
    assert info["group"] == sandbox.group
    assert info["owner"] == "root"
    assert info["group_writable"]
    assert info["can_change"]


def test_shared_umask_007_gives_others_nothing(sandbox, tree):
    shared, cache = tree
    envmod = _envmod(shared, sandbox.group, umask=0o007)
    prefix = shared / "env"
    prefix.mkdir()
    sharing.prepare_prefix(envmod, prefix)
    assert mode(prefix) == 0o2770
    _fill(prefix, cache)
    sharing.fix_permissions(envmod, prefix)
    assert mode(prefix / "lib") == 0o2770
    assert mode(prefix / "lib" / "sub" / "data.txt") == 0o660
    assert mode(prefix / "tool") == 0o770
    assert mode(prefix / "lib" / "pkgfile.py") == 0o640
    assert not sharing.sharing_info(envmod, prefix)["readable_by_others"]


def test_the_group_of_the_shared_root_when_no_group_is_configured(sandbox, tree):
    shared, _ = tree
    envmod = EnvMod(shared_roots=[str(shared)])
    assert sharing.shared_gid(envmod, shared) == sandbox.gid
    prefix = shared / "env"
    prefix.mkdir()
    sharing.prepare_prefix(envmod, prefix)
    assert os.stat(prefix).st_gid == sandbox.gid


def test_nothing_changes_outside_shared_roots(sandbox, tree):
    shared, cache = tree
    envmod = _envmod(shared, sandbox.group)
    private = cache.parent / "private"
    prefix = private / "env"
    prefix.mkdir(parents=True, mode=0o755)
    _fill(prefix, cache)
    before = {p: os.lstat(p) for p in prefix.rglob("*")}
    sharing.prepare_prefix(envmod, prefix)
    assert sharing.fix_permissions(envmod, prefix) == 0
    assert sharing.shared_root_of(envmod, prefix) is None
    assert sharing.sharing_info(envmod, prefix)["shared_root"] is None
    for path, st in before.items():
        now = os.lstat(path)
        assert (now.st_mode, now.st_gid) == (st.st_mode, st.st_gid), path
    # the real path counts: a symlink into the shared root is inside it
    (shared / "env").mkdir()
    os.symlink(shared, private / "via-link")
    assert sharing.shared_root_of(envmod, private / "via-link" / "env") == shared
    assert sharing.shared_root_of(envmod, shared) is None  # the root itself is no environment


def test_entries_of_other_users_are_skipped(sandbox, tree):
    shared, cache = tree
    envmod = _envmod(shared, sandbox.group)
    prefix = shared / "env"
    prefix.mkdir()
    sharing.prepare_prefix(envmod, prefix)
    _fill(prefix, cache)
    theirs = prefix / "lib" / "theirs.txt"
    theirs.write_text("a co-maintainer's file")
    theirs.chmod(0o600)
    os.chown(theirs, sandbox.co.uid, sandbox.co.gid)
    sharing.fix_permissions(envmod, prefix)
    st = os.stat(theirs)
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o600, sandbox.co.gid)

    # the co-maintainer's pass: their own files fixed, root's left alone, no error
    theirs.chmod(0o644)
    mine = os.stat(prefix / "lib" / "sub" / "data.txt")
    (prefix / "lib" / "sub" / "data.txt").chmod(0o644)
    code = (
        "import sys; from pathlib import Path; from jupyter_envmod import sharing; "
        "from jupyter_envmod.config import EnvMod; "
        "e = EnvMod(shared_roots=[sys.argv[1]], shared_group=sys.argv[2]); "
        "print(sharing.fix_permissions(e, Path(sys.argv[3])))"
    )
    done = sandbox.run_python(sandbox.co, code, str(shared), sandbox.group, str(prefix))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
    st = os.stat(theirs)
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o664, sandbox.gid)
    assert mode(prefix / "lib" / "sub" / "data.txt") == 0o644
    assert os.stat(prefix / "lib" / "sub" / "data.txt").st_mtime_ns == mine.st_mtime_ns


def test_not_a_member_cannot_create_in_the_shared_root_and_cannot_change(sandbox, tree):
    shared, _ = tree
    # a colleague's own directory inside the shared root, e.g. made before the site set the group
    own = shared / "colleague-dir"
    own.mkdir()
    os.chown(own, sandbox.ext.uid, sandbox.ext.gid)
    code = (
        "import sys, json; from pathlib import Path; from jupyter_envmod import sharing; "
        "from jupyter_envmod.config import EnvMod; from jupyter_envmod.errors import NotPermitted; "
        "e = EnvMod(shared_roots=[sys.argv[1]], shared_group=sys.argv[2]); p = Path(sys.argv[3]); p.mkdir()\n"
        "try:\n    sharing.prepare_prefix(e, p)\nexcept NotPermitted as err:\n    print(err.message)\n"
        "print(sharing.can_change(Path(sys.argv[4])))\n"
        "try:\n    sharing.check_can_change(e, Path(sys.argv[4]), 'install packages in')\n"
        "except NotPermitted as err:\n    print(err.message); print(json.dumps(err.details))\n"
    )
    prefix = shared / "env"
    prefix.mkdir()
    sharing.prepare_prefix(_envmod(shared, sandbox.group), prefix)
    done = sandbox.run_python(sandbox.ext, code, str(shared), sandbox.group, str(own / "env"), str(prefix))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"belong to group {sandbox.group}, and you are not a member" in lines[0]
    assert lines[1] == "False"
    assert lines[2].startswith(f"You cannot install packages in {prefix} (a shared environment in {shared}): ")
    assert f"It belongs to root; members of group {sandbox.group} ({sandbox.co.name}) can change it too." in lines[2]
    assert f"jupyter envmod kernel -p {prefix}" in lines[2]
    assert f"jupyter envmod clone -p {prefix}" in lines[2]
    assert json.loads(lines[3]) == {"field": "path", "path": str(prefix), "owner": "root", "group": sandbox.group}
    # as root (or anyone who can write it) the check passes
    sharing.check_can_change(_envmod(shared, sandbox.group), prefix, "install packages in")
    private = shared / "private-env"
    private.mkdir(mode=0o755)
    assert sharing.who_can_change(private) == "Only its owner, root, can change it."


# -- end to end: the CLI as three users ----------------------------------------------------


def _pack_python(out: Path, stage: Path, interpreter: str, version: str) -> None:
    """A ``python`` conda package that is a venv over ``interpreter`` (as
    tests/localchannel.py's, but over an interpreter every user can run)."""
    from rattler import Subdir
    from rattler_build import assemble_package

    major_minor = ".".join(version.split(".")[:2])
    (stage / "bin").mkdir(parents=True)
    (stage / "lib" / f"python{major_minor}" / "site-packages").mkdir(parents=True)
    (stage / "lib" / f"python{major_minor}" / "site-packages" / ".envmod-placeholder").write_text("")
    (stage / "pyvenv.cfg").write_text(
        f"home = {os.path.dirname(interpreter)}\ninclude-system-site-packages = false\nversion = {version}\n"
    )
    os.symlink(interpreter, stage / "bin" / f"python{major_minor}")
    os.symlink(f"python{major_minor}", stage / "bin" / "python")
    os.symlink(f"python{major_minor}", stage / "bin" / "python3")
    assemble_package(
        name="python",
        version=version,
        target_platform=str(Subdir.current()),
        build_string="0_envmodshared",
        output_dir=str(out / str(Subdir.current())),
        files_dir=str(stage),
        noarch=None,
        detect_prefix=False,
        timestamp=datetime(2024, 1, 1, tzinfo=timezone.utc),
        compression_level=1,
    )


def _build_channel(where: Path, sandbox: Sandbox, local_channel, ipykernel_url: str) -> str:
    """One channel every user reads: python (over the reachable interpreter),
    tinypy 1.0 and 1.1 from the local channel, ipykernel from its channel."""
    from rattler import Subdir

    out = where / "channel"
    (out / "noarch").mkdir(parents=True)
    (out / str(Subdir.current())).mkdir()
    _pack_python(out, where / "stage", sandbox.base_python, sandbox.base_version)
    shutil.rmtree(where / "stage")
    ipykernel_dir = Path(urllib.request.url2pathname(urllib.parse.urlparse(ipykernel_url).path))
    for archive in [*local_channel.path.glob("noarch/tinypy-*"), *ipykernel_dir.glob("noarch/ipykernel-*")]:
        shutil.copy(archive, out / "noarch" / archive.name)

    index_channel(out)
    for path in [out, *out.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return out.as_uri()


@dataclass
class SharedEnv:
    sandbox: Sandbox
    shared: Path
    prefix: Path
    owner_home: Path
    created: subprocess.CompletedProcess[str]

    def config_env(self, home: Path) -> dict[str, str]:
        return {"JUPYTER_CONFIG_DIR": str(home / "config")}

    def cli(self, user: User, *args: str) -> subprocess.CompletedProcess[str]:
        env = user.environ(**self.config_env(user.home))
        return user.run([self.sandbox.python, "-m", "jupyter_envmod.cli", *args], env=env, timeout=300)


def _write_config(home: Path, shared: Path, group: str, channel: str) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    site = {
        "env_dirs": [str(home / "envs")],
        "shared_roots": [str(shared)],
        "shared_group": group,
        "module_dir": str(home / "privatemodules"),
        "cache_dir": str(home / "cache"),
        "channels": [channel],
        "default_python": MAJOR_MINOR,
    }
    (config / "jupyter_server_config.json").write_text(json.dumps({"EnvMod": site}))
    (config / "jupyter_server_config.json").chmod(0o644)


@pytest.fixture(scope="module")
def shared_env(sandbox, local_channel, ipykernel_channel):
    """root creates ``<shared>/analysis`` (python, ipykernel, tinypy 1.0, a kernel and
    module files) through the CLI; every user has a config naming the shared root."""
    channel = _build_channel(sandbox.root, sandbox, local_channel, ipykernel_channel)
    shared = sandbox.root / "shared"
    shared.mkdir()
    os.chown(shared, 0, sandbox.gid)
    shared.chmod(0o2775)
    owner_home = sandbox.root / "owner"
    owner_home.mkdir(mode=0o755)
    for home in (owner_home, sandbox.co.home, sandbox.ext.home):
        _write_config(home, shared, sandbox.group, channel)
    for user in (sandbox.co, sandbox.ext):
        os.chown(user.home / "config", user.uid, user.gid)
    prefix = shared / "analysis"
    env = {
        "HOME": str(owner_home),
        "USER": "root",
        "LOGNAME": "root",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "JUPYTER_CONFIG_DIR": str(owner_home / "config"),
    }
    created = subprocess.run(
        [sys.executable, "-m", "jupyter_envmod.cli", "create", "-y", "-p", str(prefix), "-j", *CREATE_SPECS],
        capture_output=True,
        text=True,
        env=env,
        umask=0o022,
        timeout=300,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    return SharedEnv(sandbox, shared, prefix, owner_home, created)


def snapshot(*roots: Path) -> dict[str, tuple[int, int, int, int, int]]:
    """Every entry under ``roots`` (not following symlinks): mode, owner, group, size, mtime."""
    found = {}
    for root in roots:
        if not root.exists():
            continue
        for path in [root, *root.rglob("*")]:
            st = os.lstat(path)
            found[str(path)] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns)
    return found


def _check_shared_tree(prefix: Path, gid: int) -> None:
    """Every entry (not a symlink) has the group; directories 2775; files: group bits
    = user bits (without write for hard-linked package files), others read-only."""
    for path in [prefix, *prefix.rglob("*")]:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            continue
        assert st.st_gid == gid, path
        perms = stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            assert perms == 0o2775, (path, oct(perms))
            continue
        user = perms >> 6 & 0o7
        group = user & 0o5 if st.st_nlink > 1 else user
        assert perms == user << 6 | group << 3 | user & 0o5, (path, oct(perms))


def test_created_environment_is_group_shared(shared_env):
    sandbox = shared_env.sandbox
    meta = shared_env.prefix / "conda-meta"
    assert "Jupyter kernel:" in shared_env.created.stdout
    _check_shared_tree(shared_env.prefix, sandbox.gid)
    # what the engine and this project wrote is group-writable (package files hard-linked
    # from root's package cache are group-readable only: see jupyter_envmod.sharing)
    for name in (".envmod/state.json", ".envmod/lock", *(f"conda-meta/{p.name}" for p in meta.glob("*.json"))):
        assert mode(shared_env.prefix / name) == 0o664, name
    assert len(list(meta.glob("*.json"))) == 3  # python, ipykernel, tinypy

    described = shared_env.cli(sandbox.ext, "describe", "-p", str(shared_env.prefix), "--json")
    assert described.returncode == 0, described.stderr
    code = (
        "import sys, json; from pathlib import Path; from jupyter_envmod import sharing; "
        "from jupyter_envmod.config import load_envmod; "
        "print(json.dumps(sharing.sharing_info(load_envmod(), Path(sys.argv[1]))))"
    )
    for user, can in ((sandbox.co, True), (sandbox.ext, False)):
        done = sandbox.run_python(user, code, str(shared_env.prefix), **shared_env.config_env(user.home))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {
            "shared_root": str(shared_env.shared),
            "group": sandbox.group,
            "owner": "root",
            "group_writable": True,
            "readable_by_others": True,
            "can_change": can,
        }


def _tinypy_version(prefix: Path) -> str:
    text = next(prefix.glob("lib/python*/site-packages/tinypy/__init__.py")).read_text()
    return text.split('"')[1]


def test_co_maintainer_can_install(shared_env):
    sandbox = shared_env.sandbox
    done = shared_env.cli(sandbox.co, "install", "-y", "-p", str(shared_env.prefix), "tinypy=1.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _tinypy_version(shared_env.prefix) == "1.1"
    [record] = (shared_env.prefix / "conda-meta").glob("tinypy-*.json")
    assert record.name.startswith("tinypy-1.1-")
    assert record.stat().st_uid == sandbox.co.uid
    # what the co-maintainer wrote is shared the same way, so root (and others) can change it back
    _check_shared_tree(shared_env.prefix, sandbox.gid)
    assert mode(record) == 0o664


def test_colleague_cannot_install_and_is_told_who_can(shared_env):
    sandbox = shared_env.sandbox
    before = snapshot(shared_env.prefix)
    done = shared_env.cli(sandbox.ext, "install", "-y", "-p", str(shared_env.prefix), "tinypy=1.1")
    assert done.returncode == 2, done.stdout + done.stderr
    message = done.stderr
    assert f"You cannot install packages in {shared_env.prefix}" in message
    assert "It belongs to root" in message
    assert f"members of group {sandbox.group} ({sandbox.co.name})" in message
    assert f"jupyter envmod kernel -p {shared_env.prefix}" in message
    assert "Traceback" not in message
    assert snapshot(shared_env.prefix) == before


def test_colleague_adopts_it_into_their_own_dirs_and_uses_it(shared_env):
    sandbox, ext, prefix = shared_env.sandbox, shared_env.sandbox.ext, shared_env.prefix
    owner_dirs = (shared_env.owner_home / ".local" / "share" / "jupyter", shared_env.owner_home / "privatemodules")
    before = snapshot(prefix, *owner_dirs)
    assert any(owner_dirs[1].rglob("*.lua"))  # root's own module files exist, and must stay as they are

    kernel = shared_env.cli(ext, "kernel", "-p", str(prefix))
    assert kernel.returncode == 0, kernel.stdout + kernel.stderr
    module = shared_env.cli(ext, "module", "-p", str(prefix))
    assert module.returncode == 0, module.stdout + module.stderr
    assert snapshot(prefix, *owner_dirs) == before
    kernel_json = ext.home / ".local" / "share" / "jupyter" / "kernels" / "envmod-analysis" / "kernel.json"
    assert json.loads(kernel_json.read_text())["metadata"]["envmod"]["path"] == str(prefix)
    written = [line.removeprefix("wrote ") for line in module.stdout.splitlines() if line.startswith("wrote ")]
    assert written
    assert all(Path(p).is_relative_to(ext.home) for p in written)
    assert any(Path(p).is_relative_to(ext.home / "privatemodules") for p in written)
    # nothing of the colleague's anywhere but in their home
    for path, (_, uid, *_rest) in snapshot(sandbox.root).items():
        if uid == ext.uid:
            assert Path(path).is_relative_to(ext.home), path
    load = next(line.strip() for line in module.stdout.splitlines() if line.strip().startswith("module load"))

    # real Lmod, as the colleague: the module puts the environment's Python first
    script = "\n".join(
        [
            f"source {INIT[('lmod', 'bash')]}",
            f"module use {ext.home / 'privatemodules'}",
            load,
            "python -c 'import sys; print(sys.prefix)'",
        ]
    )
    shell = ext.run(["/bin/bash", "-c", script], timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip().splitlines()[-1] == str(prefix)

    # the adopted kernel, started by jupyter_client as the colleague, runs in the environment
    code = (
        "import sys\n"
        "from jupyter_client.manager import start_new_kernel\n"
        "km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=60)\n"
        "try:\n"
        "    out = []\n"
        "    reply = kc.execute_interactive('import sys; print(sys.prefix)', timeout=60, output_hook=out.append)\n"
        "    print(reply['content']['status'])\n"
        "    print(''.join(m['content'].get('text', '') for m in out if m['msg_type'] == 'stream'), end='')\n"
        "finally:\n"
        "    kc.stop_channels()\n"
        "    km.shutdown_kernel(now=True)\n"
    )
    started = sandbox.run_python(ext, code, "envmod-analysis", **shared_env.config_env(ext.home))
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines() == ["ok", str(prefix)]
    assert snapshot(prefix, *owner_dirs) == before


def test_share_gives_a_colleague_commands_that_work(shared_env):
    """root's `share` of the shared environment: the spec to recreate it and the
    exact lines to use it; the colleague runs the `module use …; module load …` line
    (real Lmod) and gets the environment's Python."""
    env = {
        "HOME": str(shared_env.owner_home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **shared_env.config_env(shared_env.owner_home),
    }
    done = subprocess.run(
        [sys.executable, "-m", "jupyter_envmod.cli", "share", "-p", str(shared_env.prefix), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    prefix = str(shared_env.prefix)
    assert info["use"][:2] == [f"jupyter envmod kernel -p {prefix}", f"jupyter envmod module -p {prefix}"]
    [line] = [u for u in info["use"] if u.startswith("module use ")]
    assert line.startswith(f"module use {shared_env.owner_home / 'privatemodules'}; module load ")
    assert info["sharing"]["group"] == shared_env.sandbox.group
    assert info["sharing"]["readable_by_others"]
    assert any(f"Members of group {shared_env.sandbox.group} can change it" in n for n in info["notes"])
    assert "tinypy=1.0" in info["spec"]["text"] or "tinypy=1.1" in info["spec"]["text"]
    assert info["recreate"] == ["jupyter envmod create -n analysis -f environment.yml"]

    ext = shared_env.sandbox.ext
    script = f"source {INIT[('lmod', 'bash')]}\n{line}\npython -c 'import sys; print(sys.prefix)'\n"
    shell = ext.run(["/bin/bash", "-c", script], timeout=60)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.strip().splitlines()[-1] == prefix
