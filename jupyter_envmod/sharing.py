"""Group-shared environments: ownership and permissions in ``EnvMod.shared_roots``,
and who may change an environment.

An environment under one of the shared roots belongs to a group (``EnvMod.shared_group``,
or the group of the shared root directory): its directories are setgid, so what is made
in them inherits the group, and group-writable, so co-maintainers (the members of
that group) can install, update and remove packages. Everyone else gets read-only use:
they can load its module and run its kernel, and adopt it (``jupyter envmod kernel -p
PATH`` / ``module -p PATH`` write into their own kernel and module directories), but
package operations are refused with a message that says who can change it.

Mechanism: :func:`prepare_prefix` gives a new environment's directory the group,
setgid and group-write before anything is written in it; after every operation that
wrote into the prefix, :func:`fix_permissions` walks it once and brings each entry
this user owns to the shared mode (group bits = user bits, other bits = user bits
without write, masked by ``EnvMod.shared_umask``). The umask is *not* applied to
the engines' child processes (rattler's worker, conda, uv): files they create get
the user's own umask first and are corrected by that pass, which also covers what
a co-maintainer with a stricter umask leaves behind.

Files that have more than one hard link are the engines' package caches seen
through the environment (rattler and conda hard-link package files from the cache
when both are on one filesystem): they get the group and group *read*, never group
write, so a co-maintainer cannot change the bytes of a file in the owner's private
cache (and so in the owner's other environments). Package operations do not need it:
they replace files, which takes write access to the directory only.

Standard library only; no subprocess.
"""

from __future__ import annotations

import errno
import glob
import grp
import os
import pwd
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, NotFound, NotPermitted

if TYPE_CHECKING:
    from .config import EnvMod

#: at most this many group members are named in messages
FEW_MEMBERS = 6


# -- where and which group ---------------------------------------------------------


def shared_root_of(envmod: EnvMod, path: Path) -> Path | None:
    """The entry of ``envmod.expanded("shared_roots")`` (real paths compared) that
    contains ``path`` (strictly inside it), else None."""
    real = os.path.realpath(path)
    for root in envmod.expanded("shared_roots"):
        root_real = os.path.realpath(root)
        if real != root_real and real.startswith(root_real.rstrip("/") + "/"):
            return Path(root)
    return None


def shared_gid(envmod: EnvMod, root: Path) -> int:
    """gid of ``EnvMod.shared_group``, or when empty the group of the shared root
    directory itself."""
    if envmod.shared_group:
        try:
            return grp.getgrnam(envmod.shared_group).gr_gid
        except KeyError:
            raise ConfigError(
                [
                    {
                        "trait": "shared_group",
                        "value": envmod.shared_group,
                        "problem": "no such group on this machine (see 'getent group')",
                    }
                ]
            ) from None
    return os.stat(root).st_gid


def _group_name(gid: int) -> str | None:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return None


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


# -- permissions ---------------------------------------------------------------------


def _shared_mode(mode: int, umask: int, *, directory: bool, linked: bool) -> int:
    """The permission bits an entry with ``mode`` gets in a shared tree."""
    user = (mode >> 6) & 0o7
    group = user & ~0o2 if linked else user
    perms = ((user << 6) | (group << 3) | (user & ~0o2)) & ~umask & 0o777
    if directory:
        return perms | stat.S_ISGID | (mode & stat.S_ISVTX)
    return perms


def _fix_entry(path: str, st: os.stat_result, gid: int, umask: int, uid: int) -> bool:
    """Bring one entry (not a symlink) this user owns to the shared group and mode;
    whether anything changed. Entries of other users are left alone."""
    if st.st_uid != uid:
        return False
    directory = stat.S_ISDIR(st.st_mode)
    linked = not directory and st.st_nlink > 1
    wanted = _shared_mode(st.st_mode, umask, directory=directory, linked=linked)
    changed = False
    if st.st_gid != gid:
        try:
            os.chown(path, -1, gid)
            changed = True
        except PermissionError:  # not a member of the group; the mode is still fixed
            pass
    # chown by a non-root user clears setgid on files and may on directories: compare afresh
    current = os.lstat(path).st_mode if changed else st.st_mode
    if stat.S_IMODE(current) != wanted:
        try:
            os.chmod(path, wanted)
            changed = True
        except PermissionError:
            pass
    return changed


def prepare_prefix(envmod: EnvMod, prefix: Path) -> None:
    """Called right after a new environment's directory is made (create, clone),
    before anything is written in it. No-op outside shared roots. Gives the prefix
    (and directories this user made between the shared root and it) the shared group,
    setgid and group-writable mode, so files made during the operation inherit the
    group. Raises :class:`NotPermitted` when the user is not in the shared group."""
    root = shared_root_of(envmod, prefix)
    if root is None:
        return
    gid = shared_gid(envmod, root)
    uid = os.geteuid()
    umask = envmod.shared_umask
    root_real = Path(os.path.realpath(root))
    real = Path(os.path.realpath(prefix))
    between = [p for p in reversed(real.parents) if root_real in p.parents]
    for directory in [*between, real]:
        st = os.lstat(directory)
        if st.st_uid != uid:
            continue
        if st.st_gid != gid:
            try:
                os.chown(directory, -1, gid)
            except PermissionError:
                group = _group_name(gid) or str(gid)
                raise NotPermitted(
                    f"You cannot create an environment in {root}: its environments belong to group {group}, "
                    "and you are not a member of it. Ask the group's administrator to add you (then log in "
                    "again), or create the environment in your own environment directory.",
                    details={"field": "path", "path": str(prefix), "group": group, "shared_root": str(root)},
                ) from None
        os.chmod(directory, _shared_mode(0o777, umask, directory=True, linked=False))


