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

from . import discovery, modsys
from .discovery import Environment
from .engines import get_engine
from .engines.base import CondaEngine, Engine
from .errors import InvalidInput, NotFound, Unsatisfiable
from .models import ChangeRequest, Package, Plan
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
        return self.tasks.start(task, lambda t: self._create(plan, state, t), cleanup=lock.release)

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

    async def _create(self, plan: CreatePlan, state: EnvState, task: Task) -> dict[str, Any]:
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
            generated = await self._create_outputs(plan, task)
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
        if request.action not in ("install", "update", "remove"):
            raise InvalidInput(f"action {request.action!r}: use install, update or remove", details={"field": "action"})
        if not request.specs:
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
            discovery.check_allowed(self.envmod, env.prefix)
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
        snapshot = None if dry_run else self._snapshot(env, engine)
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
        if state is not None:
            self._record_request(state, request)
            state.operation = None
            write_state(env.prefix, state)
        return {"dry_run": dry_run, "plan": plan.to_json(), "summary": plan.summary()}

    async def _apply_change(
        self, env: Environment, engine: Engine, request: ChangeRequest, task: Task, *, dry_run: bool
    ) -> Plan:
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

    def _record_request(self, state: EnvState, request: ChangeRequest) -> None:
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

    def _snapshot(self, env: Environment, engine: Engine) -> dict[str, Any]:
        snap: dict[str, Any] = {"pip": self.uvpip().freeze(env.prefix)}
        if isinstance(engine, CondaEngine):
            snap["conda"] = engine.explicit(env.prefix)
        return snap

    async def _rollback(self, env: Environment, engine: Engine, snapshot: dict[str, Any], task: Task) -> None:
        try:
            task.set_phase("rolling back")
            if isinstance(engine, CondaEngine):
                await engine.install_explicit(env.prefix, snapshot["conda"], task=task)
                if snapshot["pip"] != self.uvpip().freeze(env.prefix):
                    await self.uvpip().sync(env.python, snapshot["pip"], task=task)
            else:
                await self.uvpip().sync(env.python, snapshot["pip"], task=task)
        except Exception as err:  # the original error matters more; say the rollback failed too
            task.log(f"could not restore the previous packages: {err}")

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
        if op.get("kind") in ("install", "update", "remove"):
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
