"""Operations on environments: create, change packages, clone, delete, retry — each
validated completely before anything is written and then run as a task — plus the
read-only ones (list, describe, packages, export).

One instance per server or CLI run (``EnvModManager.environments``). Every
operation that changes disk takes the environment's lock, records itself in the
state file, and on failure or cancel leaves the environment as it was (package
operations roll back to the snapshot taken before) or removed (create).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from . import discovery, history, modsys, sharing
from .discovery import Environment
from .engines import get_engine
from .engines.base import CondaEngine, Engine
from .errors import InvalidInput, NotFound, Unsatisfiable
from .history import Revision, Snapshot
from .models import Change, ChangeRequest, Package, Plan
from .outputs import OutputOptions, Outputs, writable
from .specs import (
    EnvSpec,
    ExplicitEntry,
    check_channel,
    check_conda_spec,
    check_pip_requirement,
    check_python_version,
    render_environment_yml,
    render_explicit,
    render_requirements,
)
from .state import EnvLock, EnvState, lock_free, operation_alive, operation_record, read_state, write_state
from .tasks import Task, TaskManager

if TYPE_CHECKING:
    from .config import EnvMod
    from .engines.pip import UvPip

EXPORT_FORMATS = ("yml", "history", "requirements", "explicit")


@dataclass
class CreateOptions:
    """A create request as it arrives from the CLI or REST (not yet validated)."""

    name: str | None = None
    path: str | None = None
    engine: str | None = None
    python: str | None = None
    packages: list[str] = field(default_factory=list)
    pip_packages: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    spec: EnvSpec | None = None
    dry_run: bool = False
    #: kernel and module files to write once the packages are in
    outputs: OutputOptions = field(default_factory=OutputOptions)


@dataclass
class CreatePlan:
    """A create request after validation: everything the task needs."""

    prefix: Path
    name: str
    engine: str
    python: str
    packages: list[str]
    pip_packages: list[str]
    channels: list[str]
    explicit: list[ExplicitEntry]
    variables: dict[str, str]
    dry_run: bool
    outputs: OutputOptions = field(default_factory=OutputOptions)
    #: module dependencies recorded for the environment, and where they were found
    module_deps: list[str] = field(default_factory=list)
    modulepath: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.prefix),
            "name": self.name,
            "engine": self.engine,
            "python": self.python,
            "packages": self.packages,
            "pip_packages": self.pip_packages,
            "channels": self.channels,
            "explicit": [e.to_line() for e in self.explicit],
            "variables": self.variables,
            "kernel": {"create": self.outputs.kernel, "display_name": self.outputs.display_name},
            "module": {
                "create": self.outputs.module,
                "formats": self.outputs.formats,
                "module_dir": self.outputs.module_dir,
                "module_app": self.outputs.module_app,
            },
            "module_deps": self.module_deps,
            "modulepath": self.modulepath,
        }


def _spec_name(spec: str) -> str:
    """The package name of an (already validated) PEP 508 requirement or conda
    MatchSpec, normalised so that both spellings of a name compare equal."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:  # conda syntax such as numpy=1.26=py311_0
        import rattler

        return str(rattler.MatchSpec(spec).name.normalized)


def _names(specs: list[str]) -> set[str]:
    return {_spec_name(s) for s in specs}


