"""Package-name completion (jupyter_envmod.pkgsearch) on real sources, no server: the
local file:// conda channel (tests/localchannel.py) read through rattler's gateway, a
channel that cannot be reached, a real uv cache filled by a real ``uv pip install``
from a local index served over http:// by a thread of this process, and that index's
project list (PEP 503 HTML, PEP 691 JSON, behind basic auth, over the size cap).

No test waits for time to pass: background loads are awaited with ``wait_loaded``."""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jupyter_envmod.config import EnvMod
from jupyter_envmod.engines.pip import uv_bin
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.pkgsearch import (
    PYPI_SIMPLE,
    PackageSearch,
    index_url,
    normalize_name,
    scan_uv_cache,
    uv_cache_dir,
)

CHANNEL_NAMES = ["alpha", "beta", "gamma", "needsmissing", "python", "slowpkg", "tinypy"]


def by_source(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["source"]: s for s in result["sources"]}


@pytest.fixture
def conda_envmod(tmp_path: Path, local_channel) -> EnvMod:
    return EnvMod(env_dirs=[str(tmp_path / "envs")], cache_dir=str(tmp_path / "cache"), channels=[local_channel.url])


def closed_port() -> int:
    """A localhost port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- conda channels ------------------------------------------------------------------------


async def test_first_search_answers_at_once_then_names_come_from_the_channel(conda_envmod, local_channel):
    search = PackageSearch(conda_envmod)
    first = await search.search("a", engine="rattler")
    assert first == {
        "query": "a",
        "engine": "rattler",
        "names": [],
        "complete": False,
        "sources": [
            {
                "source": local_channel.url,
                "kind": "channel",
                "state": "loading",
                "count": 0,
                "updated": None,
                "error": None,
            }
        ],
    }

    await search.wait_loaded()
    ready = await search.search("a", engine="rattler")
    assert ready["names"] == ["alpha", "beta", "gamma"]
    assert ready["complete"] is True
    [source] = ready["sources"]
    assert (source["state"], source["count"], source["error"]) == ("ready", len(CHANNEL_NAMES), None)
    assert isinstance(source["updated"], float)

    # the conda engine reads the same repodata; the cached names answer at once
    conda = await search.search("A", engine="conda")
    assert (conda["names"], conda["complete"], conda["engine"]) == (["alpha", "beta", "gamma"], True, "conda")
    # a fresh load is not started while the names are younger than ttl
    assert search._sources[("channel", local_channel.url)].running() is None
    # the repodata cache is the rattler engine's
    assert (Path(conda_envmod.cache_dir) / "rattler" / "repodata").is_dir()


async def test_prefix_matches_first_then_substrings_and_limit(conda_envmod, local_channel, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.symlink_to(local_channel.path)  # another channel URL with the same packages
    search = PackageSearch(conda_envmod)
    channels = [local_channel.url, mirror.as_uri(), local_channel.url + "/"]  # the same one twice
    await search.search("p", engine="rattler", channels=channels)
    await search.wait_loaded()

    result = await search.search("p", engine="rattler", channels=channels)
    assert [s["source"] for s in result["sources"]] == [local_channel.url, mirror.as_uri()]
    assert all(s["count"] == len(CHANNEL_NAMES) for s in result["sources"])
    # starting with "p", then containing it; de-duplicated across the two channels
    assert result["names"] == ["python", "alpha", "slowpkg", "tinypy"]
    limited = await search.search("p", engine="rattler", channels=channels, limit=2)
    assert limited["names"] == ["python", "alpha"]
    assert (await search.search("PY", engine="rattler", channels=channels))["names"] == ["python", "tinypy"]
    assert (await search.search("ta", engine="rattler", channels=channels))["names"] == ["beta"]
    assert (await search.search("zzz", engine="rattler", channels=channels))["names"] == []
    assert (await search.search("e", engine="rattler", channels=channels, limit=500))["names"] == [
        "beta",
        "needsmissing",
    ]


async def test_stale_names_are_served_while_one_refresh_runs(conda_envmod, local_channel):
    search = PackageSearch(conda_envmod, ttl=0)
    await search.search("alpha", engine="rattler")
    await search.wait_loaded()
    source = search._sources[("channel", local_channel.url)]
    loaded = source.updated
    assert loaded is not None

    stale = await search.search("alpha", engine="rattler")  # ttl 0: too old, a refresh starts
    assert (stale["names"], stale["complete"]) == (["alpha"], False)
    state = by_source(stale)[local_channel.url]
    assert (state["state"], state["count"], state["updated"]) == ("loading", len(CHANNEL_NAMES), loaded)
    refresh = source.running()
    assert refresh is not None
    await search.search("beta", engine="conda")  # one load per source at a time
    assert source.running() is refresh

    await search.wait_loaded()
    assert refresh.done()
    assert source.updated is not None
    assert source.updated >= loaded
    assert source.names == CHANNEL_NAMES


async def test_unreachable_channels_fail_and_the_others_answer(conda_envmod, local_channel):
    port = closed_port()
    refused = f"http://127.0.0.1:{port}/conda-forge"
    channels = [local_channel.url, "file:///nonexistent", refused]
    search = PackageSearch(conda_envmod)
    await search.search("al", engine="rattler", channels=channels)
    await search.wait_loaded()

    result = await search.search("al", engine="rattler", channels=channels)
    assert result["names"] == ["alpha"]
    assert result["complete"] is False
    sources = by_source(result)
    assert sources[local_channel.url]["state"] == "ready"
    for url in ("file:///nonexistent", refused):
        failed = sources[url]
        assert (failed["state"], failed["count"], failed["updated"]) == ("failed", 0, None)
        assert "\n" not in failed["error"]
    assert "No such file or directory" in sources["file:///nonexistent"]["error"]
    assert "Connection refused" in sources[refused]["error"]

    # not retried by every search: the next try comes after a back-off
    again = by_source(await search.search("al", engine="rattler", channels=channels))
    assert again[refused]["state"] == "failed"
    search.retry_after = 0
    retried = by_source(await search.search("al", engine="rattler", channels=channels))
    assert (retried[refused]["state"], retried[local_channel.url]["state"]) == ("loading", "ready")
    await search.wait_loaded()
    search.retry_after = 60.0
    assert by_source(await search.search("al", engine="rattler", channels=channels))[refused]["state"] == "failed"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"query": ""}, "q"),
        ({"query": "a" * 101}, "q"),
        ({"query": "num py"}, "q"),
        ({"query": "numpy;ls"}, "q"),
        ({"query": "ünï"}, "q"),
        ({"engine": "pip"}, "engine"),
        ({"engine": ""}, "engine"),
        ({"channels": ["-c"]}, "channels"),
        ({"channels": ["ftp://mirror.example/conda-forge"]}, "channels"),
        ({"channels": ["conda forge"]}, "channels"),
        ({"channels": "conda-forge"}, "channels"),
        ({"channels": [3]}, "channels"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "5"}, "limit"),
    ],
)
async def test_invalid_input_names_its_field(conda_envmod, kwargs, field):
    search = PackageSearch(conda_envmod)
    args: dict[str, Any] = {"query": "numpy", "engine": "rattler", **kwargs}
    with pytest.raises(InvalidInput) as info:
        await search.search(args.pop("query"), **args)
    assert info.value.details["field"] == field
    assert "use " in info.value.message or "give " in info.value.message  # says what is accepted
    assert search._sources == {}  # nothing was started


async def test_accepted_edge_inputs(conda_envmod):
    search = PackageSearch(conda_envmod)
    for query in ("a", "A" * 100, "x.y_z-1"):
        assert (await search.search(query, engine="rattler", limit=500))["query"] == query
    assert (await search.search("a", engine="rattler", limit=1, channels=[]))["engine"] == "rattler"
    await search.wait_loaded()


def test_import_is_cheap():
    code = (
        "import sys, jupyter_envmod.pkgsearch\n"
        "slow = [m for m in ('rattler', 'urllib.request', 'jupyter_envmod.config', 'tornado') if m in sys.modules]\n"
        "assert not slow, slow\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- venv: a local index and a real uv cache ----------------------------------------------------


def make_wheel(directory: Path, name: str, version: str, requires: list[str]) -> str:
    """A minimal valid wheel (METADATA, WHEEL, RECORD and one module) written with zipfile."""
    dist = name.replace("-", "_").replace(".", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{dist.lower()}.py": b"VALUE = 1\n",
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envmod-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }

    def record_line(path: str, data: bytes) -> str:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"{path},sha256={digest},{len(data)}"

    record = [record_line(p, d) for p, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    filename = f"{dist.lower()}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(directory / filename, "w") as wheel:
        for path, data in files.items():
            wheel.writestr(path, data)
    return filename


#: the index's projects: name as published → (wheel requirements, or None: listed only)
PROJECTS: dict[str, list[str] | None] = {
    "Envmod_Probe": ["envmod-dep"],
    "envmod-dep": [],
    "Envmod.Listed_Only": None,
    "zebra": None,
}
#: what the PEP 691 JSON root lists beyond the HTML one (proves which form was read)
JSON_ONLY = "envmod-json-only"


class _IndexHandler(http.server.SimpleHTTPRequestHandler):
    """Static files under ``/simple/`` (PEP 503 HTML, with Content-Length); ``/json/``:
    the root as PEP 691 JSON when asked for it (no Content-Length, the body ends with
    the connection); ``/auth/``: the HTML root behind basic auth (user ``u``,
    password ``p@ss``)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path == "/json/":
            if "application/vnd.pypi.simple.v1+json" not in self.headers.get("Accept", ""):
                self.send_error(406)
                return
            names = [*PROJECTS, JSON_ONLY]
            body = json.dumps({"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]})
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.end_headers()
            self.wfile.write(body.encode())
            return
        if self.path == "/auth/":
            expected = "Basic " + base64.b64encode(b"u:p@ss").decode()
            if self.headers.get("Authorization") != expected:
                self.send_error(401)
                return
            self.path = "/simple/"
        super().do_GET()


@dataclass(frozen=True)
class LocalIndex:
    url: str
    root: Path
    #: EnvMod.cache_dir whose uv/ a real ``uv pip install Envmod_Probe`` filled
    cache_dir: Path

    def envmod(self, **traits: Any) -> EnvMod:
        traits.setdefault("cache_dir", str(self.cache_dir))
        traits.setdefault("pip_index_url", f"{self.url}/simple/")
        return EnvMod(**traits)


@pytest.fixture(scope="module")
def local_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    """A PEP 503 index of tiny wheels served by a thread, and a uv cache filled by
    installing ``Envmod_Probe`` (which needs ``envmod-dep``) from it into a throwaway venv."""
    base = tmp_path_factory.mktemp("pyindex")
    root = base / "www"
    simple = root / "simple"
    simple.mkdir(parents=True)
    for name, requires in PROJECTS.items():
        project = simple / normalize_name(name)
        project.mkdir()
        links = ""
        if requires is not None:
            wheel = make_wheel(project, name, "0.1.0", requires)
            links = f'<a href="{wheel}">{wheel}</a>'
        (project / "index.html").write_text(f"<!DOCTYPE html><html><body>{links}</body></html>")
    anchors = "".join(f'<a href="{normalize_name(n)}/">{n}</a><br/>\n' for n in PROJECTS)
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{anchors}</body></html>")

    handler = functools.partial(_IndexHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        cache_dir = base / "cache"
        (cache_dir / "uv").mkdir(parents=True, mode=0o700)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PIP_"))}
        env["UV_CACHE_DIR"] = str(cache_dir / "uv")
        venv = base / "venv"
        subprocess.run(
            [uv_bin(), "venv", "--quiet", "--no-config", "--python", sys.executable, str(venv)], env=env, check=True
        )
        install = ["pip", "install", "--quiet", "--no-config", "--python", str(venv / "bin" / "python")]
        subprocess.run([uv_bin(), *install, "--index-url", f"{url}/simple/", "Envmod_Probe"], env=env, check=True)
        yield LocalIndex(url=url, root=root, cache_dir=cache_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_uv_cache_layout_holds_the_installed_projects(local_index):
    """What uv wrote (wheels-v*/index/<hash>/<name>/, simple-v*/index/<hash>/<name>.rkyv),
    read back by directory listings only."""
    uv = local_index.cache_dir / "uv"
    wheels = [p.relative_to(uv).parts for p in uv.glob("wheels-v*/index/*/*") if p.is_dir()]
    assert sorted(parts[-1] for parts in wheels) == ["envmod-dep", "envmod-probe"]
    pages = sorted(p.name for p in uv.glob("simple-v*/index/*/*.rkyv"))
    assert pages == ["envmod-dep.rkyv", "envmod-probe.rkyv"]
    assert scan_uv_cache(uv) == ["envmod-dep", "envmod-probe"]
    assert scan_uv_cache(uv / "missing") == []


async def test_venv_names_from_the_uv_cache_and_the_index(local_index):
    envmod = local_index.envmod()
    search = PackageSearch(envmod)
    first = await search.search("envmod", engine="venv")
    cache, index = str(local_index.cache_dir / "uv"), f"{local_index.url}/simple/"
    assert [(s["source"], s["kind"], s["state"]) for s in first["sources"]] == [
        (cache, "uv-cache", "loading"),
        (index, "index", "loading"),
    ]
    assert (first["names"], first["complete"]) == ([], False)

    await search.wait_loaded()
    result = await search.search("envmod", engine="venv")
    assert result["complete"] is True
    assert result["names"] == ["envmod-dep", "envmod-listed-only", "envmod-probe"]
    counts = {s["kind"]: s["count"] for s in result["sources"]}
    assert counts == {"uv-cache": 2, "index": len(PROJECTS)}
    # query and names compared in PEP 503 form
    assert (await search.search("Envmod_PRO", engine="venv"))["names"] == ["envmod-probe"]
    # names starting with the query first, then names containing it; at most limit
    everything = ["envmod-dep", "envmod-listed-only", "envmod-probe", "zebra"]
    assert (await search.search("e", engine="venv"))["names"] == everything
    assert (await search.search("e", engine="venv", limit=3))["names"] == everything[:3]
    assert (await search.search("b", engine="venv"))["names"] == ["envmod-probe", "zebra"]
    # channels are checked but mean nothing to venv
    assert (await search.search("zeb", engine="venv", channels=["conda-forge"]))["names"] == ["zebra"]


async def test_uv_cache_defaults(local_index, tmp_path, monkeypatch):
    """Without EnvMod.cache_dir: $UV_CACHE_DIR, else $XDG_CACHE_HOME/uv, else ~/.cache/uv."""
    uv = local_index.cache_dir / "uv"
    monkeypatch.setenv("UV_CACHE_DIR", str(uv))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    envmod = local_index.envmod(cache_dir="")
    assert uv_cache_dir(envmod) == uv
    monkeypatch.delenv("UV_CACHE_DIR")
    assert uv_cache_dir(envmod) == tmp_path / "xdg" / "uv"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert uv_cache_dir(envmod) == tmp_path / "home" / ".cache" / "uv"

    (tmp_path / "home" / ".cache").mkdir(parents=True)
    (tmp_path / "home" / ".cache" / "uv").symlink_to(uv)
    search = PackageSearch(envmod)
    await search.search("probe", engine="venv")
    await search.wait_loaded()
    result = await search.search("probe", engine="venv")
    assert result["names"] == ["envmod-probe"]
    assert by_source(result)[str(tmp_path / "home" / ".cache" / "uv")]["count"] == 2

    # no cache at all yet: ready, empty
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "nocache"))
    search = PackageSearch(envmod)
    await search.search("probe", engine="venv")
    await search.wait_loaded()
    empty = by_source(await search.search("probe", engine="venv"))[str(tmp_path / "nocache")]
    assert (empty["state"], empty["count"]) == ("ready", 0)
    assert not (tmp_path / "nocache").exists()


def test_index_url_defaults(monkeypatch):
    monkeypatch.delenv("UV_DEFAULT_INDEX", raising=False)
    monkeypatch.delenv("UV_INDEX_URL", raising=False)
    assert index_url(EnvMod()) == PYPI_SIMPLE
    monkeypatch.setenv("UV_INDEX_URL", "https://old.example/simple")
    assert index_url(EnvMod()) == "https://old.example/simple"
    monkeypatch.setenv("UV_DEFAULT_INDEX", "https://new.example/simple")
    assert index_url(EnvMod()) == "https://new.example/simple"
    assert index_url(EnvMod(pip_index_url="https://site.example/simple")) == "https://site.example/simple"


async def test_pypi_listing_is_never_fetched(local_index):
    """PyPI's project list is tens of MB: with PyPI as the index only the uv cache is
    searched, and the answer is complete once the cache is scanned."""
    search = PackageSearch(local_index.envmod(pip_index_url="https://pypi.org/simple/"))
    await search.search("probe", engine="venv")
    await search.wait_loaded()
    result = await search.search("probe", engine="venv")
    assert [s["kind"] for s in result["sources"]] == ["uv-cache"]
    assert result["complete"] is True


async def test_index_listing_as_pep691_json(local_index):
    search = PackageSearch(local_index.envmod(pip_index_url=f"{local_index.url}/json/"))
    await search.search("only", engine="venv")
    await search.wait_loaded()
    result = await search.search("only", engine="venv")
    assert result["names"] == ["envmod-json-only", "envmod-listed-only"]
    assert by_source(result)[f"{local_index.url}/json/"]["count"] == len(PROJECTS) + 1


async def test_index_with_credentials_does_not_show_them(local_index):
    host = local_index.url.removeprefix("http://")
    search = PackageSearch(local_index.envmod(pip_index_url=f"http://u:p%40ss@{host}/auth"))
    await search.search("zebra", engine="venv")
    await search.wait_loaded()
    result = await search.search("zebra", engine="venv")
    assert result["names"] == ["zebra"]
    assert [s["source"] for s in result["sources"]][1] == f"http://{host}/auth"
    assert "p%40ss" not in json.dumps(result)


async def test_index_without_a_listing_fails_and_the_cache_answers(local_index):
    search = PackageSearch(local_index.envmod(pip_index_url=f"{local_index.url}/nothing/"))
    await search.search("probe", engine="venv")
    await search.wait_loaded()
    result = await search.search("probe", engine="venv")
    assert (result["names"], result["complete"]) == (["envmod-probe"], False)
    failed = result["sources"][1]
    assert failed["state"] == "failed"
    assert "404" in failed["error"]


@pytest.mark.parametrize("path", ["simple/", "json/"])
async def test_index_listing_over_the_size_cap(local_index, path):
    """/simple/ says its size up front (Content-Length); /json/ does not (read until the cap)."""
    search = PackageSearch(local_index.envmod(pip_index_url=f"{local_index.url}/{path}"))
    search.index_max_bytes = 100
    await search.search("probe", engine="venv")
    await search.wait_loaded()
    result = await search.search("probe", engine="venv")
    assert result["names"] == ["envmod-probe"]
    cache, index = result["sources"]
    assert cache["state"] == "ready"
    assert (index["state"], index["count"]) == ("failed", 0)
    assert "larger than 0.0001 MB" in index["error"]
    # too large is not retried after the short back-off, only after the cache lifetime
    search.retry_after = 0
    assert (await search.search("probe", engine="venv"))["sources"][1]["state"] == "failed"


async def test_index_listing_from_a_file_url(local_index):
    """A simple index laid out in a directory (file://): its index.html is read."""
    url = (local_index.root / "simple").as_uri()
    search = PackageSearch(local_index.envmod(pip_index_url=url))
    await search.search("listed", engine="venv")
    await search.wait_loaded()
    result = await search.search("listed", engine="venv")
    assert (result["names"], result["complete"]) == (["envmod-listed-only"], True)
    assert by_source(result)[url]["count"] == len(PROJECTS)
