"""Doctor: checks of the user's setup for the usual breakages, each with a fix that
runs only when asked for by name.

:class:`Doctor` runs the checks listed in :data:`CHECK_IDS` and reports each as a
:class:`Check` (status, one-line summary, explanation, details, and the fix on
offer). :meth:`Doctor.fix` re-runs the named checks and applies their fixes; files
are copied to a backup or moved aside before they change, so nothing the user wrote
is lost. Synchronous and without tornado: the server calls it in a worker thread,
the CLI directly. Reading is cheap (a few small files and directory scans); the
only subprocess is one run of ``quota`` when that tool exists.

The modules: :mod:`.results` (check names, statuses, result types), :mod:`.runner`
(the :class:`Doctor`), :mod:`.userfiles` (backups and edits of the user's files), and
the checks by subject: :mod:`.pythonpaths` (user-site, pythonpath, pip-user),
:mod:`.disk` (caches, disk-space), :mod:`.environments` (orphan-kernels,
orphan-modules, interrupted, environments-txt) and :mod:`.sitetools` (module-system,
condarc-channels). At import time they load only the standard library and
:mod:`jupyter_envmod.errors`; everything else is imported by the check that needs it.
"""

from __future__ import annotations

from .disk import (
    GIB,
    PROBLEM_FREE,
    PROBLEM_INODES,
    QUOTA_LINES,
    QUOTA_TIMEOUT,
    WARNING_FREE,
    WARNING_INODES,
    human_size,
)
from .results import (
    CHECK_IDS,
    OK,
    PROBLEM,
    STATUSES,
    TITLES,
    WARNING,
    Check,
    Fixer,
    FixFailed,
    FixResult,
    Outcome,
    report,
)
from .runner import Doctor
from .userfiles import DISABLED_PREFIX, STARTUP_FILES

__all__ = [
    "CHECK_IDS",
    "DISABLED_PREFIX",
    "GIB",
    "OK",
    "PROBLEM",
    "PROBLEM_FREE",
    "PROBLEM_INODES",
    "QUOTA_LINES",
    "QUOTA_TIMEOUT",
    "STARTUP_FILES",
    "STATUSES",
    "TITLES",
    "WARNING",
    "WARNING_FREE",
    "WARNING_INODES",
    "Check",
    "Doctor",
    "FixFailed",
    "FixResult",
    "Fixer",
    "Outcome",
    "human_size",
    "report",
]
