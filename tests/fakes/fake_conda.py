#!/usr/bin/env python3
"""A fake ``conda`` / ``micromamba`` executable for the conda engine's tests.

No conda, mamba or micromamba executable can be installed where these tests run (no
conda channel is reachable, and PyPI's ``conda`` is a 2017 sdist that does not
build), so this script reproduces their DOCUMENTED ``--json`` behaviour instead, as
read in their sources:

conda (file name ``conda`` or anything not starting with ``micromamba``/``mamba``)
    * success (cli/install.py ``handle_txn`` + cli/common.py ``stdout_json_success``):
      ``{"actions": {"FETCH": [records], "LINK": [...], "PREFIX": p, "UNLINK": [...]},
      "prefix": p, "success": true}``, ``"dry_run": true`` added for ``--dry-run``; a
      key of ``actions`` is only present when it has entries (``defaultdict(list)``);
      ``json.dumps(indent=2, sort_keys=True)``. Nothing to do:
      ``{"message": "All requested packages already installed.", "success": true}``.
    * LINK/UNLINK entries are ``PackageRecord.dist_fields_dump()``: base_url,
      build_number, build_string, channel, dist_name, name, platform, version.
    * download progress (``JSONProgressBar``): ``{"fetch":"…","finished":false,
      "maxval":1,"progress":0.000000}\\n\\0`` lines before the result.
    * errors (exception_handler ``print_conda_exception`` + ``CondaError.dump_map``),
      on stdout, exit code 1: caused_by, error, exception_name, exception_type,
      message plus the exception's own fields (PackagesNotFoundError: packages,
      channel_urls, …). The libmamba solver (the default since conda 23.10) raises
      LibMambaUnsatisfiableError for conflicts and missing versions and
      PackagesNotFoundError for names no channel has.
    * ``create`` into an existing directory without conda-meta/ continues (after the
      "continue creating environment" question, answered by ``--yes``); into an
      existing environment it deletes the whole prefix first (cli/main_create.py).
    * ``update --all`` (``--update-all``) updates every installed package within the
      last spec the history recorded for it.
    * ``install``/``update``/``remove`` need conda-meta/history
      (DirectoryNotACondaEnvironmentError, EnvironmentLocationNotFound); ``update``
      takes installed names only (PackageNotInstalledError); ``remove`` of a name
      that is not installed is PackagesNotFoundError.
    * ``--file`` with ``@EXPLICIT`` (misc.py ``explicit``): no solve, no JSON result
      (only progress lines), nothing at all for ``--dry-run`` (DryRunExit);
      ``url#<32 hex md5>`` or, since conda 24.9, ``url#<64 hex sha256>``; anything
      else is ParseError.

micromamba (file name starting with ``micromamba`` or ``mamba``)
    * result (libmamba transaction.cpp ``log_json``/``execute``), one document,
      ``dump(4)`` with sorted keys: ``{"actions": {"FETCH", "LINK", "UNLINK",
      "PREFIX"}, "dry_run": …, "prefix": …, "success": true}``; entries are full
      package records (specs/package_info.cpp ``to_json``: name, version, build,
      build_string, build_number, channel, url, subdir, fn, md5, sha256, depends, …);
      nothing to do adds ``"message": "All requested packages already installed"``.
    * unsolvable (api/install.cpp): ``{"success": false, "solver_problems": [...]}``
      on stdout, ``error``/``critical libmamba Could not solve for environment
      specs`` on stderr, exit code 1. Other errors (main.cpp): only
      ``critical libmamba <message>`` on stderr, exit code 1.
    * ``create`` (api/create.cpp): an existing empty directory is used; one with
      conda-meta/ is deleted after "Overwrite?" (``-y``); any other existing
      directory is "Non-conda folder exists at prefix - aborting.". ``install``,
      ``update`` and ``remove`` need conda-meta/ (configuration.cpp
      ``target_prefix_checks``: "Expected environment not found at prefix").
    * flags (common_options.cpp): ``-y/--yes``, ``--json``, ``--dry-run``,
      ``-p/--prefix``, ``-r/--root-prefix``, ``-c/--channel``,
      ``--override-channels``, ``--strict-channel-priority``, ``-f/--file``;
      ``remove`` takes no channel options (CLI11 "The following arguments were not
      expected", exit code 109); ``remove -f/--force``.

Non-dry runs really change the prefix: ``conda-meta/<name>-<version>-<build>.json``
records (with ``url``, ``md5``, ``sha256``, ``channel``, ``requested_spec``) and
``conda-meta/history`` entries, so the engine's ``packages()`` sees them. Packages
come from a small built-in index (python, pip, libzlib, numpy, requests, idna).

Environment variables:

``FAKE_CONDA_LOG``
    append one JSON line per call: ``argv``, the channel-priority and package-cache
    variables it saw, and the text of a ``--file`` argument.
``FAKE_CONDA_SLEEP`` / ``FAKE_CONDA_PIDFILE``
    write the pid, then sleep that many seconds before doing anything.
``FAKE_CONDA_SCENARIO``
    ``garbage`` (non-JSON text, exit 0), ``silent-fail`` (no output, exit 3),
    ``http-error`` (a network failure in each dialect's error format).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

INDEX: dict[str, list[tuple[str, str, list[str]]]] = {
    "python": [
        ("3.10.14", "hd12c33a_0_cpython", ["libzlib", "pip"]),
        ("3.11.9", "hb806964_0_cpython", ["libzlib", "pip"]),
        ("3.12.4", "h194c7f8_0_cpython", ["libzlib", "pip"]),
    ],
    "libzlib": [("1.3.1", "hb9d3cd8_2", [])],
    "pip": [("24.2", "pyh8b19718_1", ["python"])],
    "numpy": [("1.26.4", "py311h64a7726_0", ["python"]), ("2.0.2", "py311h71ddf71_1", ["python"])],
    "requests": [("2.32.3", "pyhd8ed1ab_0", ["python", "idna"])],
    "idna": [("3.8", "pyhd8ed1ab_0", ["python"])],
}
CONDA_VERSION = "24.9.2"
MICROMAMBA_VERSION = "2.0.5"
EXPLICIT_RE = re.compile(
    r"^(?P<url>\S+/(?P<fn>[^/#\s]+?(?:\.conda|\.tar\.bz2)))(?:#(?P<hash>[0-9a-f]{64}|[0-9a-f]{32}))?$"
)


def install_fake(directory: Path, name: str = "conda") -> Path:
    """Copy this script to ``directory/name``, executable, with a ``#!`` line for the
    Python running the tests. The file name picks the dialect."""
    body = Path(__file__).read_text(encoding="utf-8").split("\n", 1)[1]
    target = directory / name
    target.write_text(f"#!{sys.executable}\n{body}", encoding="utf-8")
    target.chmod(0o755)
    return target


# -- the fake ------------------------------------------------------------------------------


class Fake:
    def __init__(self, argv: list[str]):
        self.argv = argv
        self.exe = os.path.basename(argv[0])
        self.mamba = self.exe.startswith(("micromamba", "mamba"))
        self.json = False
        self.yes = False
        self.dry_run = False
        self.force = False
        self.update_all = False
        self.override = False
        self.strict = False
        self.prefix: Path | None = None
        self.channels: list[str] = []
        self.files: list[str] = []
        self.specs: list[str] = []
        self.command = ""

    # -- output -----------------------------------------------------------------------------
    def emit(self, doc: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(doc, indent=4 if self.mamba else 2, sort_keys=True) + "\n")
        sys.stdout.flush()

    def conda_error(
        self, name: str, message: str, rc: int = 1, module: str = "conda.exceptions", **extra: Any
    ) -> NoReturn:
        doc = {
            "caused_by": "None",
            "error": f"{name}: {message}",
            "exception_name": name,
            "exception_type": f"<class '{module}.{name}'>",
            "message": message,
            **extra,
        }
        self.emit(doc)
        sys.exit(rc)

    def mamba_critical(self, message: str, *errors: str) -> NoReturn:
        for line in errors:
            sys.stderr.write(f"error    libmamba {line}\n")
        sys.stderr.write(f"critical libmamba {message}\n")
        sys.exit(1)

    def fail(self, message: str, name: str = "CondaError") -> NoReturn:
        if self.mamba:
            self.mamba_critical(message)
        self.conda_error(name, message)

    # -- arguments ----------------------------------------------------------------------------
    def parse(self) -> None:
        args = self.argv[1:]
        if not args:
            self.fail("no command given")
        self.command = args.pop(0)
        if self.command not in ("create", "install", "update", "remove"):
            self.fail(f"the fake does not implement {self.command!r}")
        unexpected: list[str] = []
        valued = {"-p", "--prefix", "-c", "--channel", "--file"}
        if self.mamba:
            valued |= {"-r", "--root-prefix"} | (set() if self.command == "remove" else {"-f"})
        force_flags = ("--force", "-f") if self.mamba else ("--force",)
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in valued:
                if i + 1 >= len(args):
                    self.fail(f"argument {arg}: expected one argument", "ArgumentError")
                value = args[i + 1]
                i += 2
                if arg in ("-p", "--prefix"):
                    self.prefix = Path(value)
                elif arg in ("-c", "--channel"):
                    if self.mamba and self.command == "remove":
                        unexpected += [arg, value]
                    self.channels.append(value)
                elif arg in ("--file", "-f"):
                    self.files.append(value)
                continue
            i += 1
            if arg == "--json":
                self.json = True
            elif arg in ("-y", "--yes"):
                self.yes = True
            elif arg == "--dry-run":
                self.dry_run = True
            elif arg in ("-q", "--quiet"):
                pass
            elif arg in ("--override-channels", "--strict-channel-priority"):
                if self.mamba and self.command == "remove":
                    unexpected.append(arg)
                self.override = self.override or arg == "--override-channels"
                self.strict = self.strict or arg == "--strict-channel-priority"
            elif arg in force_flags and self.command == "remove":
                self.force = True
            elif self.command == "update" and arg in (("--all", "-a") if self.mamba else ("--all", "--update-all")):
                self.update_all = True
            elif arg.startswith("-"):
                unexpected.append(arg)
            else:
                self.specs.append(arg)
        if unexpected:
            if self.mamba:
                sys.stderr.write(f"The following arguments were not expected: {' '.join(unexpected)}\n")
                sys.stderr.write("Run with --help for more information.\n")
                sys.exit(109)
            self.conda_error("ArgumentError", f"unrecognized arguments: {' '.join(unexpected)}", rc=2)
        if self.prefix is None:
            self.fail("the fake needs -p PREFIX")
        if not self.json:
            print("The fake conda only speaks --json.\nProceed ([y]/n)?")
            sys.exit(1)

    # -- packages -------------------------------------------------------------------------------
    @property
    def channel(self) -> str:
        return self.channels[0] if self.channels else "conda-forge"

    @property
    def base_url(self) -> str:
        ch = self.channel.rstrip("/")
        return ch if "://" in ch else f"https://conda.anaconda.org/{ch}"

    def record(
        self, name: str, version: str, build: str, depends: list[str], url: str | None = None, digest: str | None = None
    ) -> dict[str, Any]:
        subdir = "noarch" if build.startswith("pyh") else "linux-64"
        fn = f"{name}-{version}-{build}.conda"
        url = url or f"{self.base_url}/{subdir}/{fn}"
        seed = f"{name}-{version}-{build}".encode()
        md5 = hashlib.md5(seed, usedforsecurity=False).hexdigest()
        sha256 = hashlib.sha256(seed).hexdigest()
        if digest and len(digest) == 32:
            md5 = digest
        elif digest:
            sha256 = digest
        channel_url = url.rsplit("/", 2)[0]
        return {
            "build": build,
            "build_number": int(build.rsplit("_", 1)[-1]) if build.rsplit("_", 1)[-1].isdigit() else 0,
            "channel": f"{channel_url}/{subdir}",
            "constrains": [],
            "depends": list(depends),
            "fn": url.rsplit("/", 1)[-1],
            "license": "BSD-3-Clause",
            "md5": md5,
            "name": name,
            "sha256": sha256,
            "size": 1234567,
            "subdir": subdir,
            "timestamp": 1718000000000,
            "url": url,
            "version": version,
        }

    def link_entry(self, rec: dict[str, Any]) -> dict[str, Any]:
        """What LINK/UNLINK hold for one package in this dialect."""
        if self.mamba:
            entry = {k: rec[k] for k in ("build", "build_number", "constrains", "depends", "fn", "license")}
            entry.update(
                {k: rec[k] for k in ("md5", "name", "sha256", "size", "subdir", "timestamp", "url", "version")}
            )
            entry.update(build_string=rec["build"], channel=rec["channel"].rsplit("/", 1)[0], track_features="")
            return entry
        channel_url = rec["channel"].rsplit("/", 1)[0]
        return {
            "base_url": channel_url,
            "build_number": rec["build_number"],
            "build_string": rec["build"],
            "channel": channel_url.rsplit("/", 1)[-1],
            "dist_name": f"{rec['name']}-{rec['version']}-{rec['build']}",
            "name": rec["name"],
            "platform": rec["subdir"],
            "version": rec["version"],
        }

    def installed(self) -> dict[str, dict[str, Any]]:
        assert self.prefix is not None
        found = {}
        meta = self.prefix / "conda-meta"
        if meta.is_dir():
            for path in meta.glob("*.json"):
                rec = json.loads(path.read_text(encoding="utf-8"))
                found[rec["name"]] = rec
        return found

    # -- the solver --------------------------------------------------------------------------------
    @staticmethod
    def split_spec(spec: str) -> tuple[str, str]:
        spec = spec.split("::", 1)[-1]
        match = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
        if not match:
            return spec, ""
        return match.group(1).lower(), match.group(2).strip()

    @staticmethod
    def version_matches(version: str, constraint: str) -> bool:
        def key(v: str) -> tuple[int, ...]:
            return tuple(int(x) for x in re.findall(r"\d+", v))

        compare = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            ">=": lambda a, b: key(a) >= key(b),
            "<=": lambda a, b: key(a) <= key(b),
            ">": lambda a, b: key(a) > key(b),
            "<": lambda a, b: key(a) < key(b),
            # conda's "=1.26" (and a bare "1.26"): that version or any 1.26.*
            "=": lambda a, b: a == b or a.startswith(b + "."),
        }
        for part in filter(None, (p.strip() for p in constraint.split(","))):
            op = next((o for o in compare if part.startswith(o)), "=")
            target = part[len(op) :].strip() if part.startswith(op) else part
            if op == "=":
                target = target.split("=")[0].removesuffix("*").removesuffix(".")
            if not compare[op](version, target):
                return False
        return True

    def unsolvable(self, missing: list[str], conflicts: list[str]) -> NoReturn:
        if self.mamba:
            problems = [f"nothing provides requested {s}" for s in missing] + [
                f"package {s} cannot be installed together with the other requested versions" for s in conflicts
            ]
            self.emit({"solver_problems": problems, "success": False})
            detail = [f"    └─ {s} does not exist (perhaps a typo or a missing channel)." for s in missing + conflicts]
            self.mamba_critical(
                "Could not solve for environment specs",
                "Could not solve for environment specs\n    The following packages are incompatible\n"
                + "\n".join(detail),
            )
        unknown = [s for s in missing if self.split_spec(s)[0] not in INDEX]
        if unknown:
            formatted = "\n".join(f"  - {s}" for s in unknown)
            urls = [f"{self.base_url}/linux-64", f"{self.base_url}/noarch"]
            channels = f"  - {self.base_url}"
            self.conda_error(
                "PackagesNotFoundError",
                "The following packages are not available from current channels:\n\n"
                f"{formatted}\n\nCurrent channels:\n\n{channels}\n\n"
                "To search for alternate channels that may provide the conda package you're\n"
                "looking for, navigate to\n\n    https://anaconda.org\n\n"
                "and use the search bar at the top of the page.\n",
                packages=unknown,
                packages_formatted=formatted,
                channel_urls=urls,
                channels_formatted=channels,
            )
        lines = [f"├─ {s} is requested and can be installed;" for s in conflicts[:-1]]
        lines += [f"└─ {s} does not exist (perhaps a typo or a missing channel)." for s in missing]
        if conflicts:
            lines.append(f"└─ {conflicts[-1]} is not installable because it conflicts with any installable versions")
        self.conda_error(
            "LibMambaUnsatisfiableError",
            "Could not solve for environment specs\nThe following packages are incompatible\n" + "\n".join(lines),
            module="conda_libmamba_solver.exceptions",
        )

    def solve(self, specs: list[str], installed: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The package set after installing/updating ``specs`` (name -> record)."""
        wanted: dict[str, list[str]] = {}
        for spec in specs:
            name, constraint = self.split_spec(spec)
            wanted.setdefault(name, []).append(constraint)
        missing = [s for s in specs if self.split_spec(s)[0] not in INDEX]
        conflicts: list[str] = []
        final = dict(installed)
        for name, constraints in wanted.items():
            if name not in INDEX:
                continue
            candidates = [c for c in INDEX[name] if all(self.version_matches(c[0], k) for k in constraints)]
            if not candidates:
                spec_texts = [s for s in specs if self.split_spec(s)[0] == name]
                (conflicts if len(constraints) > 1 else missing).extend(spec_texts)
                continue
            current = installed.get(name)
            keep = (
                self.command == "install"
                and current is not None
                and any(c[0] == current["version"] and c[1] == current["build"] for c in candidates)
            )
            if not keep:
                version, build, depends = candidates[-1]
                final[name] = self.record(name, version, build, depends)
        if missing or conflicts:
            self.unsolvable(missing, conflicts)
        queue = list(final)
        while queue:
            for dep in final[queue.pop()]["depends"]:
                dep_name = self.split_spec(dep)[0]
                if dep_name not in final and dep_name in INDEX:
                    version, build, depends = INDEX[dep_name][-1]
                    final[dep_name] = self.record(dep_name, version, build, depends)
                    queue.append(dep_name)
        return final

    # -- prefix checks ---------------------------------------------------------------------------
    def check_prefix(self) -> None:
        assert self.prefix is not None
        prefix = self.prefix
        if self.command == "create":
            if self.dry_run or not prefix.exists():
                if not self.mamba and self.dry_run and (prefix / "conda-meta" / "history").is_file():
                    self.conda_error("CondaValueError", "Cannot `create --dry-run` with an existing conda environment")
                return
            if self.mamba:
                if not prefix.is_dir():
                    self.mamba_critical("Target prefix already exists and is not a folder - aborting.")
                if not any(prefix.iterdir()):
                    sys.stderr.write("warning  libmamba Using existing empty folder as target prefix\n")
                elif (prefix / "conda-meta").exists():
                    if not self.yes:
                        self.mamba_critical("Aborting.")
                    shutil.rmtree(prefix)  # "Found conda-prefix at …. Overwrite?" answered by -y
                else:
                    message = "Non-conda folder exists at prefix - aborting."
                    self.mamba_critical(message, message)
            elif (prefix / "conda-meta" / "history").is_file():
                if not self.yes:
                    self.conda_error("CondaSystemExit", "Exiting.")
                shutil.rmtree(prefix)  # "Remove existing environment?" answered by --yes
            return
        if self.mamba:
            if not prefix.exists():
                self.mamba_critical("Aborting.", f"No prefix found at: {prefix}")
            if not (prefix / "conda-meta").exists():
                self.mamba_critical("Aborting.", f"Expected environment not found at prefix: {prefix}")
            return
        if not prefix.is_dir():
            self.conda_error("EnvironmentLocationNotFound", f"Not a conda environment: {prefix}", location=str(prefix))
        if not (prefix / "conda-meta" / "history").is_file() and any(prefix.iterdir()):
            self.conda_error(
                "DirectoryNotACondaEnvironmentError",
                "The target directory exists, but it is not a conda environment.\n"
                "Use 'conda create' to convert the directory to a conda environment.\n"
                f"  target directory: {prefix}\n",
                target_directory=str(prefix),
            )

    # -- the transaction ---------------------------------------------------------------------------
    def transaction(
        self,
        before: dict[str, dict[str, Any]],
        after: dict[str, dict[str, Any]],
        requested: list[str],
        *,
        explicit: bool = False,
    ) -> None:
        assert self.prefix is not None
        unlink = [r for n, r in sorted(before.items()) if n not in after or after[n]["fn"] != r["fn"]]
        link = [r for n, r in sorted(after.items()) if n not in before or before[n]["fn"] != r["fn"]]
        prefix = str(self.prefix)
        if not unlink and not link:
            if self.mamba:
                self.emit(
                    {
                        "dry_run": self.dry_run,
                        "message": "All requested packages already installed",
                        "prefix": prefix,
                        "success": True,
                    }
                )
            elif not explicit:
                self.emit({"message": "All requested packages already installed.", "success": True})
            return
        actions: dict[str, Any] = {"PREFIX": prefix}
        if link:
            actions["FETCH"] = [self.link_entry(r) if self.mamba else r for r in link]
            actions["LINK"] = [self.link_entry(r) for r in link]
        if unlink:
            actions["UNLINK"] = [self.link_entry(r) for r in unlink]
        doc: dict[str, Any] = {"actions": actions, "prefix": prefix, "success": True}
        if self.dry_run:
            if explicit and not self.mamba:
                return  # DryRunExit: conda prints nothing for an explicit dry run
            doc["dry_run"] = True
            self.emit(doc)
            return
        if self.mamba:
            doc["dry_run"] = False
        else:
            for rec in link:  # JSONProgressBar, one per downloaded package
                desc = f"{rec['name']}-{rec['version']:<12} | 1.2 MB    | "
                sys.stdout.write(f'{{"fetch":"{desc}","finished":false,"maxval":1,"progress":0.000000}}\n\0')
                sys.stdout.write(f'{{"fetch":"{desc}","finished":true,"maxval":1,"progress":1}}\n\0')
        meta = self.prefix / "conda-meta"
        meta.mkdir(parents=True, exist_ok=True)
        for rec in unlink:
            (meta / f"{rec['name']}-{rec['version']}-{rec['build']}.json").unlink(missing_ok=True)
        requested_names = {self.split_spec(s)[0]: s for s in requested}
        for rec in link:
            data = {
                **rec,
                "requested_spec": requested_names.get(rec["name"], ""),
                "files": [],
                "paths_data": {"paths": [], "paths_version": 1},
                "link": {"source": f"/fake/pkgs/{rec['name']}-{rec['version']}-{rec['build']}", "type": 1},
            }
            path = meta / f"{rec['name']}-{rec['version']}-{rec['build']}.json"
            path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tool = f"# conda version: {MICROMAMBA_VERSION if self.mamba else CONDA_VERSION}"
        lines = [time.strftime("==> %Y-%m-%d %H:%M:%S <=="), "# cmd: " + " ".join(self.argv), tool]
        lines += [f"-{r['channel']}::{r['name']}-{r['version']}-{r['build']}" for r in unlink]
        lines += [f"+{r['channel']}::{r['name']}-{r['version']}-{r['build']}" for r in link]
        kind = "remove" if self.command == "remove" else "update"
        lines.append(f"# {kind} specs: {json.dumps(requested) if self.mamba else repr(requested)}")
        with open(meta / "history", "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        if not (explicit and not self.mamba):  # conda's explicit() prints no result
            self.emit(doc)

    # -- commands -------------------------------------------------------------------------------------
    def run(self) -> None:
        self.parse()
        self.check_prefix()
        before = self.installed()
        explicit = self.read_files()
        if explicit is not None:
            self.explicit(before, explicit)
            return
        if self.command == "remove":
            self.remove(before)
            return
        if self.update_all:
            self.specs = self.history_specs(before)
        if self.command == "update" and not self.mamba and not self.update_all:
            for spec in self.specs:
                name, constraint = self.split_spec(spec)
                if constraint:
                    self.conda_error(
                        "CondaError", f"Invalid spec for 'conda update': {spec}\nUse 'conda install' instead."
                    )
                if name not in before:
                    self.conda_error(
                        "PackageNotInstalledError",
                        f"Package is not installed in prefix.\n  prefix: {self.prefix}\n  package name: {name}\n",
                        prefix=str(self.prefix),
                        package_name=name,
                    )
        after = self.solve(self.specs, before)
        self.transaction(before, after, self.specs)

    def history_specs(self, installed: dict[str, dict[str, Any]]) -> list[str]:
        """``update --all``: every installed package, limited by the last spec the
        history's ``# update specs:`` lines give for it (as conda keeps what was asked)."""
        last: dict[str, str] = {}
        history = self.prefix / "conda-meta" / "history" if self.prefix else None
        if history is not None and history.exists():
            for line in history.read_text(encoding="utf-8").splitlines():
                if line.startswith("# update specs: "):
                    for spec in ast.literal_eval(line[len("# update specs: ") :]):
                        last[self.split_spec(spec)[0]] = spec
        return [last.get(name, name) for name in sorted(installed)]

    def read_files(self) -> list[tuple[str, str, str | None]] | None:
        """(url, file name, hash) of an @EXPLICIT --file; its other lines become specs."""
        entries: list[tuple[str, str, str | None]] = []
        is_explicit = False
        for name in self.files:
            for raw in Path(name).read_text(encoding="utf-8").splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                if line == "@EXPLICIT":
                    is_explicit = True
                    continue
                if not is_explicit:
                    self.specs.append(line)
                    continue
                match = EXPLICIT_RE.match(line)
                if not match:
                    self.fail(f"Could not parse explicit URL: {line}", "ParseError")
                entries.append((match.group("url"), match.group("fn"), match.group("hash")))
        return entries if is_explicit else None

    def explicit(self, before: dict[str, dict[str, Any]], entries: list[tuple[str, str, str | None]]) -> None:
        after = dict(before)
        for url, fn, digest in entries:
            stem = fn.removesuffix(".conda").removesuffix(".tar.bz2")
            name, version, build = stem.rsplit("-", 2)
            after[name] = self.record(name, version, build, [], url=url, digest=digest)
        self.transaction(before, after, [e[0] for e in entries], explicit=True)

    def remove(self, before: dict[str, dict[str, Any]]) -> None:
        names = [self.split_spec(s)[0] for s in self.specs]
        absent = [n for n in names if n not in before]
        if absent and not self.mamba:
            self.conda_error(
                "PackagesNotFoundError",
                "The following packages are missing from the target environment:\n"
                + "\n".join(f"  - {n}" for n in absent),
                packages=absent,
            )
        gone = {n for n in names if n in before}
        changed = not self.force
        while changed:  # what depends on a removed package goes too
            changed = False
            for name, rec in before.items():
                if name not in gone and any(self.split_spec(d)[0] in gone for d in rec["depends"]):
                    gone.add(name)
                    changed = True
        after = {n: r for n, r in before.items() if n not in gone}
        self.transaction(before, after, self.specs)


def main(argv: list[str]) -> None:
    log = os.environ.get("FAKE_CONDA_LOG")
    if log:
        files = {}
        for i, arg in enumerate(argv[:-1]):
            if arg in ("--file", "-f") and os.path.isfile(argv[i + 1]):
                files[argv[i + 1]] = Path(argv[i + 1]).read_text(encoding="utf-8")
        keys = ("CONDA_PKGS_DIRS", "CONDA_CHANNEL_PRIORITY", "MAMBA_CHANNEL_PRIORITY")
        entry = {"argv": argv, "env": {k: os.environ.get(k) for k in keys}, "files": files}
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
    sleep = os.environ.get("FAKE_CONDA_SLEEP")
    if sleep:
        pidfile = os.environ.get("FAKE_CONDA_PIDFILE")
        if pidfile:
            Path(pidfile).write_text(str(os.getpid()), encoding="utf-8")
        time.sleep(float(sleep))
    scenario = os.environ.get("FAKE_CONDA_SCENARIO", "")
    fake = Fake(argv)
    if scenario == "garbage":
        print("Segmentation fault (core dumped)\n<html>not JSON at all</html>")
        return
    if scenario == "silent-fail":
        sys.exit(3)
    if scenario == "http-error":
        if fake.mamba:
            fake.mamba_critical(
                "Multiple errors occurred:\n    Download error (6) Couldn't resolve host name "
                "[https://conda.anaconda.org/conda-forge/linux-64/repodata.json]"
            )
        url = "https://conda.anaconda.org/conda-forge/linux-64/repodata.json"
        fake.conda_error(
            "CondaHTTPError",
            f"HTTP 000 CONNECTION FAILED for url <{url}>\nElapsed: -\n\nAn HTTP error occurred when trying to "
            "retrieve this URL.\nHTTP errors are often intermittent, and a simple retry will get you on your way.\n",
            url=url,
            status_code="000",
            reason="CONNECTION FAILED",
            elapsed="-",
        )
    fake.run()


if __name__ == "__main__":
    main(sys.argv)
