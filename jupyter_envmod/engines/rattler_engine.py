"""The ``rattler`` engine: conda environments solved and installed by the embedded
py-rattler library — no conda installation needed.

Solving
    ``rattler.solve`` runs in the server process against ``rattler.Channel`` objects
    built from the request's channels (else ``EnvMod.channels``): channel names
    (resolved under ``https://conda.anaconda.org/``), ``http(s)://`` URLs of a mirror,
    ``file://`` URLs or absolute paths of local channels; anything else is
    ``InvalidInput``, and so is a channel without a package index. Platforms are the
    current subdir and ``noarch``; virtual packages are detected; channel priority
    follows ``EnvMod.channel_priority``; CEP-42 channel relations are not followed
    (the site's channel list is the whole truth). A ``SolverError`` becomes
    ``Unsatisfiable`` carrying the solver's own explanation.

    ``install`` solves again for the union of what the user asked for before
    (``requested_specs`` / ``requested_spec`` in ``conda-meta``; a new spec replaces an
    old one for the same name) and the new specs, with the installed records as
    ``locked_packages`` so unrelated packages stay where they are; ``update`` leaves
    the named packages unlocked, so they move to the newest the solver accepts.
    ``remove`` drops the named packages and the installed packages that depend on
    them, then solves the remaining requested specs against *no channel at all*: the
    installed records that stay are the only candidates (rattler accepts locked
    records as candidates), so a removal never fetches, upgrades or downgrades. A
    prefix whose records carry no requested specs at all (made by an old conda) is
    treated as if every installed package had been asked for by name.

Installing: a worker process
    Measured with py-rattler 0.28: cancelling the asyncio task that awaits
    ``rattler.install`` returns at once but does not stop the work. Dropping the Rust
    future only stops new operations from starting; archive extraction into the
    package cache and the linking of a package already under way run to completion
    on tokio's blocking threads — files kept appearing in the prefix for a second
    after the cancel had returned (after the environment's lock was released, and
    while a rollback would already be running). The installer's reporter cannot stop
    it either: an exception raised in a callback is swallowed and the install
    carries on. So the transaction (fetch, extract, link, unlink, ``conda-meta``) runs
    in a child process that a cancel can kill.

    Starting a Python that imports rattler costs 0.1 to 0.2 s, several times a whole
    install from a warm cache, so the child is a long-lived *install worker*
    (:mod:`.rattler_worker`, ``python -m jupyter_envmod.engines.rattler_worker PID``)
    kept in a small per-process pool: started on first use, in its own process
    group, and *warmed* as soon as an install is foreseeable — when ``create``,
    ``install``, ``remove`` or ``install_explicit`` (not a dry run) starts solving —
    so that its start overlaps the solve. A job is one JSON line on the worker's
    stdin; the worker answers with ``@envmod {json}`` progress lines and a final
    ``done`` line on its stdout (stderr merged in), read with ``loop.add_reader``
    only while a job runs, so the pool is not tied to any event loop (``asyncio.run``
    per CLI command, a loop per test). One job at a time per worker: a job takes an
    idle worker or starts another, so concurrent installs into different prefixes
    do not wait for each other; one idle worker is kept afterwards, the others are
    retired (they are idle: stdin closed, SIGKILL, reaped). The task's log names the
    worker and its job number (``install worker PID, job N``). A worker is reused only after a job that succeeded and
    only while the parent's environment variables are those it was started with (a
    fresh child per install saw the current ones; rattler reads e.g. its cache and
    proxy variables). Otherwise the worker is discarded:

    - cancel: its process group is SIGKILLed and reaped before ``CancelledError``
      goes on (a few ms), so nothing touches the prefix afterwards; the next job
      starts a fresh worker;
    - failed job: the worker reports the error, exits, and is killed and reaped
      before ``OperationFailed`` is raised (operations of the failed transaction
      already running on tokio threads would otherwise carry on);
    - a worker that dies (end of file on its stdout): ``OperationFailed`` with its
      exit code and output tail.

    Workers die with their parent (end of file on stdin, and a thread watching the
    parent pid), are killed at interpreter exit (``atexit``), and are forgotten,
    not shared, by a forked child. A package cut off mid-extraction is extracted
    again by the next install (rattler only trusts a cache entry whose lock file
    records a finished extraction; tested).

    The parent turns the progress lines into the task's phases ``downloading`` then
    ``linking`` (from the first link or unlink on) and the fraction of operations
    done. Records go to the worker inside the job, as ``RepoDataRecord.to_json()``
    texts (no files: writing them cost 2 ms of a 20 ms install). The solve stays
    in-process: it writes nothing, and a cancel during it returns at once (the solver
    thread may finish in the background).

Explicit installs, no solve
    Each entry's URL is split into channel, subdir and file name, and its record is
    taken, in this order, from the prefix's own ``conda-meta`` (same URL and hash:
    a rollback needs no network), from the channel's index (``Gateway.query`` for the
    names of that channel and subdir, matched by file name — works offline for
    ``file://`` channels and uses the repodata cache for mirrors), else from the
    package archive itself (``RepoDataRecord.from_package_archive``: read in place for
    ``file://``, downloaded to a private temporary directory for ``http(s)://``). The
    entry's sha256 (and md5) must match the record's, else the request is refused
    before anything changes. The installer then makes the prefix hold exactly those
    records (it removes the others). Requested specs are kept for the packages that
    stay; a prefix with none gets every package's name (an explicit list is all
    asked for).

Caches
    Packages go to ``EnvMod.cache_path("rattler")/pkgs`` and repodata of remote
    channels to ``…/repodata`` when ``EnvMod.cache_dir`` is set. Otherwise rattler's
    own default applies, which is per user: ``$RATTLER_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/rattler/cache``, else ``~/.cache/rattler/cache`` (``pkgs/`` and
    ``repodata/`` inside) — never a shared temporary directory.

py-rattler 0.28 warts handled here
    ``install(requested_specs=[MatchSpec])`` raises a TypeError (the wrapper does not
    unwrap the spec): the worker retries with the inner ``MatchSpec._match_spec``.
    A process that exits right after a py-rattler coroutine finished can crash
    (SIGSEGV in pyo3-async-runtimes' ``set_result``, or "PyGILState_Release: thread
    state must be current"): the tokio thread that hands the result over is still
    busy while the interpreter finalizes. Measured: a child crashed at exit in
    about one run of ten, a script exiting right after ``Gateway.query`` in one of
    two. So the worker ends with ``os._exit``, and a process that made an in-process
    call here lives at least 10 ms after it before it finalizes (:func:`_settled`, an
    ``atexit`` hook; 0 crashes in 140 runs).
    ``Gateway()`` builds an HTTP client each time (~4 ms); gateways here are fresh per
    operation but share one client (:func:`_http_client`).
    ``ChannelConfig()``'s ``root_dir`` default is the working directory at import
    time; channels here are always absolute. Package link scripts are not run
    (rattler's default).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from ..errors import InvalidInput, OperationFailed, Unsatisfiable
from ..models import Package, Plan, diff_packages
from ..tasks import OUTPUT_TAIL
from .base import CondaEngine
from .condameta import channel_label, conda_packages
from .rattler_worker import MARK

if TYPE_CHECKING:
    from rattler import Channel, Client, Gateway, PrefixRecord, RepoDataRecord

    from ..specs import ExplicitEntry
    from ..tasks import Task

T = TypeVar("T")

_PYTHON_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
_CHANNEL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*$")
#: keys of a conda-meta record that are not part of the repodata record
_PREFIX_ONLY_KEYS = (
    "files",
    "paths_data",
    "link",
    "extracted_package_dir",
    "package_tarball_full_path",
    "requested_spec",
    "requested_specs",
    "installed_system_menus",
)


class RattlerEngine(CondaEngine):
    """Conda environments made by py-rattler (see the module docstring)."""

    name = "rattler"

    # -- operations ------------------------------------------------------------------
    async def create(
        self, prefix: Path, *, python: str, specs: list[str], channels: list[str], task: Task, dry_run: bool = False
    ) -> Plan:
        """Solve ``python`` + ``specs`` and install the result into the new ``prefix``."""
        python = python.strip()
        if not _PYTHON_VERSION.match(python):
            raise InvalidInput(
                f"Python version {python!r}: give X.Y or X.Y.Z, e.g. 3.11 or 3.11.7.", details={"field": "python"}
            )
        python_spec = f"python =={python}" if python.count(".") == 2 else f"python {python}.*"
        wanted = [python_spec, *_check_specs(specs)]
        if not dry_run:
            _POOL.warm()  # the worker starts while we solve
        records = await self._solve(wanted, self._channel_objects(channels), locked=[], task=task)
        plan = diff_packages([], _packages(records, _names(wanted)))
        if not dry_run:
            await self._transact(prefix, records, wanted, task)
        return plan

    async def install(
        self,
        prefix: Path,
        specs: list[str],
        *,
        channels: list[str],
        task: Task,
        update: bool = False,
        dry_run: bool = False,
    ) -> Plan:
        """Add ``specs`` to what the prefix was asked for and solve again, the installed
        packages locked (``update``: the named ones free to move)."""
        new = _check_specs(specs)
        if not new:
            raise InvalidInput("Name at least one package.", details={"field": "packages"})
        installed = _installed(prefix)
        wanted = _merge_specs(_requested_specs(installed), new)
        free = _names(new) if update else set()
        locked = [r for r in installed if r.name.normalized not in free]
        if not dry_run:
            _POOL.warm()
        records = await self._solve(wanted, self._channel_objects(channels), locked=locked, task=task)
        plan = diff_packages(conda_packages(prefix), _packages(records, _names(wanted)))
        if not dry_run:
            await self._transact(prefix, records, wanted, task)
        return plan

    async def update_all(
        self,
        prefix: Path,
        *,
        channels: list[str],
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """Solve what the prefix was asked for (its conda-meta records; ``requested`` is
        not used) again with nothing locked: every package moves to the newest
        version the requested specs and the channels allow."""
        installed = _installed(prefix)
        wanted = _requested_specs(installed)
        if not dry_run:
            _POOL.warm()
        records = await self._solve(wanted, self._channel_objects(channels), locked=[], task=task)
        plan = diff_packages(conda_packages(prefix), _packages(records, _names(wanted)))
        if not dry_run:
            await self._transact(prefix, records, wanted, task)
        return plan

    async def newest(self, names: list[str], *, channels: list[str]) -> dict[str, str]:
        """The newest version of each named package in the channels (this platform
        and noarch); names the channels lack are left out."""
        from rattler import Subdir
        from rattler.exceptions import GatewayError

        if not names:
            return {}
        sources = self._channel_objects(channels)
        try:
            found = await _settled(
                self._gateway().query(
                    sources,
                    [Subdir.current(), Subdir("noarch")],
                    list(names),
                    recursive=False,
                )
            )
        except GatewayError as err:
            raise _channel_error(err, [c.base_url for c in sources]) from None
        best: dict[str, tuple[Any, str]] = {}
        for records in found:
            for record in records:
                name = record.name.normalized
                if name not in best or record.version > best[name][0]:
                    best[name] = (record.version, str(record.version))
        return {name: text for name, (_, text) in best.items()}

    async def remove(self, prefix: Path, names: list[str], *, task: Task, dry_run: bool = False) -> Plan:
        """Remove the named packages, the installed packages that depend on them, and
        what only those needed."""
        installed = _installed(prefix)
        by_name = {r.name.normalized: r for r in installed}
        gone = {n.strip().lower() for n in names if n.strip()}
        if not gone:
            raise InvalidInput("Name at least one package to remove.", details={"field": "packages"})
        missing = sorted(gone - set(by_name))
        if missing:
            raise InvalidInput(
                f"Not installed in {prefix}: {', '.join(missing)}.", details={"field": "packages", "names": missing}
            )
        gone |= _dependents(installed, gone)
        wanted = [s for s in _requested_specs(installed) if _spec_name(s) not in gone]
        locked = [r for r in installed if r.name.normalized not in gone]
        if not dry_run:
            _POOL.warm()
        # No channels: the candidates are the installed records that stay, so a
        # removal never fetches, upgrades or downgrades anything.
        records = await self._solve(wanted, [], locked=locked, task=task) if wanted else []
        plan = diff_packages(conda_packages(prefix), _packages(records, _names(wanted)))
        if not dry_run:
            await self._transact(prefix, records, wanted, task)
        return plan

    async def install_explicit(
        self,
        prefix: Path,
        entries: list[ExplicitEntry],
        *,
        task: Task,
        dry_run: bool = False,
        requested: list[str] | None = None,
    ) -> Plan:
        """Make ``prefix`` hold exactly the packages of ``entries`` (URL + hash), no solve."""
        task.set_phase("resolving")
        installed = _installed(prefix, required=False)
        if not dry_run:
            _POOL.warm()
        records = await self._explicit_records(installed, entries, task)
        names = [r.name.normalized for r in records]
        if requested:
            wanted = list(requested)
        else:
            previous = [s for s in _requested_specs(installed, fallback=False) if _spec_name(s) in set(names)]
            wanted = previous or names
        plan = diff_packages(conda_packages(prefix), _packages(records, _names(wanted)))
        if not dry_run:
            await self._transact(prefix, records, wanted, task)
        return plan

    # -- solving ---------------------------------------------------------------------
    def _channel_objects(self, requested: list[str]) -> list[Channel]:
        from rattler import Channel, ChannelConfig

        config = ChannelConfig(root_dir="/")
        channels = []
        for raw in self.channels(requested):
            channels.append(Channel(_channel_url(raw), config))
        return channels

    def _cache(self, sub: str) -> Path | None:
        base = self.envmod.cache_path("rattler")
        if base is None:
            return None
        path = base / sub
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def _gateway(self) -> Gateway:
        """A fresh gateway per operation: its in-memory repodata must not go stale in a
        long-running server. Its HTTP client is shared (:func:`_http_client`)."""
        from rattler import Gateway

        return Gateway(cache_dir=self._cache("repodata"), client=_http_client())

    async def _solve(
        self, specs: list[str], channels: list[Channel], *, locked: list[PrefixRecord], task: Task
    ) -> list[RepoDataRecord]:
        from rattler import ChannelPriority, MatchSpec, Subdir, VirtualPackage, solve
        from rattler.exceptions import GatewayError, SolverError

        task.set_phase("solving")
        task.log("solving: " + ", ".join(specs))
        task.log("channels: " + (", ".join(c.base_url for c in channels) or "none (the installed packages only)"))
        priority = ChannelPriority.Strict if self.envmod.channel_priority == "strict" else ChannelPriority.Flexible
        try:
            records = await _settled(
                solve(
                    sources=channels,
                    # MatchSpec objects: solve() parses plain strings strictly, which
                    # refuses conda's own "name=version=build" form
                    specs=[MatchSpec(s) for s in specs],
                    gateway=self._gateway(),
                    platforms=[Subdir.current(), Subdir("noarch")],
                    locked_packages=locked,
                    virtual_packages=VirtualPackage.detect(),
                    channel_priority=priority,
                    channel_relations="disabled",
                )
            )
        except SolverError as err:
            message = str(err).strip()
            raise Unsatisfiable(message, details={"specs": specs, "solver": message}) from None
        except GatewayError as err:
            raise _channel_error(err, [c.base_url for c in channels]) from None
        task.log(f"solved: {len(records)} packages")
        return sorted(records, key=lambda r: r.name.normalized)

    # -- explicit records ------------------------------------------------------------
    async def _explicit_records(
        self, installed: list[PrefixRecord], entries: list[ExplicitEntry], task: Task
    ) -> list[RepoDataRecord]:
        from rattler import Subdir

        current = {str(Subdir.current()), "noarch"}
        by_url: dict[str, RepoDataRecord] = {r.url: r for r in installed}
        found: dict[int, RepoDataRecord] = {}
        groups: dict[tuple[str, str], list[tuple[int, ExplicitEntry, str]]] = {}
        for i, entry in enumerate(entries):
            channel, subdir, filename = _split_package_url(entry.url)
            if subdir not in current:
                raise InvalidInput(
                    f"{filename} is built for {subdir}, not for this machine ({', '.join(sorted(current))}).",
                    details={"field": "explicit", "url": entry.url},
                )
            record = by_url.get(entry.url)
            if record is not None and _hashes_match(record, entry):
                found[i] = record
            else:
                groups.setdefault((channel, subdir), []).append((i, entry, filename))
        for (channel, subdir), items in groups.items():
            index = await self._index_records(channel, subdir, [_name_from_filename(f) for _, _, f in items])
            for i, entry, filename in items:
                record = index.get(filename)
                if record is None:
                    task.log(f"{filename} is not in the index of {channel}; reading the package itself")
                    record = await _record_from_archive(entry.url, channel)
                _check_hashes(record, entry)
                found[i] = record
        records = [found[i] for i in range(len(entries))]
        seen: dict[str, str] = {}
        for record in records:
            name = record.name.normalized
            if name in seen:
                raise InvalidInput(
                    f"The package list names {name} twice ({seen[name]} and {record.file_name}).",
                    details={"field": "explicit"},
                )
            seen[name] = record.file_name
        return records

    async def _index_records(self, channel: str, subdir: str, names: list[str]) -> dict[str, RepoDataRecord]:
        """The records of ``names`` in one channel subdir, by file name; empty when the
        channel has no readable index."""
        from rattler import Channel, ChannelConfig, Subdir
        from rattler.exceptions import GatewayError

        try:
            result = await _settled(
                self._gateway().query(
                    [Channel(channel, ChannelConfig(root_dir="/"))],
                    [Subdir(subdir)],
                    sorted(set(names)),
                    recursive=False,
                    channel_relations="disabled",
                )
            )
        except GatewayError:
            return {}
        return {r.file_name: r for source in result for r in source}

    # -- the transaction (install worker) -------------------------------------------
    async def _transact(self, prefix: Path, records: list[RepoDataRecord], requested: list[str], task: Task) -> None:
        """Install exactly ``records`` into ``prefix`` in an install worker (see the
        module docstring), reporting progress through ``task``."""
        cache = self._cache("pkgs")
        job = {
            "prefix": str(prefix),
            "records": [_record_json(r) for r in records],
            "requested_specs": requested,
            "cache_dir": str(cache) if cache is not None else None,
        }
        task.set_phase("downloading", 0.0)
        await _POOL.run(job, _Progress(task), prefix)


class _Progress:
    """Turns the worker's ``@envmod`` lines into task phases, progress and log lines."""

    def __init__(self, task: Task):
        self.task = task
        self.total = 0
        self.done = 0
        self.linking = False
        #: the worker's free-text lines during the job (error details)
        self.tail: list[str] = []

    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def on_line(self, line: str) -> None:
        event = _event(line)
        if event is None:
            self.task.log(line)
            self.tail = [*self.tail[-OUTPUT_TAIL + 1 :], line]
            return
        kind = event.get("e")
        name = event.get("name", "")
        if kind == "start":
            self.total = int(event.get("total") or 0)
            self.task.log(f"{self.total} operations")
            self.task.set_progress(self.fraction())
        elif kind == "fetch":
            self.task.log(f"fetching {name}")
        elif kind in ("link", "unlink"):
            if not self.linking:
                self.linking = True
                self.task.set_phase("linking", self.fraction())
            self.task.log(("linking " if kind == "link" else "removing ") + name)
        elif kind == "op_done":
            self.done += 1
            self.task.set_progress(self.fraction())


