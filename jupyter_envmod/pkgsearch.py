"""Package-name completion: which names a package box can offer, answered at once.

What is searched
    ``rattler`` and ``conda`` engines
        The names of every package in the request's channels (else ``EnvMod.channels``),
        for the current platform's subdir and ``noarch``, read from the channels'
        repodata through py-rattler's gateway (``Gateway.names``), one source per
        channel. A channel name (``conda-forge``) means
        ``https://conda.anaconda.org/<name>``, as for the rattler engine; the conda
        engine's own ``.condarc`` (channel alias, mirrors) is not read. Remote
        repodata is cached on disk under ``EnvMod.cache_path("rattler")/repodata``
        when ``EnvMod.cache_dir`` is set, else in rattler's per-user default cache.
    ``venv`` engine
        1. *uv cache*: the projects uv has already seen, read from directory names in
           the user's uv cache (``EnvMod.cache_path("uv")`` when ``EnvMod.cache_dir``
           is set, else ``$UV_CACHE_DIR``, else ``$XDG_CACHE_HOME/uv``, else
           ``~/.cache/uv``): ``wheels-v*/`` and ``sdists-v*/`` hold a directory per
           project under ``pypi/<name>/`` (PyPI) and ``index/<hash>/<name>/`` (any
           other index), and ``simple-v*/`` a cached index page per project looked up,
           ``pypi/<name>.rkyv`` and ``index/<hash>/<name>.rkyv`` (uv writes none for a
           project the index does not have). Names of every index in the cache are
           offered, not only the configured one's (the hash cannot be told apart
           without uv). Direct references (``url/``, ``path/``, ``git/``) are left out:
           their names alone would not install them. Listing directories only, no
           subprocess; rescanned by a search once the last scan is a minute old (or
           ``ttl``, when shorter).
        2. *index*: the configured index's list of all its projects (its root page):
           ``EnvMod.pip_index_url``, else ``$UV_DEFAULT_INDEX`` or ``$UV_INDEX_URL``
           when set (what uv itself would use), else PyPI (``https://pypi.org/simple``).
           Fetched as PEP 691 JSON (``Accept: application/vnd.pypi.simple.v1+json``)
           with PEP 503 HTML (the anchors' texts) as the fallback, with a timeout and a
           size cap of 8 MB: a site mirror of a few thousand projects fits (a bigger
           one ends *failed*, "too large", and is tried again only after the cache
           lifetime). PyPI's own listing (over half a million projects, tens of MB) is
           never fetched: with PyPI, completion offers what the uv cache knows.

    Names are matched case-insensitively; venv names and the query are compared in
    their PEP 503 normal form (``Foo_Bar`` → ``foo-bar``). Names that start with the
    query come first, then names that contain it, each group sorted; duplicates across
    sources are shown once.

Never waiting for a load
    :meth:`PackageSearch.search` only looks in memory. A source that was never loaded,
    or whose names are older than the cache lifetime (``ttl``, one hour by default),
    gets a background load (an asyncio task on the running loop; the network and disk
    work runs in threads or in rattler's own runtime), and the answer says which
    sources are still ``loading`` (then ``complete`` is false). Old names are served
    while a refresh runs. One load per source at a time. A load that fails leaves the
    source ``failed`` with a one-line reason (its older names, if any, are still
    served) and is tried again by a search after :attr:`PackageSearch.retry_after`
    seconds, not by every search.

This module imports nothing slow: rattler is imported in a thread by the first
channel load.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html.parser
import importlib
import json
import os
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InvalidInput

if TYPE_CHECKING:
    from .config import EnvMod

#: the default index when neither the site nor uv's variables name one (uv's default)
PYPI_SIMPLE = "https://pypi.org/simple"
#: PEP 691's JSON form of the simple API
PEP691_JSON = "application/vnd.pypi.simple.v1+json"
#: the default channel alias (rattler's, so the same URL the rattler engine uses)
CHANNEL_ALIAS = "https://conda.anaconda.org"
MAX_QUERY = 100
MAX_LIMIT = 500

_QUERY = re.compile(r"\A[A-Za-z0-9._-]{1,100}\Z")
#: a project name as PEP 508 allows it
_PROJECT_NAME = re.compile(r"\A[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z", re.ASCII)
_UV_BUCKET = re.compile(r"\A(wheels|sdists|simple)-v\d+\Z")
#: subdirectories of a uv bucket that hold names from an index (not direct references)
_UV_PYPI, _UV_INDEX = "pypi", "index"
_ERROR_CHARS = 300


class _TooLarge(Exception):
    """The index's listing is over the size cap; trying again soon would not help."""


