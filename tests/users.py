"""Throwaway unix users and groups for tests, and running commands as them.

Tests that check what another user may do (group-shared environments) run as root:
:class:`Accounts` makes users with ``useradd`` and groups with ``groupadd`` under
random names, and removes them (``userdel``, ``groupdel``) when closed, also after a
failure. :meth:`User.run` starts a command as that user — uid, primary gid *and*
supplementary groups set (``subprocess`` keeps root's groups unless ``extra_groups``
is given, and root's gid unless ``group`` is), umask 022, cwd and HOME its home, and
an environment built from nothing (no variable of the test process leaks in).

A directory other users must reach (their homes, a shared root) must not be under
pytest's ``tmp_path``: ``/tmp/pytest-of-root`` is mode 700. :func:`open_tempdir`
makes one under /tmp, mode 755.
"""

from __future__ import annotations

import grp
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: what every command run as a test user finds on PATH (no venv, no module system)
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def can_make_users() -> str | None:
    """None when this process can create users; else why not."""
    if os.geteuid() != 0:
        return "creating unix users needs root"
    missing = [tool for tool in ("useradd", "userdel", "groupadd", "groupdel") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} not found"
    return None


def open_tempdir(prefix: str = "envmod-users-") -> Path:
    """A new directory under /tmp, mode 755 (so other users reach what is inside);
    remove it with ``shutil.rmtree``."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


def _name(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: Path
    #: every group the user is in (primary first), as their login would have
    groups: list[int] = field(default_factory=list)

    def environ(self, **extra: str) -> dict[str, str]:
        """A login-like environment: HOME, USER, LOGNAME, SHELL, PATH, LANG; plus ``extra``."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/bash",
            "PATH": BASE_PATH,
            "LANG": "C.UTF-8",
        }
        env.update(extra)
        return env

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        timeout: float = 120,
        cwd: str | Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` (a list, never a shell string) as this user; output captured as text.
        ``env`` replaces :meth:`environ` entirely when given."""
        return subprocess.run(
            list(argv),
            user=self.uid,
            group=self.gid,
            extra_groups=self.groups,
            umask=0o022,
            env=dict(env) if env is not None else self.environ(),
            cwd=str(cwd or self.home),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


class Accounts:
    """Users and groups made for one test (module); :meth:`close` removes them all."""

    def __init__(self) -> None:
        self.users: list[User] = []
        self.groups: list[str] = []

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def group(self, prefix: str = "envmod-grp") -> str:
        """A new group; its name."""
        name = _name(prefix)
        subprocess.run(["groupadd", name], check=True, capture_output=True, text=True)
        self.groups.append(name)
        return name

    def user(self, prefix: str, home: Path, *, groups: Sequence[str] = ()) -> User:
        """A new user whose home is ``home`` (created, owned by them, mode 755),
        with a primary group of its own and the supplementary ``groups``."""
        name = _name(prefix)
        argv = ["useradd", "--no-create-home", "--home-dir", str(home), "--shell", "/bin/bash", "--user-group"]
        if groups:
            argv += ["--groups", ",".join(groups)]
        subprocess.run([*argv, name], check=True, capture_output=True, text=True)
        entry = pwd.getpwnam(name)
        user = User(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=home)
        self.users.append(user)
        self.groups.append(name)  # the user group; userdel usually removes it already
        user.groups = os.getgrouplist(name, entry.pw_gid)
        home.mkdir(parents=True, exist_ok=True)
        os.chown(home, user.uid, user.gid)
        home.chmod(0o755)
        return user

    def close(self) -> None:
        """Remove the users, then the groups; every step is tried, errors are collected
        and raised together at the end."""
        problems: list[str] = []
        for user in reversed(self.users):
            done = subprocess.run(["userdel", user.name], capture_output=True, text=True, check=False)
            if done.returncode not in (0, 6):  # 6: no such user
                problems.append(f"userdel {user.name}: {done.stderr.strip()}")
        self.users.clear()
        for name in reversed(self.groups):
            try:
                grp.getgrnam(name)
            except KeyError:
                continue
            done = subprocess.run(["groupdel", name], capture_output=True, text=True, check=False)
            if done.returncode not in (0, 6):
                problems.append(f"groupdel {name}: {done.stderr.strip()}")
        self.groups.clear()
        if problems:
            raise RuntimeError("could not remove test accounts: " + "; ".join(problems))