def _event(line: str) -> dict[str, Any] | None:
    """The event of a worker's ``@envmod`` line; None for free text."""
    if not line.startswith(MARK):
        return None
    try:
        event = json.loads(line[len(MARK) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


# -- install workers (parent side) -----------------------------------------------------

#: the worker's module, run with ``python -m``
WORKER_MODULE = "jupyter_envmod.engines.rattler_worker"
#: idle workers kept for later jobs
_MAX_IDLE = 1
#: seconds to wait for a SIGKILLed worker to be gone before giving up on reaping it
_REAP_TIMEOUT = 10.0


class _Worker:
    """One install worker process: ``python -m …rattler_worker`` in its own process
    group, stdin/stdout pipes (stderr merged into stdout)."""

    def __init__(self) -> None:
        self.argv = [sys.executable, "-m", WORKER_MODULE, str(os.getpid())]
        self.owner = os.getpid()
        self.env = dict(os.environ)
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.stdin = cast(IO[bytes], self.proc.stdin)  # not None: PIPE
        self.stdout = cast(IO[bytes], self.proc.stdout)
        os.set_blocking(self.stdout.fileno(), False)
        self.jobs = 0
        self._buffer = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def usable(self) -> bool:
        """Alive, and started with the environment variables the parent has now."""
        return self.proc.poll() is None and self.env == os.environ

    async def run(self, job: dict[str, Any], on_line: Callable[[str], None]) -> dict[str, Any] | None:
        """Send ``job``, hand every line but the final one to ``on_line`` and return
        the ``done`` event; None when the worker died first."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        fd = self.stdout.fileno()
        self.jobs += 1
        job = {**job, "id": self.jobs}

        def finish(result: dict[str, Any] | None) -> None:
            if not finished.done():
                finished.set_result(result)

        def readable() -> None:
            try:
                data = os.read(fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:  # end of file: the worker is gone
                loop.remove_reader(fd)
                finish(None)
                return
            *lines, self._buffer = (self._buffer + data).split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace")
                event = _event(text)
                if event is not None and event.get("e") == "done" and event.get("id") == job["id"]:
                    finish(event)
                elif not finished.done():
                    try:
                        on_line(text)
                    except Exception as err:  # fail the job (and so discard the worker), never hang
                        finished.set_exception(err)

        loop.add_reader(fd, readable)
        try:
            try:
                self.stdin.write(json.dumps(job).encode() + b"\n")
                self.stdin.flush()
            except OSError:  # a broken pipe: the worker is gone; its output says why
                pass
            return await finished
        finally:
            loop.remove_reader(fd)

    def kill(self) -> None:
        """SIGKILL the worker's process group (not yet reaped: its pid is still ours)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    async def stop(self) -> int | None:
        """Kill the worker and wait until it is gone; its exit code (None: not reaped
        within the timeout — left to :meth:`_Pool.reap`)."""
        self.kill()
        deadline = time.monotonic() + _REAP_TIMEOUT
        while self.proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        if self.proc.returncode is not None:
            self.close_pipes()
        return self.proc.returncode

    def retire(self, timeout: float = 1.0) -> bool:
        """End an idle worker: close its stdin (it exits at end of file), SIGKILL as
        a backstop, and reap it, waiting at most ``timeout`` seconds; reaped?"""
        self.kill()
        self.close_pipes()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        return self.proc.returncode is not None

    def close_pipes(self) -> None:
        for pipe in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class _Pool:
    """The process's install workers: idle ones for the next job, busy ones, and
    killed ones not reaped yet."""

    def __init__(self) -> None:
        self.idle: list[_Worker] = []
        self.busy: set[_Worker] = set()
        self.dying: list[_Worker] = []
        #: a forked child's copies of its parent's workers
        self.foreign: list[_Worker] = []

    def warm(self) -> None:
        """Make sure an idle worker exists (or is starting): an install is coming."""
        self._prune()
        if not self.idle:
            with contextlib.suppress(OSError):  # the job will say what is wrong
                self.idle.append(_Worker())

    def _take(self) -> _Worker:
        self._prune()
        worker = self.idle.pop() if self.idle else _Worker()
        self.busy.add(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        self.busy.discard(worker)
        if worker.usable() and len(self.idle) < _MAX_IDLE:
            self.idle.append(worker)
        elif not worker.retire():
            self.dying.append(worker)

    async def _discard(self, worker: _Worker) -> int | None:
        self.busy.discard(worker)
        code = await worker.stop()
        if code is None:
            self.dying.append(worker)
        return code

    def _prune(self) -> None:
        """Drop idle workers that died or whose environment is stale; reap the dying."""
        for worker in [w for w in self.idle if not w.usable()]:
            self.idle.remove(worker)
            if not worker.retire():
                self.dying.append(worker)
        for worker in [w for w in self.dying if w.proc.poll() is not None]:
            self.dying.remove(worker)
            worker.close_pipes()

    async def run(self, job: dict[str, Any], progress: _Progress, prefix: Path) -> None:
        """Run one install job in a worker; OperationFailed when it fails."""
        try:
            worker = self._take()
        except OSError as err:
            raise OperationFailed(
                f"Installing packages into {prefix} failed: could not start the install worker: {err}",
                details={"argv": [sys.executable, "-m", WORKER_MODULE]},
            ) from None
        progress.task.log(f"install worker {worker.pid}, job {worker.jobs + 1}")
        try:
            done = await worker.run(job, progress.on_line)
        except BaseException:  # cancelled: the work must really stop before this returns
            worker.kill()  # now, even if a second cancel cuts the wait for its end short
            await asyncio.shield(self._discard(worker))
            raise
        if done is not None and done.get("ok"):
            self._give_back(worker)
            return
        code = await self._discard(worker)
        if done is None:
            reason = f"the install worker exited unexpectedly (exit code {code})"
        else:
            reason = str(done.get("message") or "unknown error")
            progress.task.log(f"error: {reason}")
        raise OperationFailed(
            f"Installing packages into {prefix} failed: {reason}",
            details={"argv": worker.argv, "returncode": code, "output_tail": progress.tail or reason.splitlines()},
        )

    def close(self) -> None:
        """Kill every worker of this process (at interpreter exit)."""
        workers = [*self.idle, *self.busy, *self.dying]
        self.idle, self.busy, self.dying = [], set(), []
        for worker in workers:
            if worker.owner == os.getpid():
                worker.kill()
        for worker in workers:
            if worker.owner == os.getpid():
                worker.retire(_REAP_TIMEOUT)

    def forget(self) -> None:
        """Drop every worker without touching it (a forked child: they are the
        parent's). They are kept referenced, never collected: a collected ``Popen``
        whose process still runs warns."""
        self.foreign.extend([*self.idle, *self.busy, *self.dying])
        self.idle, self.busy, self.dying = [], set(), []


_POOL = _Pool()
atexit.register(_POOL.close)
os.register_at_fork(after_in_child=_POOL.forget)


# -- helpers ---------------------------------------------------------------------------


_client: tuple[dict[str, str], Client] | None = None


def _http_client() -> Client:
    """The process's HTTP client (gateways, downloads): ``rattler.Client()``, the plain client
    ``Gateway()`` builds for itself when given none (no middleware; the same requests,
    user agent and credentials, checked against a local server). Building one costs
    about 4 ms (TLS setup), as much as the rest of a small solve, so it is built
    once, and again only when the environment variables change (reqwest reads the
    proxy variables when a client is built)."""
    global _client
    from rattler import Client

    env = dict(os.environ)
    if _client is None or _client[0] != env:
        _client = (env, Client())
    return _client[1]


#: when the last py-rattler coroutine awaited here finished (time.monotonic)
_last_settled = 0.0
#: how long the process must live on after that (see :func:`_settled`)
_SETTLE = 0.01


async def _settled(awaitable: Awaitable[T]) -> T:
    """Await a py-rattler coroutine and note when it finished, so that the process
    gives its tokio thread 10 ms to finish handing the result over before it exits
    (:func:`_settle_at_exit`). pyo3-async-runtimes' thread releases the GIL inside
    ``call_soon_threadsafe`` and takes it back afterwards; a process that exits in that
    gap crashes (SIGSEGV in ``set_result``: 9 of 40 runs of a script that exits right
    after ``Gateway.query``; 0 of 40 with a 10 ms pause after the call, 0 of 140 with
    the pause at exit instead). Only exiting matters (a long-running server never
    does it right after a call), so the pause is paid once, at exit, and only when a
    call finished less than 10 ms before, not after every call."""
    global _last_settled
    try:
        return await awaitable
    finally:
        _last_settled = time.monotonic()


def _settle_at_exit() -> None:
    """atexit: runs before the interpreter starts finalizing."""
    wait = _last_settled + _SETTLE - time.monotonic()
    if wait > 0:
        time.sleep(wait)


atexit.register(_settle_at_exit)


def _channel_url(raw: str) -> str:
    """A channel name or URL as rattler takes it; InvalidInput for anything else."""
    value = raw.strip()
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme in ("http", "https") and parsed.netloc:
        return value
    if parsed.scheme == "file" and parsed.path.startswith("/"):
        return value
    if not parsed.scheme and value.startswith("/"):
        return Path(value).as_uri()
    if not parsed.scheme and _CHANNEL_NAME.match(value) and ".." not in value.split("/"):
        return value
    raise InvalidInput(
        f"Channel {raw!r} is not a channel name (conda-forge), an http(s):// URL or a file:// URL.",
        details={"field": "channels", "channel": raw},
    )


def _channel_error(err: Exception, channels: list[str]) -> Exception:
    message = str(err).strip()
    if "could not find subdir" in message or "No such file or directory" in message:
        return InvalidInput(
            f"Not a conda channel (no package index found): {message}",
            details={"field": "channels", "channels": channels},
        )
    return OperationFailed(
        f"Could not read the package index of {', '.join(channels)}: {message}", details={"channels": channels}
    )


def _check_specs(specs: list[str]) -> list[str]:
    from rattler import MatchSpec
    from rattler.exceptions import InvalidMatchSpecError

    checked = []
    for spec in specs:
        spec = spec.strip()
        try:
            MatchSpec(spec)  # lenient, like conda: "name=version=build" is common (conda env export)
        except InvalidMatchSpecError as err:
            raise InvalidInput(f"Package spec {spec!r}: {err}", details={"field": "packages", "spec": spec}) from None
        checked.append(spec)
    return checked


def _spec_name(spec: str) -> str:
    """The package name of a conda MatchSpec ("conda-forge::numpy >=1" → numpy)."""
    from rattler import MatchSpec

    with contextlib.suppress(Exception):
        normalized = getattr(MatchSpec(spec).name, "normalized", None)
        if normalized:
            return str(normalized).lower()
    head = spec.split("::")[-1]  # fall back to the leading word
    return re.split(r"[\s=<>!~\[]", head.strip(), maxsplit=1)[0].lower()


def _names(specs: list[str]) -> set[str]:
    return {_spec_name(s) for s in specs}


def _merge_specs(old: list[str], new: list[str]) -> list[str]:
    """``old`` with each spec naming a package of ``new`` replaced by the new one."""
    names = _names(new)
    return [s for s in old if _spec_name(s) not in names] + list(new)


def _installed(prefix: Path, *, required: bool = True) -> list[PrefixRecord]:
    """The prefix's conda-meta records; without conda-meta, InvalidInput (``required``)
    or none."""
    from rattler import PrefixRecord

    meta = prefix / "conda-meta"
    if not meta.is_dir():
        if not required:
            return []
        raise InvalidInput(f"{prefix} is not a conda environment (no conda-meta).", details={"field": "path"})
    records = []
    for path in sorted(meta.glob("*.json")):
        try:
            records.append(PrefixRecord.from_path(path))
        except Exception as err:
            raise OperationFailed(f"Unreadable package record {path}: {err}", details={"file": str(path)}) from None
    return records


def _requested_specs(installed: list[PrefixRecord], *, fallback: bool = True) -> list[str]:
    """What the user asked for, from the records' ``requested_specs`` (rattler) or
    ``requested_spec`` (conda). ``fallback``: none recorded at all → every installed
    package by name."""
    specs: list[str] = []
    for record in installed:
        specs.extend(record.requested_specs)
        if record.requested_spec:
            specs.append(record.requested_spec)
    # conda writes requested_spec "None" (a string) for dependencies
    specs = [s for s in dict.fromkeys(specs) if s and s != "None"]
    if not specs and fallback:
        specs = [r.name.normalized for r in installed]
    return specs


def _dependents(installed: list[PrefixRecord], names: set[str]) -> set[str]:
    """Installed packages that need any of ``names``, directly or not."""
    needs = {r.name.normalized: {_spec_name(d) for d in r.depends} for r in installed}
    out: set[str] = set()
    frontier = set(names)
    while frontier:
        frontier = {n for n, deps in needs.items() if deps & frontier and n not in out and n not in names}
        out |= frontier
    return out


def _packages(records: list[RepoDataRecord], requested: set[str]) -> list[Package]:
    out = []
    for record in records:
        data = {"channel": record.channel, "url": record.url}
        out.append(
            Package(
                name=record.name.normalized,
                version=str(record.version),
                source="conda",
                build=str(record.build),
                channel=channel_label(data),
                requested=record.name.normalized in requested,
                url=record.url,
                sha256=record.sha256.hex() if record.sha256 else "",
            )
        )
    return out


def _record_json(record: RepoDataRecord) -> str:
    data = json.loads(record.to_json())
    for key in _PREFIX_ONLY_KEYS:
        data.pop(key, None)
    return json.dumps(data)


def _split_package_url(url: str) -> tuple[str, str, str]:
    """``https://host/ch/linux-64/x-1-0.conda`` → (``https://host/ch``, ``linux-64``, file name)."""
    parsed = urllib.parse.urlsplit(url)
    parts = parsed.path.rsplit("/", 2)
    ok = parsed.scheme in ("http", "https", "file") and len(parts) == 3 and parts[1] and parts[2]
    if not ok or not (parts[2].endswith(".conda") or parts[2].endswith(".tar.bz2")):
        raise InvalidInput(
            f"{url!r} is not the URL of a conda package (…/<subdir>/<name>-<version>-<build>.conda or .tar.bz2).",
            details={"field": "explicit", "url": url},
        )
    channel = urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parts[0], "", ""))
    return channel, parts[1], parts[2]


def _name_from_filename(filename: str) -> str:
    stem = filename.removesuffix(".conda").removesuffix(".tar.bz2")
    return stem.rsplit("-", 2)[0]


def _hashes_match(record: RepoDataRecord, entry: ExplicitEntry) -> bool:
    if entry.sha256 and record.sha256 and record.sha256.hex() != entry.sha256.lower():
        return False
    return not (entry.md5 and record.md5 and record.md5.hex() != entry.md5.lower())


def _check_hashes(record: RepoDataRecord, entry: ExplicitEntry) -> None:
    if not _hashes_match(record, entry):
        have = record.sha256.hex() if entry.sha256 and record.sha256 else (record.md5.hex() if record.md5 else "?")
        raise InvalidInput(
            f"{record.file_name}: the package's hash {have} differs from the one in the list "
            f"({entry.sha256 or entry.md5}); the channel's file has changed since the list was written.",
            details={"field": "explicit", "url": entry.url},
        )


async def _record_from_archive(url: str, channel: str) -> RepoDataRecord:
    """A record read from the package archive itself (``file://`` in place,
    ``http(s)://`` downloaded to a private temporary directory)."""
    from rattler import RepoDataRecord

    parsed = urllib.parse.urlsplit(url)
    tmp: str | None = None
    try:
        if parsed.scheme == "file":
            path = Path(urllib.request.url2pathname(parsed.path))
            if not path.is_file():
                raise InvalidInput(f"Package file {path} does not exist.", details={"field": "explicit", "url": url})
        else:
            from rattler.package_streaming import download_to_path

            tmp = tempfile.mkdtemp(prefix="envmod-rattler-")
            path = Path(tmp) / Path(parsed.path).name
            try:
                await _settled(download_to_path(_http_client(), url, path))
            except Exception as err:
                raise OperationFailed(f"Could not download {url}: {err}", details={"url": url}) from None
        record = await _settled(RepoDataRecord.from_package_archive(path))
        if record.md5 is None:
            record.md5 = await asyncio.to_thread(_file_md5, path)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    record.url = url
    record.channel = channel.rstrip("/") + "/"
    return record


def _file_md5(path: Path) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()
