"""The site file: the drop-in ``jupyter_server_config.d/jupyter_envmod_site.json``
holding the answers that differ from the built-in defaults. :func:`write_site` checks
the answers, renders the site file and the samples, loads each back, writes them all
atomically, then loads the site file back from its configuration directory."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic_write import write_atomically
from ..errors import ConfigError, InvalidInput, OperationFailed
from .answers import (
    answer_warnings,
    answers_to_traits,
    builtin_defaults,
    check_answers,
    problem_of,
    stand_in_variables,
    unset_variables,
)
from .questions import answers_error
from .samples import build_samples, load_sample, sample_warnings

if TYPE_CHECKING:
    from ..config import EnvMod

SITE_FILE = "jupyter_envmod_site.json"
DROPIN_DIR = "jupyter_server_config.d"


def build_site_config(answers: Mapping[str, Any]) -> dict[str, Any]:
    """``{"EnvMod": {...}}`` holding the answers that differ from EnvMod's built-in
    defaults, in question order. Built-in defaults stay out so that they keep
    following the user's environment ($CONDA_ENVS_PATH) and later releases."""
    builtin = builtin_defaults()
    traits = answers_to_traits(answers)
    return {"EnvMod": {trait: value for trait, value in traits.items() if value != builtin[trait]}}


def site_file_path(config_dir: str | Path) -> Path:
    return Path(config_dir) / DROPIN_DIR / SITE_FILE


def render_site_file(answers: Mapping[str, Any]) -> str:
    return json.dumps(build_site_config(answers), indent=2) + "\n"


def _load_site_dir(config_dir: str | Path) -> EnvMod:
    from ..config import load_envmod

    return load_envmod(config_paths=[str(config_dir)])


def _verify_site_text(text: str, answers: Mapping[str, Any]) -> None:
    """Load the site file from a private directory through load_envmod (EnvMod's
    validation runs) and compare: the file says what the answers say."""
    import tempfile

    expected = build_site_config(answers)["EnvMod"]
    with tempfile.TemporaryDirectory(prefix="envmod-site-init-") as tmp:
        path = site_file_path(tmp)
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        try:
            envmod = _load_site_dir(tmp)
        except ConfigError as err:
            raise answers_error([problem_of(p, answers) for p in err.problems]) from err
        loaded = {trait: json.loads(json.dumps(getattr(envmod, trait))) for trait in expected}
    if loaded != expected:
        raise OperationFailed(f"site-init: the site file did not load back as written: {loaded!r} != {expected!r}")


DEPLOY = {
    "site": (
        "Deploy: copy it into the jupyter_server_config.d/ folder of a config directory that "
        "`jupyter --paths` lists on the machines running users' servers, e.g. "
        "/etc/jupyter/jupyter_server_config.d/ or <prefix>/etc/jupyter/jupyter_server_config.d/ "
        "of the hub's single-user image. Settings in jupyter_server_config.py/.json override it."
    ),
    ".condarc": (
        "Deploy as /etc/conda/.condarc (read by every conda on the machine) or <conda root>/.condarc "
        "(one installation). Users' own ~/.condarc still adds to it."
    ),
    "pip.conf": (
        "Deploy as /etc/pip.conf or /etc/xdg/pip/pip.conf (pip's global files; "
        "$XDG_CONFIG_DIRS/pip/pip.conf when that variable is set)."
    ),
    "uv.toml": (
        "Deploy as /etc/uv/uv.toml or $XDG_CONFIG_DIRS/uv/uv.toml (default /etc/xdg/uv/uv.toml); uv "
        "reads only the first system file it finds, the XDG one first."
    ),
}
CHECK_ADVICE = (
    "Check as a user, with the environment their servers get: jupyter envmod site, then jupyter envmod doctor."
)


@dataclass
class WrittenFile:
    path: Path
    kind: str  # "site", ".condarc", "pip.conf" or "uv.toml"
    deploy: str

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "kind": self.kind, "deploy": self.deploy}


@dataclass
class SiteInitResult:
    files: list[WrittenFile]
    warnings: list[str]
    errors: list[str]  # found when loading the written site file back from its directory


def target_files(config_dir: str | Path, samples_dir: str | Path | None = None) -> list[Path]:
    paths = [site_file_path(config_dir)]
    if samples_dir is not None:
        paths += [Path(samples_dir) / name for name in (".condarc", "pip.conf", "uv.toml")]
    return paths


def existing_files(config_dir: str | Path, samples_dir: str | Path | None = None) -> list[Path]:
    return [p for p in target_files(config_dir, samples_dir) if os.path.lexists(p)]


def write_site(
    answers: Mapping[str, Any],
    config_dir: str | Path,
    *,
    samples_dir: str | Path | None = None,
    force: bool = False,
) -> SiteInitResult:
    """Check the answers, render every file, parse each back, then write them all
    atomically and load the site file back from ``config_dir``. A rejected answer,
    or a file that exists without ``force``, raises :class:`InvalidInput` before
    anything is written."""
    problems = check_answers(answers)
    if problems:
        raise answers_error(problems)
    config_dir = Path(config_dir).absolute()
    site_text = render_site_file(answers)
    with stand_in_variables(unset_variables(answers)):
        _verify_site_text(site_text, answers)
    files: list[tuple[Path, str, str]] = [(site_file_path(config_dir), site_text, "site")]
    if samples_dir is not None:
        samples_dir = Path(samples_dir).absolute()
        if samples_dir.exists() and not samples_dir.is_dir():
            raise InvalidInput(
                f"--samples {str(samples_dir)!r}: not a directory. Nothing was written.", details={"field": "--samples"}
            )
        for sample in build_samples(answers):
            loaded = load_sample(sample.name, sample.text)
            if any(loaded.get(k) != v for k, v in sample.expected.items()):
                raise OperationFailed(f"site-init: {sample.name} did not load back as written: {loaded!r}")
            files.append((samples_dir / sample.name, sample.text, sample.name))
    existing = [path for path, _, _ in files if os.path.lexists(path)]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise InvalidInput(
            f"{names} already exist{'s' if len(existing) == 1 else ''}; pass --force to replace. Nothing was written.",
            details={"field": "--force", "files": [str(p) for p in existing]},
        )
    written: list[WrittenFile] = []
    for path, text, kind in files:
        try:
            write_atomically(path, text, mode=0o644)
        except OSError as err:
            raise OperationFailed(f"site-init: cannot write {path}: {err.strerror or err}") from err
        written.append(WrittenFile(path, kind, DEPLOY[kind]))
    warnings = answer_warnings(answers)
    if samples_dir is not None:
        warnings += sample_warnings(answers)
    return SiteInitResult(written, warnings, _load_back(config_dir, answers))


def _load_back(config_dir: Path, answers: Mapping[str, Any]) -> list[str]:
    """Load the configuration of ``config_dir`` as the server would (with the site
    file in place) and say what does not match: another file there may override it."""
    written = build_site_config(answers)["EnvMod"]
    with stand_in_variables(unset_variables(answers)):
        try:
            envmod = _load_site_dir(config_dir)
        except ConfigError as err:
            return [f"The configuration in {config_dir} is invalid as a whole with the new file:\n{err.message}"]
        errors = []
        for trait, value in written.items():
            loaded = json.loads(json.dumps(getattr(envmod, trait)))
            if loaded != value:
                errors.append(
                    f"EnvMod.{trait} loads as {loaded!r}, not {value!r}: another configuration file in "
                    f"{config_dir} overrides it (jupyter_server_config.py/.json win over drop-in files)."
                )
    return errors
