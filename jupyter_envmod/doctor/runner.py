"""The :class:`Doctor`: runs the checks named in :data:`CHECK_IDS` for one user, and
the fixes asked for by name."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidInput
from . import disk, environments, pythonpaths, sitetools
from .results import CHECK_IDS, OK, TITLES, WARNING, Check, FixResult, Outcome, reason

if TYPE_CHECKING:
    from ..config import EnvMod
    from ..discovery import Environment
    from ..siteinfo import ModuleSystemInfo

#: each check id -> the function that runs it for a doctor
CHECKS: dict[str, Callable[[Doctor], Outcome]] = {
    "user-site": pythonpaths.user_site,
    "pythonpath": pythonpaths.pythonpath,
    "pip-user": pythonpaths.pip_user,
    "caches": disk.caches,
    "disk-space": disk.disk_space,
    "orphan-kernels": environments.orphan_kernels,
    "orphan-modules": environments.orphan_modules,
    "interrupted": environments.interrupted,
    "environments-txt": environments.environments_txt,
    "module-system": sitetools.module_system,
    "condarc-channels": sitetools.condarc_channels,
}


class Doctor:
    """Runs the checks and their fixes for the user whose environment is ``environ``."""

    def __init__(
        self,
        envmod: EnvMod,
        *,
        environ: Mapping[str, str] | None = None,
        module_system: ModuleSystemInfo | None = None,
    ):
        self.envmod = envmod
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        home = self.environ.get("HOME")
        self.home = Path(home) if home else Path.home()
        self._module_system = module_system
        self._environments: list[Environment] | None = None

    @property
    def module_system(self) -> ModuleSystemInfo:
        if self._module_system is None:
            from ..siteinfo import detect_module_system

            self._module_system = detect_module_system(dict(self.environ))
        return self._module_system

    def environments(self) -> list[Environment]:
        """The environments in the configured directories, listed once per run of the
        checks (several checks read them; a fix may change them, so each fix's check
        lists again)."""
        if self._environments is None:
            from ..discovery import list_environments

            self._environments = list_environments(self.envmod)
        return self._environments

    # -- public ------------------------------------------------------------------------------
    def run(self, ids: Sequence[str] | None = None) -> list[Check]:
        """The checks ``ids`` (all when None or empty), in :data:`CHECK_IDS` order."""
        wanted = set(self._known(ids)) if ids else set(CHECK_IDS)
        self._environments = None
        return [self._run_one(cid)[0] for cid in CHECK_IDS if cid in wanted]

    def fix(self, ids: Sequence[str]) -> list[FixResult]:
        """Apply the fixes of the checks ``ids`` (each checked again first). One fix
        failing does not stop the others."""
        if not ids:
            raise InvalidInput(
                f"checks: name at least one check to fix; known checks: {', '.join(CHECK_IDS)}.",
                details={"field": "checks"},
            )
        results: list[FixResult] = []
        for cid in dict.fromkeys(self._known(ids)):
            self._environments = None
            check, fixer = self._run_one(cid)
            if fixer is None or check.fix is None:
                message = "nothing to fix" if check.status == OK else f"no automatic fix: {check.explanation}"
                results.append(FixResult(cid, False, message))
                continue
            changed: list[str] = []
            try:
                message = fixer(changed)
            except Exception as err:  # reported, never raised: the other fixes still run
                results.append(FixResult(cid, False, f"the fix failed: {reason(err)}", changed))
                continue
            results.append(FixResult(cid, True, message, changed))
        return results

    # -- plumbing ----------------------------------------------------------------------------
    @staticmethod
    def _known(ids: Sequence[str]) -> list[str]:
        if isinstance(ids, str):
            ids = [ids]
        unknown = [str(i) for i in ids if i not in CHECK_IDS]
        if unknown:
            raise InvalidInput(
                f"checks: unknown check {', '.join(repr(u) for u in unknown)}; known checks: {', '.join(CHECK_IDS)}.",
                details={"field": "checks", "value": unknown},
            )
        return list(ids)

    def _run_one(self, cid: str) -> Outcome:
        try:
            check, fixer = CHECKS[cid](self)
        except Exception as err:  # a check that cannot run says why instead of failing the report
            text = reason(err)
            return (
                Check(
                    cid,
                    TITLES[cid],
                    WARNING,
                    f"This check could not run: {text}",
                    "Something needed for this check could not be read. The other checks are not affected.",
                ),
                None,
            )
        if check.status == OK:
            check.fix, fixer = None, None
        elif fixer is None:
            check.fix = None
        return check, fixer