@dataclass
class _Source:
    """One place names come from, with what was last read from it."""

    kind: str  # "channel" | "uv-cache" | "index"
    #: the channel URL, the cache directory or the index URL (without credentials)
    source: str
    #: what the loader needs: the channel URL, the directory, or the index URL as configured
    target: str
    ttl: float
    names: list[str] = field(default_factory=list)
    #: time.time() of the last successful load
    updated: float | None = None
    #: time.monotonic() of the last successful load
    loaded_at: float | None = None
    #: time.monotonic() of the last failed load (None after a success)
    failed_at: float | None = None
    #: the failure will not go away soon (an index listing over the size cap)
    lasting: bool = False
    error: str | None = None
    task: asyncio.Task[None] | None = None

    def running(self) -> asyncio.Task[None] | None:
        """The load running on this event loop, if any (a task of a closed loop, e.g. an
        earlier ``asyncio.run``, is forgotten)."""
        task = self.task
        if task is None or task.done():
            return None
        if task.get_loop() is not asyncio.get_running_loop():
            self.task = None
            return None
        return task

    def due(self, now: float, retry_after: float) -> bool:
        """Whether a search should start a load: never loaded, older than ``ttl``, or
        failed longer ago than ``retry_after`` (``ttl`` for a lasting failure)."""
        if self.failed_at is not None:
            return now - self.failed_at >= (self.ttl if self.lasting else retry_after)
        return self.loaded_at is None or now - self.loaded_at >= self.ttl

    def state(self) -> str:
        if self.running() is not None:
            return "loading"
        if self.error is not None:
            return "failed"
        return "ready" if self.loaded_at is not None else "loading"

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "state": self.state(),
            "count": len(self.names),
            "updated": self.updated,
            "error": self.error,
        }