class Environments:
    def __init__(self, envmod: EnvMod, tasks: TaskManager | None = None, outputs: Outputs | None = None):
        self.envmod = envmod
        self.tasks = tasks or TaskManager()
        self.outputs = outputs or Outputs(envmod)

    # -- helpers ---------------------------------------------------------------------
    def engine(self, name: str) -> Engine:
        return get_engine(name, self.envmod)

    def uvpip(self) -> UvPip:
        from .engines.pip import UvPip

        return UvPip(self.envmod)

    # -- reading -----------------------------------------------------------------------
    def all(self) -> list[Environment]:
        """Every environment discovery finds, then the adopted ones: environments
        outside the searched places that a kernel or module file of ours points at."""
        found = discovery.list_environments(self.envmod)
        seen = {env.id for env in found}
        for path in self._referenced_paths():
            env_id = discovery.env_id(os.path.realpath(path))
            if env_id not in seen:
                env = discovery.inspect(path, "adopted", self.envmod)
                if env is not None:
                    seen.add(env_id)
                    found.append(env)
        return found

    def _referenced_paths(self) -> list[str]:
        from . import kernels, modulefiles

        paths = [k.env_path for k in kernels.list_kernels(self.envmod) if k.env_path]
        paths += [f.env_path for f in modulefiles.list_module_files(self.envmod)]
        return list(dict.fromkeys(paths))

    def find(self, *, name: str | None = None, path: str | None = None, env_id: str | None = None) -> Environment:
        if env_id is not None:
            for env in self.all():
                if env.id == env_id:
                    return env
            raise NotFound(f"No environment with id {env_id!r}.", details={"field": "id", "id": env_id})
        return discovery.find(self.envmod, name=name, path=path)

    def details(self, env: Environment) -> dict[str, Any]:
        """:meth:`describe` plus what exists for it on disk now: kernels, module files
        and the lines that load them in a terminal or batch job."""
        return {**self.describe(env), **self.outputs.found_for(env.path)}

    def reconcile(self) -> list[Environment]:
        """Mark as ``interrupted`` every environment whose state file records an
        operation that no process runs any more (the server or CLI that ran it
        stopped): its process is gone, or — its pid having been reused — nothing holds
        the environment's lock. Run once when the server starts. Returns them."""
        marked: list[Environment] = []
        for env in discovery.list_environments(self.envmod):
            op = env.state_record.operation if env.state_record else None
            if not op or op.get("interrupted"):
                continue
            if operation_alive(op) and not lock_free(env.prefix):
                continue
            state = read_state(env.prefix)
            if state is not None and state.operation and writable(env):
                state.operation["interrupted"] = time.time()
                with contextlib.suppress(OSError):
                    write_state(env.prefix, state)
            fresh = discovery.inspect(env.path, env.found_in, self.envmod)
            marked.append(fresh or env)
        return marked

    def packages(self, env: Environment) -> list[Package]:
        """Conda and pip packages, with the requested flag from the engine's records
        and what the user asked for through this project."""
        state = env.state_record
        asked_conda = _names(state.requested_conda) if state else set()
        asked_pip = _names(state.requested_pip) if state else set()
        result: list[Package] = []
        if env.kind == "conda":
            for pkg in self.engine(env.engine).packages(env.prefix):
                pkg.requested = pkg.requested or pkg.name.lower() in asked_conda
                result.append(pkg)
            pips = self.uvpip().installed(env.prefix)
        elif env.kind == "venv":
            pips = self.uvpip().installed(env.prefix)
        else:
            pips = []
        for pkg in pips:
            pkg.requested = pkg.requested or pkg.name.lower().replace("_", "-") in asked_pip
            result.append(pkg)
        return result

    def describe(self, env: Environment) -> dict[str, Any]:
        data = env.to_json()
        packages = self.packages(env)
        state = env.state_record
        data.update(
            {
                "packages": len(packages),
                "requested": {
                    "conda": state.requested_conda
                    if state
                    else [p.name for p in packages if p.requested and p.source == "conda"],
                    "pip": state.requested_pip
                    if state
                    else [p.name for p in packages if p.requested and p.source == "pypi"],
                },
                "channels": state.channels if state else [],
                "variables": state.variables if state else {},
            }
        )
        return data

    # -- validation --------------------------------------------------------------------
    def validate_create(self, opts: CreateOptions) -> CreatePlan:
        """Check every field; raise InvalidInput naming the first bad one. Writes nothing."""
        spec = opts.spec
        engine = opts.engine or self.envmod.default_engine
        if engine not in ("rattler", "conda", "venv"):
            raise InvalidInput(f"engine {engine!r} is not one of rattler, conda, venv.", details={"field": "engine"})
        if opts.name and opts.path:
            raise InvalidInput("Give a name or a path, not both.", details={"field": "path"})
        name = opts.name or (spec.name if spec and not opts.path else None)
        if opts.path:
            prefix = discovery.resolve_path(opts.path)
        elif name:
            prefix = discovery.path_for_name(self.envmod, name)
        elif spec and spec.prefix:
            prefix = discovery.resolve_path(spec.prefix, field="prefix")
        else:
            raise InvalidInput(
                "Name the new environment (-n NAME) or give its path (-p PATH).", details={"field": "name"}
            )
        field_name = "path" if opts.path else "name"
        discovery.check_allowed(self.envmod, prefix, field=field_name)
        if prefix.exists() and (not prefix.is_dir() or any(prefix.iterdir())):
            raise InvalidInput(
                f"{prefix} already exists. Choose another name or path, or delete that environment first.",
                details={"field": field_name, "path": str(prefix)},
            )
        python = check_python_version(
            opts.python or (spec.python if spec and spec.python else self.envmod.default_python)
        )
        channels = [check_channel(c) for c in (opts.channels or (spec.channels if spec else []))]
        packages = [*opts.packages, *(spec.conda if spec else [])]
        pip_packages = [check_pip_requirement(p) for p in [*opts.pip_packages, *(spec.pip if spec else [])]]
        explicit = list(spec.explicit) if spec else []
        if engine == "venv":
            if explicit:
                raise InvalidInput(
                    f"{spec.source if spec else 'the spec'} lists conda packages (explicit/lock); use a conda engine "
                    "(rattler or conda), not venv.",
                    details={"field": "engine"},
                )
            # conda-style "python=3.11" in an environment.yml sets the version; other conda specs have no meaning here
            others = [p for p in packages if _spec_name(p) != "python"]
            if spec is not None and spec.conda and [p for p in spec.conda if _spec_name(p) != "python"]:
                raise InvalidInput(
                    f"{spec.source} lists conda packages ({', '.join(spec.conda)}); the venv engine installs pip "
                    "packages only. Use a conda engine, or list them under pip:.",
                    details={"field": "engine", "file": spec.source},
                )
            pip_packages = [check_pip_requirement(p, field="packages") for p in others] + pip_packages
            packages = []
        else:
            # a pinned python in the spec file became ``python`` above; drop it from the specs
            pinned = bool(spec and spec.python and not opts.python)
            packages = [check_conda_spec(p) for p in packages if not (pinned and _spec_name(p) == "python")]
        outputs = opts.outputs.validate(self.envmod)
        deps = modsys.module_deps(outputs.module_deps, capture_loaded=outputs.capture_loaded)
        return CreatePlan(
            outputs=outputs,
            module_deps=list(deps.modules),
            modulepath=list(deps.modulepath),
            prefix=prefix,
            name=name or prefix.name,
            engine=engine,
            python=python,
            packages=packages,
            pip_packages=pip_packages,
            channels=channels,
            explicit=explicit,
            variables=dict(spec.variables) if spec else {},
            dry_run=opts.dry_run,
        )

    # -- create ------------------------------------------------------------------------
    def create(self, opts: CreateOptions) -> Task:
        plan = self.validate_create(opts)
        return self.start_create(plan)

    def start_create(self, plan: CreatePlan, *, kind: str = "create") -> Task:
        info = {"path": str(plan.prefix), "name": plan.name, "id": discovery.env_id(os.path.realpath(plan.prefix))}
        task = Task(kind, info)
        if plan.dry_run:
            return self.tasks.start(task, lambda t: self._dry_create(plan, t))
        created_dir = not plan.prefix.exists()
        plan.prefix.mkdir(parents=True, exist_ok=True)
        lock = EnvLock(plan.prefix)
        try:
            sharing.prepare_prefix(self.envmod, plan.prefix)
            lock.acquire(what="create")
        except Exception:
            if created_dir:
                shutil.rmtree(plan.prefix, ignore_errors=True)
            raise
        state = EnvState(
            engine=plan.engine,
            python=plan.python,
            channels=plan.channels,
            variables=plan.variables,
            module_deps=plan.module_deps,
            modulepath=plan.modulepath,
        )
        state.operation = {**operation_record(kind, task.id), "request": plan.to_json()}
        write_state(plan.prefix, state)
        return self.tasks.start(task, lambda t: self._create(plan, state, t, kind=kind), cleanup=lock.release)

    @staticmethod
    def _engine_specs(plan: CreatePlan, engine: Engine) -> list[str]:
        """Conda engines get the conda specs (pip ones follow through uv); venv gets the pip ones."""
        return plan.packages if engine.kind == "conda" else plan.pip_packages

    async def _engine_step(self, plan: CreatePlan, engine: Engine, task: Task, *, dry_run: bool) -> Plan:
        """The engine's part of a create: an explicit package list, or a solve."""
        if plan.explicit:
            if not isinstance(engine, CondaEngine):
                raise InvalidInput("explicit package lists need a conda engine", details={"field": "engine"})
            return await engine.install_explicit(plan.prefix, plan.explicit, task=task, dry_run=dry_run)
        return await engine.create(
            plan.prefix,
            python=plan.python,
            specs=self._engine_specs(plan, engine),
            channels=plan.channels,
            task=task,
            dry_run=dry_run,
        )

    async def _dry_create(self, plan: CreatePlan, task: Task) -> dict[str, Any]:
        engine = self.engine(plan.engine)
        result = await self._engine_step(plan, engine, task, dry_run=True)
        if plan.pip_packages and engine.kind == "conda":
            task.log(f"pip packages to install after the conda step: {', '.join(plan.pip_packages)}")
        return {"dry_run": True, "plan": result.to_json(), "summary": result.summary(), "request": plan.to_json()}

    async def _create(self, plan: CreatePlan, state: EnvState, task: Task, *, kind: str = "create") -> dict[str, Any]:
        engine = self.engine(plan.engine)
        try:
            result = await self._engine_step(plan, engine, task, dry_run=False)
            if plan.pip_packages and engine.kind == "conda":
                task.set_phase("pip")
                result.extend(await self.uvpip().install(plan.prefix / "bin" / "python", plan.pip_packages, task=task))
            task.set_phase("writing files")
            state.requested_conda = list(plan.packages)
            state.requested_pip = list(plan.pip_packages)
            state.operation = None
            write_state(plan.prefix, state)
            if engine.kind == "conda":
                discovery.register_conda_prefix(plan.prefix, add=True)
            fresh = discovery.inspect(str(plan.prefix), "created", self.envmod)
            if fresh is not None:
                history.record(
                    plan.prefix,
                    kind,
                    self._snapshot(fresh),
                    request={"specs": plan.packages, "pip_specs": plan.pip_packages},
                    requested_conda=state.requested_conda,
                    requested_pip=state.requested_pip,
                )
            generated = await self._create_outputs(plan, task)
            await asyncio.to_thread(sharing.fix_permissions, self.envmod, plan.prefix)
        except BaseException:
            task.log(f"removing the unfinished environment {plan.prefix}")
            await asyncio.shield(asyncio.to_thread(self._remove_unfinished, plan.prefix))
            raise
        env = discovery.inspect(str(plan.prefix), "created", self.envmod)
        return {
            "environment": env.to_json() if env else None,
            "plan": result.to_json(),
            "summary": result.summary(),
            **generated,
        }

    async def _create_outputs(self, plan: CreatePlan, task: Task) -> dict[str, Any]:
        """The kernel and module files a create asked for (the environment is finished)."""
        out = plan.outputs
        if not (out.kernel or out.module):
            return {}
        env = self.find(path=str(plan.prefix))
        if out.kernel:
            task.set_phase("installing ipykernel")
            await self._ensure_ipykernel(env, task)
        return await self._write_outputs(env, out, plan.module_deps, plan.modulepath, task)

    async def _write_outputs(
        self, env: Environment, opts: OutputOptions, modules: list[str], modulepath: list[str], task: Task
    ) -> dict[str, Any]:
        """Write the kernel and/or module files ``opts`` asks for (ipykernel is in place)."""
        result: dict[str, Any] = {}
        if opts.kernel:
            task.set_phase("writing the kernelspec")
            info = await asyncio.to_thread(
                self.outputs.write_kernel, env, display_name=opts.display_name, modules=modules, modulepath=modulepath
            )
            task.log(f"kernel {info.name} ({info.display_name!r}) written to {info.dir}")
            result["kernel"] = info.to_json()
        if opts.module:
            task.set_phase("writing the module files")
            result["module"] = await asyncio.to_thread(
                self.outputs.write_modules,
                env,
                formats=opts.formats,
                module_dir=opts.module_dir,
                module_app=opts.module_app,
                modules=modules,
                modulepath=modulepath,
            )
            for path in result["module"]["files"].values():
                task.log(f"wrote {path}")
        return result

    def _remove_unfinished(self, prefix: Path) -> None:
        """A failed create leaves nothing: its generated files and its directory."""
        self.outputs.remove_all_for(str(prefix))
        shutil.rmtree(prefix, ignore_errors=True)

    # -- package changes -----------------------------------------------------------------
    def change(self, env: Environment, request: ChangeRequest, *, dry_run: bool = False) -> Task:
        """Install, update or remove packages (conda or pip) as a task."""
        if request.action not in ("install", "update", "remove", "update-all"):
            raise InvalidInput(
                f"action {request.action!r}: use install, update, update-all or remove", details={"field": "action"}
            )
        if request.action == "update-all" and request.specs:
            raise InvalidInput("update-all takes no package names.", details={"field": "packages"})
        if request.action != "update-all" and not request.specs:
            raise InvalidInput(f"Name at least one package to {request.action}.", details={"field": "packages"})
        manager = request.manager
        if env.kind == "venv":
            manager = "pip"
        if env.kind not in ("conda", "venv"):
            raise InvalidInput(
                f"{env.path} is an unfinished environment ({env.state}); retry or delete it first.",
                details={"field": "path"},
            )
        if manager == "pip":
            specs = [check_pip_requirement(s, field="packages") for s in request.specs]
        else:
            specs = [check_conda_spec(s) for s in request.specs]
        channels = [check_channel(c) for c in request.channels]
        if not dry_run:
            self._check_changeable(env, f"{request.action} packages in")
        request = ChangeRequest(request.action, specs, manager, channels)
        task = Task(request.action, {"path": env.path, "name": env.name, "id": env.id})
        if dry_run:
            return self.tasks.start(task, lambda t: self._change(env, request, t, dry_run=True))
        lock = EnvLock(env.prefix)
        lock.acquire(what=request.action + " packages in")
        try:
            state = read_state(env.prefix) or EnvState(engine=env.engine, python=env.python_version or "")
            state.operation = {
                **operation_record(request.action, task.id),
                "request": {"action": request.action, "specs": specs, "manager": manager, "channels": channels},
            }
            write_state(env.prefix, state)
        except BaseException:
            lock.release()
            raise
        return self.tasks.start(task, lambda t: self._change(env, request, t, state=state), cleanup=lock.release)

    async def _change(
        self,
        env: Environment,
        request: ChangeRequest,
        task: Task,
        *,
        dry_run: bool = False,
        state: EnvState | None = None,
    ) -> dict[str, Any]:
        engine = self.engine(env.engine)
        snapshot = None if dry_run else self._snapshot(env)
        if snapshot is not None and state is not None:
            history.ensure_current(
                env.prefix, snapshot, requested_conda=state.requested_conda, requested_pip=state.requested_pip
            )
        try:
            plan = await self._apply_change(env, engine, request, task, dry_run=dry_run)
        except BaseException:
            if snapshot is not None:
                task.log("putting the environment back as it was before")
                await asyncio.shield(self._rollback(env, engine, snapshot, task))
                if state is not None:
                    state.operation = None
                    write_state(env.prefix, state)
            raise
        result: dict[str, Any] = {"dry_run": dry_run, "plan": plan.to_json(), "summary": plan.summary()}
        if state is not None:
            self._record_request(state, request)
            state.operation = None
            write_state(env.prefix, state)
            revision = history.record(
                env.prefix,
                request.action,
                self._snapshot(env),
                request={"specs": request.specs, "manager": request.manager, "channels": request.channels},
                requested_conda=state.requested_conda,
                requested_pip=state.requested_pip,
            )
            result["revision"] = revision.rev
            await asyncio.to_thread(sharing.fix_permissions, self.envmod, env.prefix)
        return result

    async def _apply_change(
        self, env: Environment, engine: Engine, request: ChangeRequest, task: Task, *, dry_run: bool
    ) -> Plan:
        if request.action == "update-all":
            return await self._update_all(env, engine, request, task, dry_run=dry_run)
        if request.manager == "pip":
            pip = self.uvpip()
            if env.kind == "venv":
                if request.action == "remove":
                    return await engine.remove(env.prefix, request.specs, task=task, dry_run=dry_run)
                return await engine.install(
                    env.prefix,
                    request.specs,
                    channels=[],
                    task=task,
                    update=request.action == "update",
                    dry_run=dry_run,
                )
            if request.action == "remove":
                return await pip.uninstall(env.python, request.specs, task=task, dry_run=dry_run)
            return await pip.install(
                env.python, request.specs, task=task, upgrade=request.action == "update", dry_run=dry_run
            )
        if request.action == "remove":
            return await engine.remove(env.prefix, [_spec_name(s) for s in request.specs], task=task, dry_run=dry_run)
        return await engine.install(
            env.prefix,
            request.specs,
            channels=request.channels or (env.state_record.channels if env.state_record else []),
            task=task,
            update=request.action == "update",
            dry_run=dry_run,
        )

    async def _update_all(
        self, env: Environment, engine: Engine, request: ChangeRequest, task: Task, *, dry_run: bool
    ) -> Plan:
        """Every package to the newest version the solver accepts: the conda step
        (conda environments), then the pip packages, as one change."""
        state = env.state_record
        asked_pip = list(state.requested_pip) if state else []
        if env.kind == "venv":
            return await engine.update_all(env.prefix, channels=[], task=task, dry_run=dry_run, requested=asked_pip)
        channels = request.channels or (state.channels if state else [])
        task.set_phase("conda packages")
        plan = await engine.update_all(env.prefix, channels=channels, task=task, dry_run=dry_run)
        if self.uvpip().installed(env.prefix):
            task.set_phase("pip packages")
            plan.extend(await self.uvpip().update_all(env.python, asked_pip, task=task, dry_run=dry_run))
        return plan

    def _record_request(self, state: EnvState, request: ChangeRequest) -> None:
        if request.action == "update-all":
            return
        current = state.requested_pip if request.manager == "pip" else state.requested_conda
        names = _names(request.specs)
        kept = [s for s in current if _spec_name(s) not in names]
        if request.action == "install":
            kept += request.specs
        elif request.action == "update":
            kept += [s for s in current if _spec_name(s) in names]
        if request.manager == "pip":
            state.requested_pip = kept
        else:
            state.requested_conda = kept

    def _snapshot(self, env: Environment) -> Snapshot:
        """The exact packages now: conda records (URL, checksums, requested specs) and pip pins."""
        conda: list[dict[str, Any]] = []
        if env.kind == "conda":
            from .engines.condameta import channel_label, read_records

            for r in read_records(env.prefix):
                asked = [s for s in [*(r.get("requested_specs") or []), r.get("requested_spec")] if s and s != "None"]
                conda.append(
                    {
                        "name": str(r["name"]),
                        "version": str(r["version"]),
                        "build": str(r.get("build", "")),
                        "channel": channel_label(r),
                        "url": str(r.get("url") or ""),
                        "sha256": str(r.get("sha256") or ""),
                        "md5": str(r.get("md5") or ""),
                        "requested": [str(s) for s in asked],
                    }
                )
        return Snapshot(conda=conda, pip=self.uvpip().snapshot(env.prefix))

    async def _apply_snapshot(self, env: Environment, engine: Engine, snap: Snapshot, task: Task) -> None:
        """Make the environment hold exactly the packages of ``snap``."""
        if isinstance(engine, CondaEngine) and env.kind == "conda":
            entries = [ExplicitEntry(r["url"], r.get("sha256") or None, r.get("md5") or None) for r in snap.conda]
            requested = [s for r in snap.conda for s in r.get("requested", [])]
            await engine.install_explicit(env.prefix, entries, task=task, requested=requested or None)
        pins = sorted(p["pin"] for p in snap.pip)
        if env.kind == "venv" or pins != self.uvpip().freeze(env.prefix):
            asked = [p["name"] for p in snap.pip if p.get("requested")]
            await self.uvpip().sync(env.python, pins, task=task, requested=asked)

    async def _rollback(self, env: Environment, engine: Engine, snapshot: Snapshot, task: Task) -> None:
        try:
            task.set_phase("rolling back")
            await self._apply_snapshot(env, engine, snapshot, task)
        except Exception as err:  # the original error matters more; say the rollback failed too
            task.log(f"could not restore the previous packages: {err}")
        await asyncio.to_thread(sharing.fix_permissions, self.envmod, env.prefix)

    def _check_changeable(self, env: Environment, what: str) -> None:
        """Refuse, before anything runs, a change outside allowed_roots or of an
        environment this user cannot write (saying who can)."""
        discovery.check_allowed(self.envmod, env.prefix)
        sharing.check_can_change(self.envmod, env.prefix, what)

    # -- revisions -------------------------------------------------------------------------
    def history(self, env: Environment) -> list[Revision]:
        """The environment's revisions, oldest first (file reads only)."""
        return history.revisions(env.prefix)

    def restore(self, env: Environment, rev: int, *, dry_run: bool = False) -> Task:
        """Return the environment to revision ``rev``'s exact packages (conda: those
        package files; pip: those pins), as a task; the result is a new revision."""
        if env.kind not in ("conda", "venv"):
            raise InvalidInput(f"{env.path} is not a finished environment ({env.state}).", details={"field": "path"})
        target = history.get(env.prefix, rev)
        if not dry_run:
            self._check_changeable(env, "restore")
        task = Task("restore", {"path": env.path, "name": env.name, "id": env.id, "revision": rev})
        if dry_run:

            async def preview(t: Task) -> dict[str, Any]:
                plan = _plan_between(self._snapshot(env), target.snapshot)
                t.log(f"restoring revision {rev} would change: {plan.summary()}")
                return {"dry_run": True, "revision": rev, "plan": plan.to_json(), "summary": plan.summary()}

            return self.tasks.start(task, preview)
        lock = EnvLock(env.prefix)
        lock.acquire(what="restore")
        try:
            state = read_state(env.prefix) or EnvState(engine=env.engine, python=env.python_version or "")
            state.operation = {**operation_record("restore", task.id), "request": {"revision": rev}}
            write_state(env.prefix, state)
        except BaseException:
            lock.release()
            raise
        return self.tasks.start(task, lambda t: self._restore(env, target, state, t), cleanup=lock.release)

    async def _restore(self, env: Environment, target: Revision, state: EnvState, task: Task) -> dict[str, Any]:
        engine = self.engine(env.engine)
        before = self._snapshot(env)
        history.ensure_current(
            env.prefix, before, requested_conda=state.requested_conda, requested_pip=state.requested_pip
        )
        task.set_phase(f"restoring revision {target.rev}")
        try:
            await self._apply_snapshot(env, engine, target.snapshot, task)
        except BaseException:
            task.log("putting the environment back as it was before")
            await asyncio.shield(self._rollback(env, engine, before, task))
            state.operation = None
            write_state(env.prefix, state)
            raise
        state.requested_conda = list(target.requested_conda)
        state.requested_pip = list(target.requested_pip)
        state.operation = None
        write_state(env.prefix, state)
        after = self._snapshot(env)
        revision = history.record(
            env.prefix,
            "restore",
            after,
            request={"revision": target.rev},
            requested_conda=state.requested_conda,
            requested_pip=state.requested_pip,
        )
        await asyncio.to_thread(sharing.fix_permissions, self.envmod, env.prefix)
        plan = _plan_between(before, after)
        return {"revision": revision.rev, "restored": target.rev, "plan": plan.to_json(), "summary": plan.summary()}

    # -- updates ---------------------------------------------------------------------------
    def outdated(self, env: Environment) -> Task:
        """Which packages have newer versions in the channels / index, and which of
        those an update-all would install (the solver's dry run), as a read-only task."""
        if env.kind not in ("conda", "venv"):
            raise InvalidInput(f"{env.path} is not a finished environment ({env.state}).", details={"field": "path"})
        task = Task("outdated", {"path": env.path, "name": env.name, "id": env.id})
        return self.tasks.start(task, lambda t: self._outdated(env, t))

    async def _outdated(self, env: Environment, task: Task) -> dict[str, Any]:
        from packaging.version import InvalidVersion, Version

        engine = self.engine(env.engine)
        state = env.state_record
        installed = {(p.source, p.name.lower()): p for p in self.packages(env)}
        task.set_phase("solving")
        plan = await self._update_all(env, engine, ChangeRequest("update-all", []), task, dry_run=True)
        update = {(c.source, c.name.lower()): c.new for c in plan.changes}
        task.set_phase("looking for newer versions")
        newest: dict[tuple[str, str], str] = {}
        if env.kind == "conda":
            names = [name for source, name in installed if source == "conda"]
            channels = state.channels if state else []
            found = await engine.newest(names, channels=channels)
            newest.update({("conda", n.lower()): v for n, v in found.items()})
        if any(source == "pypi" for source, _ in installed):
            found = await self.uvpip().newest(env.python, task=task)
            newest.update({("pypi", n.lower()): v for n, v in found.items()})

        def newer(candidate: str | None, current: str) -> bool:
            if not candidate:
                return False
            try:
                return Version(candidate.split()[0].split("=")[0]) > Version(current)
            except InvalidVersion:
                return candidate.split()[0] != current

        rows = []
        for key, pkg in sorted(installed.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            latest = newest.get(key)
            moves_to = update.get(key)
            if newer(latest, pkg.version) or moves_to is not None:
                rows.append(
                    {
                        "name": pkg.name,
                        "source": pkg.source,
                        "installed": pkg.version,
                        "latest": latest or (moves_to.split()[0] if moves_to else None),
                        "update": moves_to.split()[0] if moves_to else None,
                        "requested": pkg.requested,
                    }
                )
        held = [str(r["name"]) for r in rows if r["update"] is None]
        task.log(f"{len(rows)} packages have newer versions; update-all would change {len(plan.changes)}")
        if held:
            task.log("held back by what was asked for or by dependencies: " + ", ".join(held))
        return {"outdated": rows, "plan": plan.to_json(), "summary": plan.summary()}

    # -- sharing -----------------------------------------------------------------------------
    def share(self, env: Environment) -> dict[str, Any]:
        """What a colleague needs: the spec to recreate the environment (history
        format), and — when they can reach the path — the commands to use it as it is."""
        if env.kind not in ("conda", "venv"):
            raise InvalidInput(f"{env.path} is not a finished environment ({env.state}).", details={"field": "path"})
        filename, text = self.export(env, "history")
        info = sharing.sharing_info(self.envmod, env.prefix)
        found = self.outputs.found_for(env.path)
        use: list[str] = []
        notes: list[str] = []
        if info["readable_by_others"]:
            use.append(f"jupyter envmod kernel -p {_quote(env.path)}")
            use.append(f"jupyter envmod module -p {_quote(env.path)}")
            # the owner's module files, when others can read them: one line to load them
            loadable = [Path(m["path"]) for m in found["module_files"] if m.get("format") in ("lua", "tcl")]
            lines = [u for u in found["usage"] if u.startswith(("module use ", "module load "))]
            # the module system lists module_dir and its app directory, then reads the file
            readable = all(sharing.readable_by_others(p) for f in loadable for p in (f, f.parent, f.parent.parent))
            if len(lines) == 2 and loadable and readable:
                use.append("; ".join(lines))
        else:
            notes.append(
                f"{env.path} is not readable by other users, so colleagues cannot use it as it is: "
                "send them the spec to recreate it."
            )
        if info["shared_root"] and info["group"]:
            notes.append(
                f"Members of group {info['group']} can change it; everyone else who can read it can use it as it is."
            )
        return {
            "environment": env.to_json(),
            "spec": {"filename": filename, "text": text},
            "recreate": [f"jupyter envmod create -n {_quote(env.name)} -f {filename}"],
            "use": use,
            "notes": notes,
            "sharing": info,
        }

    # -- clone ---------------------------------------------------------------------------
    def clone(self, source: Environment, *, to_name: str | None = None, to_path: str | None = None) -> Task:
        """A new environment with the same packages (conda: the same package files;
        venv: the same pinned versions)."""
        if source.kind not in ("conda", "venv"):
            raise InvalidInput(f"{source.path} is not a finished environment.", details={"field": "source"})
        engine = self.engine(source.engine)
        pins = self.uvpip().freeze(source.prefix)
        state = source.state_record
        if isinstance(engine, CondaEngine):
            entries = engine.explicit(source.prefix)
            spec = EnvSpec(format="explicit", source=source.path, explicit=entries, pip=pins)
            opts = CreateOptions(name=to_name, path=to_path, engine=source.engine, spec=spec)
        else:
            opts = CreateOptions(
                name=to_name, path=to_path, engine="venv", python=source.python_version, pip_packages=pins
            )
        plan = self.validate_create(opts)
        plan.name = to_name or plan.prefix.name
        if state is not None:
            plan.channels = list(state.channels)
            plan.variables = dict(state.variables)
        return self.start_create(plan, kind="clone")

    # -- kernels and module files -----------------------------------------------------------
    def _usable(self, env: Environment, what: str) -> None:
        if env.kind not in ("conda", "venv") or env.state not in (discovery.READY, discovery.BUSY):
            raise InvalidInput(
                f"{env.path} is not a finished environment ({env.state}); cannot write {what} for it.",
                details={"field": "path"},
            )
        if not env.python.exists():
            raise InvalidInput(f"{env.path} has no bin/python; cannot write {what} for it.", details={"field": "path"})

    def kernel(self, env: Environment, opts: OutputOptions | None = None) -> Task:
        """Install ipykernel when missing and write (or rewrite) the environment's
        kernelspec, as a task. Works for environments the user cannot write when they
        already have ipykernel (adopt): nothing in them is touched then."""
        opts = (opts or OutputOptions()).validate(self.envmod)
        opts.kernel, opts.module = True, False
        return self._outputs_task(env, opts, kind="kernel")

    def adopt(self, path: str, opts: OutputOptions) -> Task:
        """Take an existing environment (made by conda, python -m venv, a colleague…)
        into use: write its kernel and/or module files, as a task. A conda
        environment outside the searched places is registered in
        ~/.conda/environments.txt, as conda does; any adopted environment is listed
        through the files written for it."""
        opts = opts.validate(self.envmod)
        if not (opts.kernel or opts.module):
            raise InvalidInput(
                "Adopting writes a Jupyter kernel, module files or both: ask for at least one.",
                details={"field": "kernel"},
            )
        env = self.find(path=path)
        task = self._outputs_task(env, opts, kind="adopt")
        if env.kind == "conda" and env.found_in == "path" and not self._in_roots(env):
            discovery.register_conda_prefix(env.prefix, add=True)
        return task

    def module_task(self, env: Environment, opts: OutputOptions | None = None) -> Task:
        """:meth:`module` as a task (for the REST API, where every write is one)."""
        opts = (opts or OutputOptions()).validate(self.envmod)
        opts.kernel, opts.module = False, True
        return self._outputs_task(env, opts, kind="module")

    def remove_outputs(self, env: Environment, what: Literal["kernel", "module"]) -> Task:
        """Remove the environment's kernels or module files, as a (quick) task whose
        result lists what was removed."""
        task = Task(f"remove-{what}", {"path": env.path, "name": env.name, "id": env.id})
        lock: EnvLock | None = None
        if env.managed and writable(env):
            lock = EnvLock(env.prefix)
            lock.acquire(what=f"remove the {'kernel' if what == 'kernel' else 'module files'} of")
        remove = self.remove_kernel if what == "kernel" else self.remove_module

        async def run(t: Task) -> dict[str, Any]:
            removed = await asyncio.to_thread(remove, env)
            for path in removed:
                t.log(f"removed {path}")
            return {"removed": removed}

        return self.tasks.start(task, run, cleanup=lock.release if lock else None)

    def _in_roots(self, env: Environment) -> bool:
        return any(Path(env.path).parent == root for root in discovery.search_roots(self.envmod))

    def _outputs_task(self, env: Environment, opts: OutputOptions, *, kind: str) -> Task:
        """The task that writes what ``opts`` asks for: the kernel (installing
        ipykernel first when missing) and/or the module files."""
        self._usable(env, "a kernel" if opts.kernel else "module files")
        modules, modulepath = self.outputs.deps_for(env, opts)
        needs_install = opts.kernel and not has_ipykernel(env.prefix)
        own = writable(env)
        if needs_install and not own:
            raise InvalidInput(
                f"ipykernel is not installed in {env.path}, and you cannot change that environment "
                f"(owner: {_owner(env.prefix)}). Ask its owner to install ipykernel, then run this again.",
                details={"field": "path", "path": env.path},
            )
        if needs_install:
            try:
                discovery.check_allowed(self.envmod, env.prefix)
            except InvalidInput as err:
                raise InvalidInput(
                    f"ipykernel is not installed in {env.path}, which is outside the directories where "
                    "environments may be changed. Install ipykernel in it yourself, then run this again.",
                    details={**err.details, "path": env.path},
                ) from None
        task = Task(kind, {"path": env.path, "name": env.name, "id": env.id})
        lock: EnvLock | None = None
        if own and env.managed:
            lock = EnvLock(env.prefix)
            lock.acquire(what=f"write the {'kernel' if opts.kernel else 'module files'} of")

        async def run(t: Task) -> dict[str, Any]:
            if needs_install:
                t.set_phase("installing ipykernel")
                await self._ensure_ipykernel(env, t)
            self.outputs.record_deps(env, modules, modulepath)
            fresh = self.find(path=env.path) if env.managed else env
            return await self._write_outputs(fresh, opts, modules, modulepath, t)

        return self.tasks.start(task, run, cleanup=lock.release if lock else None)

    async def _ensure_ipykernel(self, env: Environment, task: Task) -> None:
        """ipykernel into the environment: a conda package when the channels have it,
        else from the pip index with uv. Recorded as asked for by the user."""
        if has_ipykernel(env.prefix):
            task.log("ipykernel is already installed")
            return
        engine = self.engine(env.engine)
        state = read_state(env.prefix)
        manager: Literal["conda", "pip"] = "pip"
        if env.kind == "conda":
            channels = state.channels if state else []
            try:
                task.log("installing ipykernel from the conda channels")
                await engine.install(env.prefix, ["ipykernel"], channels=channels, task=task)
                manager = "conda"
            except Unsatisfiable as err:
                task.log(f"the conda channels do not offer ipykernel ({err.message.splitlines()[0]}); using pip")
        if manager == "pip":
            task.log("installing ipykernel with uv pip")
            if env.kind == "venv":
                await engine.install(env.prefix, ["ipykernel"], channels=[], task=task)
            else:
                await self.uvpip().install(env.python, ["ipykernel"], task=task)
        state = read_state(env.prefix)
        if state is not None and writable(env):
            self._record_request(state, ChangeRequest("install", ["ipykernel"], manager))
            write_state(env.prefix, state)
            fresh = discovery.inspect(env.path, env.found_in, self.envmod) or env
            history.record(
                env.prefix,
                "install",
                self._snapshot(fresh),
                request={"specs": ["ipykernel"], "manager": manager},
                requested_conda=state.requested_conda,
                requested_pip=state.requested_pip,
            )
            await asyncio.to_thread(sharing.fix_permissions, self.envmod, env.prefix)

    def module(self, env: Environment, opts: OutputOptions | None = None) -> dict[str, Any]:
        """Write (or regenerate) the environment's module files and activation scripts.
        Quick and local: no task. Old files of the environment whose name changed (a new
        Python version) are removed."""
        opts = (opts or OutputOptions()).validate(self.envmod)
        self._usable(env, "module files")
        modules, modulepath = self.outputs.deps_for(env, opts)
        self.outputs.record_deps(env, modules, modulepath)
        fresh = self.find(path=env.path) if env.managed else env
        return self.outputs.write_modules(
            fresh,
            formats=opts.formats,
            module_dir=opts.module_dir,
            module_app=opts.module_app,
            modules=modules,
            modulepath=modulepath,
        )

    def remove_kernel(self, env: Environment) -> list[str]:
        removed = self.outputs.remove_kernels(env.path)
        self.outputs.record_kernel(env, None)
        return removed

    def remove_module(self, env: Environment) -> list[str]:
        return self.outputs.remove_modules(env)

    # -- delete --------------------------------------------------------------------------
    def delete(self, env: Environment) -> Task:
        real = discovery.check_allowed(self.envmod, env.prefix)
        sharing.check_can_change(self.envmod, real, "delete")
        if Path(env.path).is_symlink():
            raise InvalidInput(
                f"{env.path} is a symbolic link; delete the environment by its real path {real}.",
                details={"field": "path"},
            )
        if discovery.inspect(str(real), "delete", self.envmod) is None:
            raise InvalidInput(
                f"{real} is not an environment (no conda-meta/, no pyvenv.cfg): refusing to delete it.",
                details={"field": "path"},
            )
        task = Task("delete", {"path": env.path, "name": env.name, "id": env.id})
        lock = EnvLock(real)
        lock.acquire(what="delete")
        return self.tasks.start(task, lambda t: self._delete(env, real, t), cleanup=lock.release)

    async def _delete(self, env: Environment, real: Path, task: Task) -> dict[str, Any]:
        state = read_state(real)
        removed: list[str] = []
        task.set_phase("removing generated files")
        # what a scan finds (e.g. files written before the state recorded them, or by adopt)
        for env_path in {env.path, str(real)}:
            removed += await asyncio.to_thread(self.outputs.remove_all_for, env_path)
        for path in generated_files(state):
            with contextlib.suppress(FileNotFoundError):
                if path.is_dir() and not path.is_symlink():
                    await asyncio.to_thread(shutil.rmtree, path)
                else:
                    path.unlink()
                if str(path) not in removed:
                    removed.append(str(path))
        task.set_phase("removing the environment")
        # rmtree never follows symlinks: a link inside the environment is removed, not its target
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, real))
        removed.append(str(real))
        discovery.register_conda_prefix(Path(env.path), add=False)
        if str(real) != env.path:
            discovery.register_conda_prefix(real, add=False)
        return {"removed": removed}

    # -- retry an interrupted operation ---------------------------------------------------
    def retry(self, env: Environment) -> Task:
        state = env.state_record
        if env.state != discovery.INTERRUPTED or state is None or not state.operation:
            raise InvalidInput(f"{env.path} has no interrupted operation to retry.", details={"field": "path"})
        discovery.check_allowed(self.envmod, env.prefix)
        op = state.operation
        request = op.get("request") or {}
        if op.get("kind") in ("create", "clone"):
            plan = CreatePlan(
                prefix=Path(env.path),
                name=str(request.get("name") or env.name),
                engine=str(request.get("engine") or state.engine),
                python=str(request.get("python") or state.python),
                packages=list(request.get("packages", [])),
                pip_packages=list(request.get("pip_packages", [])),
                channels=list(request.get("channels", [])),
                explicit=[_entry(line) for line in request.get("explicit", [])],
                variables=dict(request.get("variables", {})),
                dry_run=False,
                outputs=_outputs_from(request),
                module_deps=list(request.get("module_deps", [])),
                modulepath=list(request.get("modulepath", [])),
            )
            # start again from an empty directory: what the interrupted run left is unknown
            for child in Path(env.path).iterdir():
                if child.name != ".envmod":
                    if child.is_dir() and not child.is_symlink():
                        shutil.rmtree(child)
                    else:
                        child.unlink()
            return self.start_create(plan, kind=str(op.get("kind")))
        if op.get("kind") == "restore":
            state.operation = None
            write_state(env.prefix, state)
            return self.restore(self.find(path=env.path), history.parse_rev(request.get("revision", -1)))
        if op.get("kind") in ("install", "update", "remove", "update-all"):
            state.operation = None
            write_state(env.prefix, state)
            fresh = self.find(path=env.path)
            return self.change(
                fresh,
                ChangeRequest(
                    op["kind"],
                    list(request.get("specs", [])),
                    request.get("manager", "conda"),
                    list(request.get("channels", [])),
                ),
            )
        raise InvalidInput(f"cannot retry a {op.get('kind')!r} operation; delete the environment.")

    # -- export --------------------------------------------------------------------------
    def export(self, env: Environment, fmt: str = "yml") -> tuple[str, str]:
        """(file name, text) of the environment in ``fmt``: yml (full pins), history
        (only what the user asked for), requirements (pip pins), explicit (@EXPLICIT)."""
        if fmt not in EXPORT_FORMATS:
            raise InvalidInput(f"format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}.", details={"field": "format"})
        header = f"exported by jupyter envmod from {env.path} on {time.strftime('%Y-%m-%d %H:%M')}"
        state = env.state_record
        pip_pins = self.uvpip().freeze(env.prefix) if env.kind in ("conda", "venv") else []
        conda_pkgs = [p for p in self.packages(env) if p.source == "conda"] if env.kind == "conda" else []
        channels = (state.channels if state and state.channels else []) or self._channels_of(conda_pkgs)
        if fmt == "requirements":
            return "requirements.txt", render_requirements(pip_pins, header=header)
        if fmt == "explicit":
            engine = self.engine(env.engine)
            if not isinstance(engine, CondaEngine) or env.kind != "conda":
                raise InvalidInput(
                    "explicit export lists conda packages; this is a venv — export requirements instead.",
                    details={"field": "format"},
                )
            import rattler

            extra = f"{header}\npip packages are not part of an explicit file: {len(pip_pins)}" if pip_pins else header
            text = render_explicit(engine.explicit(env.prefix), platform=str(rattler.Subdir.current()), header=extra)
            return f"{env.name}-explicit.txt", text
        if fmt == "history":
            if state is not None:
                conda = list(state.requested_conda)
                pip = list(state.requested_pip)
            else:
                conda = [p.name for p in conda_pkgs if p.requested]
                pip = [p.name for p in self.uvpip().installed(env.prefix) if p.requested]
            if env.kind == "conda" or env.python_version:
                py = (env.python_version or "").split(".")
                conda = [f"python={'.'.join(py[:2])}", *[c for c in conda if _spec_name(c) != "python"]]
            return "environment.yml", render_environment_yml(
                name=env.name,
                channels=channels,
                conda=conda,
                pip=pip,
                variables=state.variables if state else None,
                header=header,
            )
        conda = [f"{p.name}={p.version}={p.build}" for p in conda_pkgs]
        if env.kind == "venv" and env.python_version:
            conda = [f"python={env.python_version}"]
        return "environment.yml", render_environment_yml(
            name=env.name,
            channels=channels,
            conda=conda,
            pip=pip_pins,
            variables=state.variables if state else None,
            header=header,
        )

    @staticmethod
    def _channels_of(packages: list[Package]) -> list[str]:
        seen: list[str] = []
        for p in packages:
            if p.channel and p.channel not in seen:
                seen.append(p.channel)
        return seen