def fix_permissions(envmod: EnvMod, prefix: Path) -> int:
    """Called after every operation that wrote into the prefix. No-op (returns 0)
    outside shared roots. One pass over the prefix (symlinks neither followed nor
    changed): every file and directory this user owns gets the shared group; group
    bits = user bits (without write for files with several hard links, see the
    module docstring), other bits = user bits without write, masked by
    ``~EnvMod.shared_umask``; directories also get setgid. Entries owned by another
    user (a co-maintainer's) are skipped. Returns how many entries it changed."""
    root = shared_root_of(envmod, prefix)
    if root is None:
        return 0
    gid = shared_gid(envmod, root)
    uid = os.geteuid()
    umask = envmod.shared_umask
    top = os.path.realpath(prefix)
    try:
        changed = int(_fix_entry(top, os.lstat(top), gid, umask, uid))
    except FileNotFoundError:
        return 0  # a failed create removed it
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            it = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue  # removed meanwhile, or a co-maintainer's private directory
        with it:
            for entry in it:
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    continue
                try:
                    changed += _fix_entry(entry.path, st, gid, umask, uid)
                except FileNotFoundError:
                    continue
                if stat.S_ISDIR(st.st_mode):
                    stack.append(entry.path)
    return changed


# -- who can change it ---------------------------------------------------------------


def _package_dirs(prefix: Path) -> list[Path]:
    """The directories a package operation writes besides the prefix itself."""
    dirs = [prefix / name for name in ("conda-meta", ".envmod") if (prefix / name).is_dir()]
    dirs += [Path(p) for p in sorted(glob.glob(str(prefix / "lib" / "python*" / "site-packages")))]
    return dirs


def can_change(prefix: Path) -> bool:
    """This user can change the environment: write access to the prefix and to its
    package directories (conda-meta/, the site-packages directory, .envmod/ and its
    lock file when they exist)."""
    access = os.W_OK | os.X_OK
    if not os.access(prefix, access):
        return False
    if not all(os.access(d, access) for d in _package_dirs(prefix)):
        return False
    lock = prefix / ".envmod" / "lock"
    return not lock.exists() or os.access(lock, os.W_OK)


def _group_writable(st: os.stat_result) -> bool:
    return bool(st.st_mode & stat.S_IWGRP)


def _members(gid: int) -> list[str]:
    try:
        return sorted(grp.getgrgid(gid).gr_mem)
    except KeyError:
        return []


def who_can_change(prefix: Path) -> str:
    """A sentence naming who can change the environment: its owner and, when the tree
    is group-writable, the members of its group (listed when there are few)."""
    try:
        st = os.stat(prefix)
    except OSError:
        return "Its owner could not be determined."
    owner = _user_name(st.st_uid)
    if not _group_writable(st):
        return f"Only its owner, {owner}, can change it."
    group = _group_name(st.st_gid) or f"gid {st.st_gid}"
    members = [m for m in _members(st.st_gid) if m != owner]
    if not members:
        who = f"members of group {group}"
    elif len(members) <= FEW_MEMBERS:
        who = f"members of group {group} ({', '.join(members)})"
    else:
        who = f"the {len(members)} members of group {group}"
    return f"It belongs to {owner}; {who} can change it too."


def check_can_change(envmod: EnvMod, prefix: Path, what: str) -> None:
    """Raise :class:`NotPermitted` when this user cannot change the environment
    (``what``: e.g. "install packages in"), saying who can and how to use it
    anyway."""
    if can_change(prefix):
        return
    owner: str | None = None
    group: str | None = None
    try:
        st = os.stat(prefix)
    except OSError:
        pass
    else:
        owner = _user_name(st.st_uid)
        if _group_writable(st):
            group = _group_name(st.st_gid) or str(st.st_gid)
    root = shared_root_of(envmod, prefix)
    where = f" (a shared environment in {root})" if root is not None else ""
    raise NotPermitted(
        f"You cannot {what} {prefix}{where}: {who_can_change(prefix)} To use it as it is, adopt it: "
        f"`jupyter envmod kernel -p {prefix}` writes a Jupyter kernel and `jupyter envmod module -p {prefix}` "
        "module files into your own directories. To change a copy, clone it: "
        f"`jupyter envmod clone -p {prefix} --to-name NAME`.",
        details={"field": "path", "path": str(prefix), "owner": owner, "group": group},
    )


def readable_by_others(path: Path) -> bool:
    """Other users can reach ``path``: every directory from / down to it is o+x, and
    it is o+r (a directory also o+x)."""
    real = Path(os.path.realpath(path))
    try:
        for directory in reversed(real.parents):
            if not os.stat(directory).st_mode & stat.S_IXOTH:
                return False
        mode = os.stat(real).st_mode
    except OSError:
        return False
    needed = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(mode) else 0)
    return mode & needed == needed


def sharing_info(envmod: EnvMod, prefix: Path) -> dict[str, Any]:
    """How the environment is shared, for the share command: its shared root, group,
    owner, whether the group can write it and everyone else read it, and whether
    this user can change it."""
    root = shared_root_of(envmod, prefix)
    try:
        st = os.stat(prefix)
    except OSError as err:
        if err.errno in (errno.ENOENT, errno.ENOTDIR):
            raise NotFound(f"{prefix} does not exist.", details={"field": "path", "path": str(prefix)}) from None
        raise
    return {
        "shared_root": str(root) if root is not None else None,
        "group": _group_name(st.st_gid),
        "owner": _user_name(st.st_uid),
        "group_writable": _group_writable(st),
        "readable_by_others": readable_by_others(prefix),
        "can_change": can_change(prefix),
    }
