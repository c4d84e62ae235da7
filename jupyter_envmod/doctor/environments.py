"""Checks of the environments and what was generated for them: kernels and module
files whose environment is gone (``orphan-kernels``, ``orphan-modules``), environments
left half way by an operation (``interrupted``) and conda environments missing from
conda's ``environments.txt`` (``environments-txt``)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import EnvModError
from .results import OK, PROBLEM, WARNING, FixFailed, Outcome, failed, make_check, reason

if TYPE_CHECKING:
    from ..discovery import Environment
    from .runner import Doctor

_T = TypeVar("_T")


def _run_async(make: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to its end from synchronous code: on a fresh event loop, in a
    helper thread when this thread already runs one."""
    import asyncio
    import concurrent.futures

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


# -- orphans -----------------------------------------------------------------------------------


def orphan_kernels(doctor: Doctor) -> Outcome:
    from .. import kernels

    cid = "orphan-kernels"
    orphans = [k for k in kernels.list_kernels(doctor.envmod) if k.orphan]
    where = kernels.kernel_dir(doctor.envmod)
    if not orphans:
        summary = f"Every kernel written by jupyter envmod in {where} has its environment"
        return make_check(cid, OK, summary, "No kernel in the launcher points at a deleted environment."), None
    details = [f"{k.name} ({k.display_name!r}, {k.dir}): {k.orphan}: {k.env_path}" for k in orphans]
    explanation = (
        "These kernels still appear in JupyterLab's launcher but cannot start: their environment, or its "
        "Python, is gone. Remove them (the fix), or recreate the environment."
    )
    check = make_check(cid, WARNING, f"{len(orphans)} kernel(s) without a usable environment", explanation, details)
    check.fix = "Remove the kernelspec directories " + ", ".join(str(k.dir) for k in orphans)

    def apply(changed: list[str]) -> str:
        errors: list[str] = []
        for info in orphans:
            try:
                kernels.remove_kernel(doctor.envmod, info.name)
            except (OSError, EnvModError) as err:
                errors.append(f"{info.dir}: {reason(err)}")
                continue
            changed.append(str(info.dir))
        return failed(errors, f"Removed {len(changed)} kernel(s).")

    return check, apply


def orphan_modules(doctor: Doctor) -> Outcome:
    from .. import modulefiles

    cid = "orphan-modules"
    orphans = [f for f in modulefiles.list_module_files(doctor.envmod) if f.orphan]
    if not orphans:
        summary = "Every module file written by jupyter envmod has its environment"
        return make_check(cid, OK, summary, "No module file points at a deleted environment."), None
    details = [f"{f.path} ({f.module}, {f.format}): {f.orphan}: {f.env_path}" for f in orphans]
    explanation = (
        "module load (or sourcing the activation script) of these files fails: their environment, or its "
        "Python, is gone. Remove them (the fix), or recreate the environment."
    )
    summary = f"{len(orphans)} module file(s) without a usable environment"
    check = make_check(cid, WARNING, summary, explanation, details)
    check.fix = "Remove " + ", ".join(str(f.path) for f in orphans)

    def apply(changed: list[str]) -> str:
        removed = modulefiles.remove_module_files(f.path for f in orphans)
        changed += [str(p) for p in removed]
        left = [str(f.path) for f in orphans if f.path.exists()]
        return failed([f"{p}: could not be removed" for p in left], f"Removed {len(removed)} file(s).")

    return check, apply


# -- interrupted -------------------------------------------------------------------------------