class PackageSearch:
    """Package-name completion over cached, background-refreshed sources (see the
    module docstring). One instance serves every request of a process."""

    #: seconds before a failed source is tried again
    retry_after = 60.0
    #: seconds between rescans of the uv cache (a scan is a few directory listings)
    uv_cache_ttl = 60.0
    #: seconds a channel load may take (conda-forge's repodata is large)
    channel_timeout = 300.0
    #: seconds an index listing may take, in all
    index_timeout = 30.0
    #: bytes an index listing may have
    index_max_bytes = 8_000_000

    def __init__(self, envmod: EnvMod, *, ttl: float = 3600.0) -> None:
        self.envmod = envmod
        self.ttl = ttl
        self._sources: dict[tuple[str, str], _Source] = {}

    # -- the request -----------------------------------------------------------------
    async def search(
        self, query: str, *, engine: str, channels: list[str] | None = None, limit: int = 50
    ) -> dict[str, Any]:
        """Names matching ``query`` from what is cached now; loads of missing or stale
        sources start in the background and are never awaited here.

        ``channels`` (conda engines only; default ``EnvMod.channels``) are validated
        for every engine. Raises :class:`~jupyter_envmod.errors.InvalidInput` naming
        the ``field`` (``q``, ``engine``, ``channels`` or ``limit``)."""
        from .config import ENGINES

        if not isinstance(query, str) or not _QUERY.match(query):
            raise InvalidInput(
                f"Search text {query!r}: give 1 to {MAX_QUERY} letters, digits, '.', '_' or '-'.",
                details={"field": "q"},
            )
        if engine not in ENGINES:
            raise InvalidInput(f"Unknown engine {engine!r}: use {', '.join(ENGINES)}.", details={"field": "engine"})
        requested = _check_channels(channels)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(
                f"Limit {limit!r}: give a whole number from 1 to {MAX_LIMIT}.", details={"field": "limit"}
            )

        if engine == "venv":
            sources = self._venv_sources()
            needle = normalize_name(query)
        else:
            sources = self._channel_sources(requested or list(self.envmod.channels))
            needle = query.lower()
        now = time.monotonic()
        for source in sources:
            if source.running() is None and source.due(now, self.retry_after):
                source.task = asyncio.get_running_loop().create_task(
                    self._load(source), name=f"envmod package names: {source.source}"
                )
        states = [s.to_json() for s in sources]
        return {
            "query": query,
            "engine": engine,
            "names": _match([s.names for s in sources], needle, limit),
            "complete": all(s["state"] == "ready" for s in states),
            "sources": states,
        }

    async def wait_loaded(self) -> None:
        """Wait for every background load running now on this loop (tests, the CLI)."""
        tasks = [t for t in (s.running() for s in self._sources.values()) if t is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- sources ---------------------------------------------------------------------
    def _source(self, kind: str, source: str, target: str, ttl: float) -> _Source:
        key = (kind, source)
        found = self._sources.get(key)
        if found is None:
            found = self._sources[key] = _Source(kind=kind, source=source, target=target, ttl=ttl)
        found.target, found.ttl = target, ttl
        return found

    def _channel_sources(self, channels: list[str]) -> list[_Source]:
        urls = dict.fromkeys(channel_url(c) for c in channels)
        return [self._source("channel", _without_credentials(url), url, self.ttl) for url in urls]

    def _venv_sources(self) -> list[_Source]:
        cache = str(uv_cache_dir(self.envmod))
        index = index_url(self.envmod)
        sources = [self._source("uv-cache", cache, cache, min(self.ttl, self.uv_cache_ttl))]
        if not is_pypi(index):  # PyPI's listing is far too large to offer (see the module docstring)
            sources.append(self._source("index", _without_credentials(index), index, self.ttl))
        return sources

    async def _load(self, source: _Source) -> None:
        try:
            if source.kind == "channel":
                names = await self._channel_names(source.target)
            elif source.kind == "uv-cache":
                names = await asyncio.to_thread(scan_uv_cache, Path(source.target))
            else:
                names = await asyncio.to_thread(
                    fetch_index_names, source.target, timeout=self.index_timeout, max_bytes=self.index_max_bytes
                )
        except _TooLarge as err:  # it will not shrink soon: the next try after the cache lifetime
            source.error, source.failed_at, source.lasting = str(err), time.monotonic(), True
        except Exception as err:
            source.error, source.failed_at, source.lasting = one_line(err), time.monotonic(), False
        else:
            source.names = sorted(set(names))
            source.updated = time.time()
            source.loaded_at = time.monotonic()
            source.error, source.failed_at, source.lasting = None, None, False

    async def _channel_names(self, url: str) -> list[str]:
        """The package names of the channel at ``url`` (current subdir and noarch)."""
        # importing rattler takes ~0.1 s: not on the event loop
        await asyncio.to_thread(importlib.import_module, ".engines.rattler_engine", __package__)
        from rattler import Channel, ChannelConfig, Gateway, Subdir

        # the engine's HTTP client, and its atexit pause after a rattler call (a process
        # exiting right after one can crash: see the rattler engine's module docstring)
        from .engines.rattler_engine import _http_client, _settled

        cache = await asyncio.to_thread(self._repodata_cache)
        gateway = Gateway(cache_dir=cache, client=_http_client())
        query = gateway.names(
            [Channel(url, ChannelConfig(root_dir="/"))],
            [Subdir.current(), Subdir("noarch")],
            channel_relations="disabled",
        )
        try:
            names = await asyncio.wait_for(_settled(query), self.channel_timeout)
        except asyncio.TimeoutError:
            raise OSError(f"no package index within {self.channel_timeout:g} s") from None
        return [str(n.normalized) for n in names]

    def _repodata_cache(self) -> Path | None:
        """The rattler engine's repodata cache (created private), or None: rattler's default."""
        base = self.envmod.cache_path("rattler")
        if base is None:
            return None
        path = base / "repodata"
        path.mkdir(mode=0o700, exist_ok=True)
        return path


# -- matching ----------------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """PEP 503 normal form of a Python project name: ``Foo__Bar.baz`` → ``foo-bar-baz``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _match(lists: list[list[str]], needle: str, limit: int) -> list[str]:
    """Names (lower-case lists) starting with ``needle``, sorted, then names containing
    it, sorted; at most ``limit``."""
    starts: set[str] = set()
    contains: set[str] = set()
    for names in lists:
        for name in names:
            if name.startswith(needle):
                starts.add(name)
            elif needle in name:
                contains.add(name)
    return (sorted(starts) + sorted(contains - starts))[:limit]


# -- conda channels ------------------------------------------------------------------------


def _check_channels(channels: list[str] | None) -> list[str]:
    if channels is None:
        return []
    if not isinstance(channels, list):
        raise InvalidInput(
            f"Channels {channels!r}: give a list of channel names or URLs.", details={"field": "channels"}
        )
    if not channels:
        return []
    from .specs import check_channel

    return [check_channel(c, field="channels") for c in channels]


def channel_url(channel: str) -> str:
    """The URL of a channel as the rattler engine resolves it, without a trailing
    slash: a name goes under :data:`CHANNEL_ALIAS`, an absolute path becomes a
    ``file://`` URL, a URL stays as it is."""
    value = channel.strip()
    if "://" in value:
        return value.rstrip("/")
    if value.startswith("/"):
        return Path(value).as_uri().rstrip("/")
    return f"{CHANNEL_ALIAS}/{value.strip('/')}"


# -- venv: the uv cache --------------------------------------------------------------------


def uv_cache_dir(envmod: EnvMod) -> Path:
    """The uv cache uv uses for this site's venvs: ``EnvMod.cache_path("uv")``, else
    ``$UV_CACHE_DIR``, else ``$XDG_CACHE_HOME/uv``, else ``~/.cache/uv``."""
    if envmod.cache_dir:
        return Path(envmod.expanded("cache_dir")) / "uv"  # cache_path() would create it
    if os.environ.get("UV_CACHE_DIR"):
        return Path(os.environ["UV_CACHE_DIR"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "uv"
    return Path.home() / ".cache" / "uv"


def scan_uv_cache(root: Path) -> list[str]:
    """The project names (PEP 503 normal form) uv's cache at ``root`` holds for an
    index: ``{wheels,sdists}-v*/{pypi,index/<hash>}/<name>/`` and
    ``simple-v*/{pypi,index/<hash>}/<name>.rkyv``. Directory listings only. A missing
    cache has no names; an unreadable one raises ``OSError``."""
    names: set[str] = set()
    try:
        buckets = _entries(root)
    except FileNotFoundError:
        return []
    for bucket in buckets:
        found = _UV_BUCKET.match(bucket.name)
        if not found or not bucket.is_dir(follow_symlinks=False):
            continue
        pages = found.group(1) == "simple"
        parents = [Path(bucket.path) / _UV_PYPI]
        with contextlib.suppress(OSError):
            parents += [Path(e.path) for e in _entries(Path(bucket.path) / _UV_INDEX) if e.is_dir()]
        for parent in parents:
            try:
                entries = _entries(parent)
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if pages:
                    if not name.endswith(".rkyv") or not entry.is_file(follow_symlinks=False):
                        continue
                    name = name.removesuffix(".rkyv")
                elif not entry.is_dir(follow_symlinks=False):
                    continue
                if _PROJECT_NAME.match(name):
                    names.add(normalize_name(name))
    return sorted(names)


def _entries(path: Path) -> list[os.DirEntry[str]]:
    with os.scandir(path) as it:
        return [e for e in it if not e.name.startswith(".")]


# -- venv: the index listing ---------------------------------------------------------------


def is_pypi(url: str) -> bool:
    """Whether ``url`` is PyPI's own simple index."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in ("pypi.org", "pypi.python.org")


def index_url(envmod: EnvMod) -> str:
    """The index uv installs from: ``EnvMod.pip_index_url``, else ``$UV_DEFAULT_INDEX``
    or ``$UV_INDEX_URL``, else PyPI."""
    for value in (envmod.pip_index_url, os.environ.get("UV_DEFAULT_INDEX"), os.environ.get("UV_INDEX_URL")):
        if value and value.strip():
            return value.strip()
    return PYPI_SIMPLE


def _without_credentials(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def fetch_index_names(url: str, *, timeout: float, max_bytes: int) -> list[str]:
    """The project names (PEP 503 normal form) an index's root page lists: PEP 691 JSON
    when the index offers it, else the anchors of PEP 503 HTML. Blocking (run it in a
    thread). Raises ``OSError`` (unreachable, HTTP errors, timeout), ``ValueError``
    (not a listing) or :class:`_TooLarge` (over ``max_bytes``)."""
    import urllib.error
    import urllib.request  # ~20 ms (ssl, http.client): only when an index is read

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https", "file"):
        raise ValueError(f"{url!r} is not an http(s):// or file:// URL")
    headers = {"Accept": f"{PEP691_JSON}, text/html;q=0.1", "User-Agent": "jupyter-envmod"}
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        url = _without_credentials(url)
    if not url.endswith("/"):
        url += "/"  # the root page is <index>/ (PyPI redirects otherwise)
    if parts.scheme == "file":
        url += "index.html"  # a directory laid out as a simple index
    deadline = time.monotonic() + timeout
    size_error = _TooLarge(
        f"the project list is larger than {max_bytes / 1_000_000:g} MB (PyPI's full list is far larger); "
        "only names already in the uv cache are offered"
    )
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise size_error
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            body = bytearray()
            while chunk := response.read(1 << 16):
                body += chunk
                if len(body) > max_bytes:
                    raise size_error
                if time.monotonic() > deadline:
                    raise TimeoutError
    except urllib.error.HTTPError as err:
        with contextlib.closing(err):
            raise OSError(f"{url} answered {err.code} {err.reason}: the index offers no project list") from None
    except urllib.error.URLError as err:
        raise OSError(f"cannot reach {url}: {err.reason}") from None
    except TimeoutError:
        raise OSError(f"{url} sent no complete project list within {timeout:g} s") from None
    text = bytes(body).decode(charset, errors="replace")
    if content_type == PEP691_JSON or text.lstrip().startswith("{"):
        try:
            projects = json.loads(text)["projects"]
            raw = [p["name"] for p in projects]
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(f"{url} sent JSON that is not a PEP 691 project list ({one_line(err)})") from None
    else:
        parser = _Anchors()
        parser.feed(text)
        parser.close()
        raw = parser.texts
    return sorted({normalize_name(n.strip()) for n in raw if isinstance(n, str) and _PROJECT_NAME.match(n.strip())})


class _Anchors(html.parser.HTMLParser):
    """The texts of a page's ``<a>`` elements (PEP 503: one per project)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._text is not None:
            self.texts.append("".join(self._text))
            self._text = None


def one_line(err: BaseException) -> str:
    """An error's message on one line (rattler's ``Caused by:`` chain joined with
    ': '), at most 300 characters."""
    lines = [line.strip().removeprefix("Caused by:").strip() for line in str(err).splitlines()]
    text = ": ".join(line for line in lines if line) or type(err).__name__
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"