def _plan_between(before: Snapshot, after: Snapshot) -> Plan:
    """The changes from one snapshot to another, as a plan ("version build" labels, as engines give)."""

    def label(text: str | None) -> str | None:
        return text.replace("=", " ") if text else None

    changes = history.diff(before, after)
    rows = [c for kind in ("added", "removed", "changed") for c in changes[kind]]
    plan = Plan([Change(c["name"], c["source"], label(c.get("old")), label(c.get("new"))) for c in rows])  # type: ignore[arg-type]
    plan.changes.sort(key=lambda ch: (ch.name, ch.source))
    return plan


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _entry(line: str) -> ExplicitEntry:
    url, _, digest = line.partition("#")
    return ExplicitEntry(url, digest if len(digest) == 64 else None, digest if len(digest) == 32 else None)


def has_ipykernel(prefix: Path) -> bool:
    """ipykernel is importable from the environment (looked up without running it)."""
    import glob

    return bool(glob.glob(str(prefix / "lib" / "python*" / "site-packages" / "ipykernel" / "__init__.py")))


def _owner(path: Path) -> str:
    import pwd

    try:
        return pwd.getpwuid(path.stat().st_uid).pw_name
    except (KeyError, OSError):
        return "unknown"


def _outputs_from(request: dict[str, Any]) -> OutputOptions:
    kernel = request.get("kernel") or {}
    module = request.get("module") or {}
    return OutputOptions(
        kernel=bool(kernel.get("create")),
        display_name=kernel.get("display_name"),
        module=bool(module.get("create")),
        formats=module.get("formats"),
        module_dir=module.get("module_dir"),
        module_app=module.get("module_app"),
    )


def generated_files(state: EnvState | None) -> list[Path]:
    """Kernel and module files this project wrote for the environment (recorded in its state)."""
    if state is None:
        return []
    paths: list[str] = []
    kernel = state.generated.get("kernel")
    if isinstance(kernel, str):
        paths.append(kernel)
    paths += [m for m in state.generated.get("modules", []) if isinstance(m, str)]
    return [Path(p) for p in paths]
