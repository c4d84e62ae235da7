"""Kernels and module files for environments: what to write, where, and the record
of it.

This layer joins the environment (discovery, state) with the generators
(:mod:`.kernels`, :mod:`.modulefiles`, :mod:`.templating`) and the module system
(:mod:`.modsys`). The files themselves are the source of truth for listing: a
kernelspec carries ``metadata.envmod.path`` and each module file a marker line, so
files made for a colleague's environment (adopted, nothing recorded in it) are found
the same way as the user's own. An environment the user can write also records its
files in its state, so ``describe`` shows them without a scan.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import kernels, modsys, modulefiles
from .config import MODULE_FORMATS
from .errors import InvalidInput
from .siteinfo import ModuleSystemInfo, detect_module_system
from .state import read_state, write_state
from .templating import FileNames, Target, Templates

if TYPE_CHECKING:
    from .config import EnvMod
    from .discovery import Environment


@dataclass
class OutputOptions:
    """What to generate for an environment (from the CLI or REST, not yet validated)."""

    kernel: bool = False
    display_name: str | None = None
    module: bool = False
    formats: list[str] | None = None  # default: EnvMod.module_formats
    module_dir: str | None = None  # default: EnvMod.module_dir
    module_app: str | None = None  # default: EnvMod.module_app
    #: module dependencies named by the user, and whether to add the modules loaded now
    module_deps: list[str] = field(default_factory=list)
    capture_loaded: bool = False

    def validate(self, envmod: EnvMod) -> OutputOptions:
        """Check every field; raise :class:`InvalidInput` naming it. Returns self."""
        if self.formats is not None:
            bad = [f for f in self.formats if f not in MODULE_FORMATS]
            if bad or not self.formats:
                raise InvalidInput(
                    f"module formats {', '.join(bad) or '(none)'}: use one or more of {', '.join(MODULE_FORMATS)}.",
                    details={"field": "formats"},
                )
        if self.module_dir is not None:
            expanded = os.path.expanduser(self.module_dir)
            if not os.path.isabs(expanded):
                raise InvalidInput(
                    f"module directory {self.module_dir!r} must be an absolute path (or start with ~).",
                    details={"field": "module_dir"},
                )
            self.module_dir = os.path.normpath(expanded)
        if self.module_app is not None and (
            not self.module_app or "/" in self.module_app or self.module_app in (".", "..")
        ):
            raise InvalidInput(
                f"module app name {self.module_app!r}: give one directory name, e.g. 'conda-env'.",
                details={"field": "module_app"},
            )
        if self.display_name is not None and (not self.display_name.strip() or len(self.display_name) > 200):
            raise InvalidInput(
                "the kernel display name must not be empty (at most 200 characters).", details={"field": "display_name"}
            )
        self.module_deps = [modsys.check_module_name(m) for m in self.module_deps]
        return self


def target_for(env: Environment, modules: list[str] | None = None) -> Target:
    state = env.state_record
    created = ""
    if env.created:
        created = datetime.datetime.fromtimestamp(env.created, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Target(
        name=env.name,
        prefix=env.prefix,
        engine=env.engine,
        kind=env.kind,
        python_version=env.python_version or (state.python if state else "") or "",
        created=created,
        env_id=env.id,
        modules=tuple(modules if modules is not None else (state.module_deps if state else [])),
    )


def writable(env: Environment) -> bool:
    """The user can change this environment (and so record things in it)."""
    meta = env.prefix / ".envmod"
    return os.access(env.prefix, os.W_OK) and (not meta.exists() or os.access(meta, os.W_OK))


class Outputs:
    """Kernel and module files of environments."""

    def __init__(self, envmod: EnvMod, module_system: ModuleSystemInfo | None = None):
        self.envmod = envmod
        self._module_system = module_system

    @property
    def module_system(self) -> ModuleSystemInfo:
        if self._module_system is None:
            self._module_system = detect_module_system()
        return self._module_system

    def templates(self) -> Templates:
        return Templates.for_site(self.envmod)

    # -- dependencies -----------------------------------------------------------------
    def deps_for(self, env: Environment, opts: OutputOptions) -> tuple[list[str], list[str]]:
        """(modules, modulepath): the recorded ones, plus what ``opts`` adds."""
        state = env.state_record
        recorded = list(state.module_deps) if state else []
        path = list(state.modulepath) if state else []
        extra = modsys.module_deps(opts.module_deps, capture_loaded=opts.capture_loaded)
        modules = recorded + [m for m in extra.modules if m not in recorded]
        modulepath = path + [p for p in extra.modulepath if p not in path]
        return modules, modulepath

    def record_deps(self, env: Environment, modules: list[str], modulepath: list[str]) -> None:
        def change(state: Any) -> None:
            state.module_deps = list(modules)
            state.modulepath = list(modulepath)

        self._update_state(env, change)

    # -- kernels ----------------------------------------------------------------------
    def write_kernel(
        self, env: Environment, *, display_name: str | None = None, modules: list[str], modulepath: list[str]
    ) -> kernels.KernelSpecInfo:
        target = target_for(env, modules)
        system = modsys.system_json(self.module_system, modulepath)
        old = kernels.kernels_for(self.envmod, env.path)
        if display_name is None and old:
            display_name = old[0].display_name  # a rewrite keeps the name the user chose
        info = kernels.write_kernel(
            self.envmod,
            self.templates(),
            target,
            display_name=display_name,
            module_system=system,
            modulepath=modulepath,
        )
        for stale in old:
            if stale.name != info.name:
                kernels.remove_kernel(self.envmod, stale.name)
        self.record_kernel(env, info)
        return info

    def remove_kernels(self, env_path: str) -> list[str]:
        removed = []
        for info in kernels.kernels_for(self.envmod, env_path):
            kernels.remove_kernel(self.envmod, info.name)
            removed.append(str(info.dir))
        return removed

    # -- module files -----------------------------------------------------------------
    def write_modules(
        self,
        env: Environment,
        *,
        formats: list[str] | None,
        module_dir: str | None,
        module_app: str | None,
        modules: list[str],
        modulepath: list[str],
    ) -> dict[str, Any]:
        target = target_for(env, modules)
        system = modsys.system_json(self.module_system, modulepath)
        wanted = list(formats or self.envmod.module_formats)
        names = modulefiles.file_names(self.envmod, target, module_dir=module_dir, module_app=module_app)
        old = self.module_files_for(env.path, module_dir=module_dir, module_app=module_app)
        written = modulefiles.write_module_files(
            self.envmod,
            self.templates(),
            target,
            wanted,
            module_dir=module_dir,
            module_app=module_app,
            module_system=system,
        )
        fresh = {str(p) for p in written.values()}
        # the name changed (e.g. a new Python version) or a format was dropped: remove the old files
        modulefiles.remove_module_files([f.path for f in old if str(f.path) not in fresh])
        usage = modulefiles.usage_lines(written, self.module_system.kind, names)
        full_name = f"{names.module_app}/{names.module_name}"
        self.record_modules(env, [str(p) for p in written.values()], full_name)
        return {
            "files": {k: str(v) for k, v in written.items()},
            "module": full_name,
            "usage": usage,
        }

    def module_files_for(
        self, env_path: str, *, module_dir: str | None = None, module_app: str | None = None
    ) -> list[modulefiles.ModuleFile]:
        found = modulefiles.list_module_files(self.envmod, module_dir=module_dir, module_app=module_app)
        return [f for f in found if f.env_path == env_path]

    def found_for(self, env_path: str) -> dict[str, Any]:
        """What exists on disk for the environment now (found by scanning, so also for
        an adopted environment that records nothing): its kernels, its module files
        and the lines that load them."""
        found = self.module_files_for(env_path)
        by_format = {f.format: f.path for f in found}
        usage: list[str] = []
        if found:
            app, _, name = found[0].module.partition("/")
            loadable = [f.path for f in found if f.format in ("lua", "tcl")]
            directory = str(loadable[0].parent.parent) if loadable else self.envmod.expanded("module_dir")
            names = FileNames(module_app=app, module_name=name, module_dir=str(directory))
            usage = modulefiles.usage_lines(by_format, self.module_system.kind, names)
        return {
            "kernels": [k.to_json() for k in kernels.kernels_for(self.envmod, env_path)],
            "module_files": [f.to_json() for f in found],
            "usage": usage,
        }

    def remove_modules(self, env: Environment) -> list[str]:
        state = env.state_record
        paths = [Path(p) for p in (state.generated.get("modules", []) if state else []) if isinstance(p, str)]
        paths += [f.path for f in self.module_files_for(env.path)]
        removed = modulefiles.remove_module_files(dict.fromkeys(paths))
        self.record_modules(env, [], None)
        return [str(p) for p in removed]

    def remove_all_for(self, env_path: str) -> list[str]:
        """Remove every kernel and module file a scan finds for ``env_path`` (also those
        the environment's record does not know); what was removed."""
        removed = self.remove_kernels(env_path)
        removed += [str(p) for p in modulefiles.remove_module_files(f.path for f in self.module_files_for(env_path))]
        return removed

    # -- the record in the environment ---------------------------------------------------
    def _update_state(self, env: Environment, change: Any) -> None:
        """Apply ``change(state)`` to the environment's state file, when it is ours
        and the user can write it (nothing is recorded in a colleague's environment)."""
        if not env.managed or not writable(env):
            return
        state = read_state(env.prefix)
        if state is None:
            return
        change(state)
        write_state(env.prefix, state)
        env.state_record = state

    def record_kernel(self, env: Environment, info: kernels.KernelSpecInfo | None) -> None:
        def change(state: Any) -> None:
            if info is None:
                state.generated.pop("kernel", None)
                state.generated.pop("kernel_name", None)
            else:
                state.generated["kernel"] = str(info.dir)
                state.generated["kernel_name"] = info.name

        self._update_state(env, change)

    def record_modules(self, env: Environment, files: list[str], module: str | None) -> None:
        def change(state: Any) -> None:
            state.generated["modules"] = files
            if module:
                state.generated["module"] = module
            else:
                state.generated.pop("module", None)

        self._update_state(env, change)