def interrupted(doctor: Doctor) -> Outcome:
    from ..discovery import INTERRUPTED

    cid = "interrupted"
    stuck = [e for e in doctor.environments() if e.state == INTERRUPTED]
    if not stuck:
        explanation = "Every environment found is ready, or busy with an operation that still runs."
        return make_check(cid, OK, "No environment has an interrupted operation", explanation), None
    half_made: list[Environment] = []
    details: list[str] = []
    for env in stuck:
        op = (env.state_record.operation if env.state_record else None) or {}
        kind = str(op.get("kind") or "create")
        started = op.get("started")
        when = f", started {time.strftime('%Y-%m-%d %H:%M', time.localtime(started))}" if started else ""
        if kind in ("create", "clone"):
            half_made.append(env)
            details.append(f"{env.path}: {kind} interrupted{when}; half made, deleted by the fix")
        else:
            details.append(f"{env.path}: {kind} interrupted{when}; run: jupyter envmod retry -p {env.path}")
    changes = len(stuck) - len(half_made)
    explanation = (
        "An operation on these environments stopped half way (the server or the command was stopped). "
        "A half-made new environment is of no use: the fix deletes it, with its kernel and module files. "
        "An interrupted change to an existing environment is not deleted: "
        "run `jupyter envmod retry -p PATH` to finish it (or delete the environment yourself)."
    )
    parts = []
    if half_made:
        parts.append(f"{len(half_made)} half-made environment(s)")
    if changes:
        parts.append(f"{changes} environment(s) with an interrupted change")
    check = make_check(cid, PROBLEM, " and ".join(parts), explanation, details)
    if not half_made:
        return check, None
    check.fix = (
        "Delete the half-made environment(s) "
        + ", ".join(e.path for e in half_made)
        + " with their kernels and module files"
    )

    def apply(changed: list[str]) -> str:
        errors: list[str] = []
        deleted = []
        for env in half_made:
            try:
                changed += _delete_environment(doctor, env)
            except Exception as err:
                errors.append(f"{env.path}: {reason(err)}")
                continue
            deleted.append(env.path)
        return failed(errors, f"Deleted {', '.join(deleted)}." if deleted else "")

    return check, apply


def _delete_environment(doctor: Doctor, env: Environment) -> list[str]:
    """Delete through the operations layer (its checks, its lock, generated files
    removed too); the paths removed."""
    from ..operations import Environments
    from ..tasks import SUCCEEDED, Task

    async def delete() -> Task:
        task = Environments(doctor.envmod).delete(env)
        return await task.wait()

    task = _run_async(delete)
    if task.state != SUCCEEDED:
        raise FixFailed(str((task.error or {}).get("message") or f"delete {task.state}"))
    return [str(p) for p in (task.result or {}).get("removed", [])]


# -- environments-txt --------------------------------------------------------------------------


def environments_txt(doctor: Doctor) -> Outcome:
    from .. import discovery

    cid = "environments-txt"
    txt = discovery.environments_txt()
    roots = {str(p) for p in doctor.envmod.expanded("env_dirs")} | {
        str(p) for p in doctor.envmod.expanded("shared_roots")
    }
    registered = {os.path.realpath(p) for p in discovery.registered_prefixes()}
    missing = [
        env
        for env in doctor.environments()
        if env.kind == "conda"
        and env.found_in in roots
        and env.state not in (discovery.BUSY, discovery.INTERRUPTED)
        and os.path.realpath(env.path) not in registered
    ]
    if not missing:
        explanation = "conda env list shows the conda environments made in the environment directories."
        return make_check(cid, OK, f"Every conda environment here is listed in {txt}", explanation), None
    explanation = (
        f"conda finds environments outside its own envs_dirs through {txt}; the ones listed are missing "
        "there, so `conda env list` and tools that ask conda (e.g. nb_conda_kernels) do not show them. "
        "The fix adds them, as conda itself would."
    )
    summary = f"{len(missing)} conda environment(s) missing from {txt}"
    check = make_check(cid, WARNING, summary, explanation, [env.path for env in missing])
    check.fix = f"Add {', '.join(env.path for env in missing)} to {txt}"

    def apply(changed: list[str]) -> str:
        for env in missing:
            discovery.register_conda_prefix(Path(env.path), add=True)
        changed.append(str(txt))
        return f"Added {len(missing)} environment(s) to {txt}."

    return check, apply
