"""Spec parsing, validation and export (jupyter_envmod.specs); plain functions, no server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import rattler

from jupyter_envmod import specs
from jupyter_envmod.errors import InvalidInput
from jupyter_envmod.specs import (
    MAX_SPEC_BYTES,
    NAME_RE,
    EnvSpec,
    ExplicitEntry,
    check_channel,
    check_conda_spec,
    check_env_name,
    check_pip_requirement,
    check_python_version,
    detect_format,
    parse_spec_file,
    parse_spec_text,
    render_environment_yml,
    render_explicit,
    render_requirements,
)

SHA = hashlib.sha256(b"pkg").hexdigest()
MD5 = hashlib.md5(b"pkg").hexdigest()  # noqa: S324 - a test fixture, not security
URL = "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-hb9d3cd8_2.conda"
URL2 = "https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0c530f3_0.tar.bz2"


def rejects(func, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as excinfo:
        func(*args, **kwargs)
    assert excinfo.value.reason == "invalid-input"
    return excinfo.value


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- single values ------------------------------------------------------------


@pytest.mark.parametrize("name", ["a", "py311", "_x", "my-env.2_b", "A" * 64, "0abc"])
def test_env_name_accepted(name):
    assert check_env_name(name) == name
    assert NAME_RE.match(name)


@pytest.mark.parametrize("name", ["", "A" * 65, ".hidden", "-x", "a/b", "a b", "é", "a\n", "a:b", "../x"])
def test_env_name_rejected(name):
    err = rejects(check_env_name, name)
    assert err.details == {"field": "name"}
    assert repr(name) in err.message
    assert "64" in err.message
    assert not NAME_RE.match(name)


def test_env_name_field_and_length_are_reported():
    err = rejects(check_env_name, "x" * 65, field="env")
    assert err.details == {"field": "env"}
    assert "65 characters" in err.message


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("numpy", "numpy"),
        ("  numpy>=1.26 ", "numpy>=1.26"),
        ("numpy=1.26.4=py311h_0", "numpy=1.26.4=py311h_0"),
        ("conda-forge::numpy", "conda-forge::numpy"),
        ("python 3.11.*", "python 3.11.*"),
    ],
)
def test_conda_spec_accepted(spec, expected):
    assert check_conda_spec(spec) == expected


@pytest.mark.parametrize("spec", ["-c", "--foo", " -c conda-forge", "", "   ", "numpy\nscipy", "numpy==", "numpy;x", 5])
def test_conda_spec_rejected(spec):
    err = rejects(check_conda_spec, spec)
    assert err.details == {"field": "packages"}
    assert "conda match spec such as" in err.message


def test_conda_option_message_says_options_not_accepted():
    err = rejects(check_conda_spec, "--foo", field="conda_packages")
    assert err.details == {"field": "conda_packages"}
    assert "'--foo'" in err.message
    assert "options are not accepted" in err.message


@pytest.mark.parametrize(
    "req",
    [
        "requests",
        "requests[socks,security]>=2.31,<3",
        'numpy==1.26.*; python_version < "3.12"',
        "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee9982d4bbb3c72346a6de940a148ea686",
        "pkg @ file:///tmp/pkg-1.0-py3-none-any.whl",
    ],
)
def test_pip_requirement_accepted(req):
    assert check_pip_requirement(f" {req} ") == req


@pytest.mark.parametrize(
    "req",
    [
        "--index-url=http://x",
        "-e .",
        "-r other.txt",
        "numpy --hash=sha256:abc",
        "a\nb",
        "",
        "git+https://x/y.git",
        "numpy==1.0 ;",
    ],
)
def test_pip_requirement_rejected(req):
    err = rejects(check_pip_requirement, req)
    assert err.details == {"field": "pip_packages"}
    assert "PEP 508" in err.message


def test_pip_index_url_message():
    err = rejects(check_pip_requirement, "--index-url=http://x")
    assert "'--index-url=http://x'" in err.message
    assert "options are not accepted" in err.message


@pytest.mark.parametrize(
    "channel",
    [
        "conda-forge",
        "bioconda",
        "conda-forge/label/dev",
        "https://conda.anaconda.org/conda-forge",
        "http://mirror.example:8080/conda/main/",
        "file:///opt/site-channel",
    ],
)
def test_channel_accepted(channel):
    assert check_channel(channel) == channel


@pytest.mark.parametrize(
    "channel", ["-c", "--override-channels", "conda forge", "ftp://x/y", "s3://bucket", "https://", "a//b", "", "x\ny"]
)
def test_channel_rejected(channel):
    err = rejects(check_channel, channel)
    assert err.details == {"field": "channels"}
    assert "conda-forge" in err.message


@pytest.mark.parametrize("value", ["3", "3.11", "3.11.4"])
def test_python_version_accepted(value):
    assert check_python_version(value) == value


@pytest.mark.parametrize("value", ["", "3.11.4.1", "py3", "3.x", ">=3.10", "3..1", "3 .11"])
def test_python_version_rejected(value):
    err = rejects(check_python_version, value, field="python_version")
    assert err.details == {"field": "python_version"}
    assert "3.11" in err.message


# -- environment.yml ----------------------------------------------------------

ENV_YML = """\
# a comment
name: analysis
channels:
  - conda-forge
  - bioconda
dependencies:
  - python=3.11
  - numpy=1.26.4=py311h_0
  - conda-forge::scipy >=1.11
  - pip:
      - requests[socks]>=2.31
      - 'tomli; python_version < "3.11"'
variables:
  OMP_NUM_THREADS: 4
  FLAG: true
  LABEL: "x: y"
"""


def test_environment_yml_parsed(tmp_path):
    spec = parse_spec_file(write(tmp_path / "environment.yml", ENV_YML))
    assert spec.format == "environment.yml"
    assert spec.source == str(tmp_path / "environment.yml")
    assert spec.name == "analysis"
    assert spec.prefix is None
    assert spec.channels == ["conda-forge", "bioconda"]
    assert spec.conda == ["python=3.11", "numpy=1.26.4=py311h_0", "conda-forge::scipy >=1.11"]
    assert spec.pip == ["requests[socks]>=2.31", 'tomli; python_version < "3.11"']
    assert spec.variables == {"OMP_NUM_THREADS": "4", "FLAG": "True", "LABEL": "x: y"}
    assert spec.python == "3.11"
    assert spec.explicit == []


def test_environment_yml_prefix_and_empty_sections():
    spec = parse_spec_text("prefix: /opt/envs/x\nchannels:\ndependencies:\n", fmt="environment.yml")
    assert spec.prefix == "/opt/envs/x"
    assert (spec.name, spec.channels, spec.conda, spec.pip, spec.python) == (None, [], [], [], None)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("name: x\nchannels: [a]\nbuild: 1\n", 3, "unknown key 'build'; accepted keys: name, channels"),
        ("name: x\nchannels: conda-forge\n", 2, "'channels' must be a list"),
        ("channels:\n  - ftp://x\n", 2, "unsupported scheme"),
        ("dependencies:\n  - numpy\n  - 3\n", 3, "got int"),
        ("dependencies:\n  - numpy\n  - [a, b]\n", 3, "dependency must be"),
        ("dependencies:\n  - numpy\n  - other: [x]\n", 3, "got a mapping"),
        ("dependencies:\n  - numpy\n  - --foo\n", 3, "options are not accepted"),
        ("dependencies:\n  - numpy==\n", 2, "not a valid conda package spec"),
        ("dependencies:\n  - pip:\n      - ok\n      - -r other.txt\n", 4, "not accepted in environment.yml"),
        ("dependencies:\n  - pip:\n      - --index-url https://x\n", 3, "pip options such as"),
        ("dependencies:\n  - pip:\n      - git+https://x/y.git\n", 3, "not a valid PEP 508"),
        ("dependencies:\n  - pip: requests\n", 2, "'pip' must be a list"),
        ("name: x\nvariables: [A]\n", 2, "'variables' must be a mapping"),
        ("variables:\n  A: 1\n  B: [1, 2]\n", 3, "'B' must have a string or number value"),
        ("variables:\n  A: 1\n  B:\n", 3, "'B' must have"),
        ("variables:\n  1A: x\n", 2, "invalid variable name"),
        ("name: my env\n", 1, "invalid environment name 'my env'"),
        ("name: [x]\n", 1, "'name' must be a string"),
        ("name: x\ndependencies:\n  - a\n - b\n", 4, "not valid YAML"),
        ("name: x\nname: y\n", 2, "not valid YAML"),
        ("- numpy\n", 1, "expected a mapping"),
    ],
)
def test_environment_yml_errors_name_file_and_line(text, line, fragment):
    err = rejects(parse_spec_text, text, fmt="environment.yml", source="env.yml")
    assert err.details == {"file": "env.yml", "line": line}
    assert fragment in err.message
    assert err.message.startswith(f"env.yml, line {line}: ")


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_environment_yml_empty(text):
    err = rejects(parse_spec_text, text, fmt="environment.yml", source="environment.yml")
    assert err.details == {"file": "environment.yml"}
    assert "empty" in err.message


# -- requirements.txt ---------------------------------------------------------


def test_requirements_syntax(tmp_path):
    text = (
        "# comment\n"
        "\n"
        "requests[socks]>=2.31  # trailing comment\n"
        "numpy>=1.26,\\\n"
        "   <2 ; python_version >= '3.10'\n"
        "   # indented comment \\\n"
        "pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256=" + SHA + "\n"
        "Django==5.0.*\n"
    )
    spec = parse_spec_file(write(tmp_path / "requirements.txt", text))
    assert spec.format == "requirements.txt"
    assert spec.pip == [
        "requests[socks]>=2.31",
        "numpy>=1.26,   <2 ; python_version >= '3.10'",
        f"pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256={SHA}",
        "Django==5.0.*",
    ]
    assert (spec.conda, spec.channels, spec.name) == ([], [], None)


def test_requirements_includes_relative_to_including_file(tmp_path):
    write(tmp_path / "reqs" / "main.txt", "a\n-r sub/more.txt\n--requirement=sub/../other.txt\nz\n")
    write(tmp_path / "reqs" / "sub" / "more.txt", "b\n--requirement ../../shared/base.txt\n")
    write(tmp_path / "shared" / "base.txt", "c[x]>=1 ; sys_platform == 'linux'\n")
    write(tmp_path / "reqs" / "other.txt", "-rsub/empty.txt\nd\n")
    write(tmp_path / "reqs" / "sub" / "empty.txt", "# nothing\n")
    spec = parse_spec_file(tmp_path / "reqs" / "main.txt")
    assert spec.pip == ["a", "b", "c[x]>=1 ; sys_platform == 'linux'", "d", "z"]


def test_requirements_include_errors_name_included_file(tmp_path):
    main = write(tmp_path / "main.txt", "a\n-r sub/more.txt\n")
    write(tmp_path / "sub" / "more.txt", "ok\n\n--index-url https://pypi.example/simple\n")
    err = rejects(parse_spec_file, main)
    assert err.details == {"file": str(tmp_path / "sub" / "more.txt"), "line": 3}
    assert "'--index-url'" in err.message

    err = rejects(parse_spec_text, "a\n-r sub/more.txt\n", source="main.txt", base_dir=tmp_path)
    assert err.details == {"file": "sub/more.txt", "line": 3}


def test_requirements_include_cycle(tmp_path):
    write(tmp_path / "a.txt", "x\n-r b.txt\n")
    write(tmp_path / "b.txt", "y\n\n-r ./a.txt\n")
    err = rejects(parse_spec_text, "x\n-r b.txt\n", source="a.txt", base_dir=tmp_path)
    assert err.details == {"file": "b.txt", "line": 3}
    assert "include cycle: a.txt -> b.txt -> a.txt" in err.message
    self_include = write(tmp_path / "self.txt", "-r self.txt\n")
    assert "include cycle" in rejects(parse_spec_file, self_include).message


def test_requirements_include_missing_or_without_base_dir(tmp_path):
    err = rejects(parse_spec_text, "a\n-r nope.txt\n", source="main.txt", base_dir=tmp_path)
    assert err.details == {"file": "nope.txt"}
    assert "cannot read" in err.message
    assert "included from main.txt, line 2" in err.message
    err = rejects(parse_spec_text, "a\n-r other.txt\n")
    assert err.details == {"file": "<request>", "line": 2}
    assert "list the requirements directly" in err.message


def test_requirements_include_too_big(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(MAX_SPEC_BYTES + 1)
    err = rejects(parse_spec_text, "-r big.txt\n", source="main.txt", base_dir=tmp_path)
    assert err.details == {"file": "big.txt"}
    assert str(MAX_SPEC_BYTES) in err.message


@pytest.mark.parametrize(
    ("line", "option"),
    [
        ("-e .", "-e"),
        ("-i https://x/simple", "-i"),
        ("--index-url=https://x/simple", "--index-url"),
        ("--extra-index-url https://x", "--extra-index-url"),
        ("--hash=sha256:abc", "--hash"),
        ("-c constraints.txt", "-c"),
        ("-f ./wheels", "-f"),
        ("--requirements x.txt", "--requirements"),
        ("--no-binary :all:", "--no-binary"),
    ],
)
def test_requirements_options_rejected(tmp_path, line, option):
    path = write(tmp_path / "requirements.txt", f"numpy\n{line}\n")
    err = rejects(parse_spec_file, path)
    assert err.details == {"file": str(path), "line": 2}
    assert f"{option!r} is not accepted" in err.message
    assert "'-r FILE'" in err.message


def test_requirements_inline_option_and_bad_requirement():
    err = rejects(parse_spec_text, "numpy==1.26 --hash=sha256:abc\n", fmt="requirements.txt")
    assert err.details == {"file": "<request>", "line": 1}
    assert "options" in err.message
    err = rejects(parse_spec_text, "ok\nnot a requirement!\n", fmt="requirements.txt", source="r.txt")
    assert err.details == {"file": "r.txt", "line": 2}
    assert "PEP 508" in err.message


# -- explicit -----------------------------------------------------------------


def test_explicit_with_sha256_md5_and_none():
    text = (
        "# This file may be used to create an environment using:\n"
        "# platform: linux-64\n\n"
        "@EXPLICIT\n"
        f"{URL}#{SHA}\n"
        f"{URL2}#{MD5.upper()}\n"
        "# a comment\n"
        "file:///opt/channel/noarch/local-1.0-0.conda\n"
    )
    spec = parse_spec_text(text, source="explicit.txt")
    assert spec.format == "explicit"
    assert spec.explicit == [
        ExplicitEntry(URL, SHA, None),
        ExplicitEntry(URL2, None, MD5),
        ExplicitEntry("file:///opt/channel/noarch/local-1.0-0.conda", None, None),
    ]
    assert [e.filename for e in spec.explicit] == [
        "zlib-1.3.1-hb9d3cd8_2.conda",
        "tzdata-2024a-h0c530f3_0.tar.bz2",
        "local-1.0-0.conda",
    ]
    assert spec.explicit[0].to_line() == f"{URL}#{SHA}"
    assert spec.explicit[1].to_line() == f"{URL2}#{MD5}"
    assert spec.explicit[2].to_line() == "file:///opt/channel/noarch/local-1.0-0.conda"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (f"{URL}#abc", "neither a sha256"),
        (f"{URL}#{SHA}0", "neither a sha256"),
        ("ftp://host/linux-64/x-1.0-0.conda", "not an http, https or file URL"),
        ("https:///linux-64/x-1.0-0.conda", "not an http, https or file URL"),
        ("numpy=1.26", "not an http, https or file URL"),
        ("https://host/linux-64/x-1.0-0.whl", "not a package URL"),
        (f"{URL} #{SHA}", "whitespace"),
    ],
)
def test_explicit_bad_lines(body, fragment):
    err = rejects(parse_spec_text, f"@EXPLICIT\n{URL}\n{body}\n", fmt="explicit", source="e.txt")
    assert err.details == {"file": "e.txt", "line": 3}
    assert fragment in err.message


def test_explicit_structure_errors():
    err = rejects(parse_spec_text, f"# c\nnumpy\n@EXPLICIT\n{URL}\n", fmt="explicit", source="e.txt")
    assert err.details == {"file": "e.txt", "line": 2}
    assert "before '@EXPLICIT'" in err.message
    err = rejects(parse_spec_text, "# platform: linux-64\n\n", fmt="explicit", source="e.txt")
    assert err.details == {"file": "e.txt"}
    assert "no '@EXPLICIT' line" in err.message


# -- lock files ---------------------------------------------------------------


def make_lock(path: Path, *, platform: str | None = None, env: str = "default") -> Path:
    platform = platform or str(rattler.Subdir.current())
    lock = rattler.LockFile([rattler.LockPlatform(platform)])
    lock.set_channels(env, [rattler.LockChannel("https://conda.anaconda.org/conda-forge/")])
    for name, version, digest in [("python", "3.12.4", True), ("zlib", "1.3.1", False)]:
        record = rattler.PackageRecord(
            name=name,
            version=version,
            build=rattler.BuildString("h0_0"),
            build_number=0,
            subdir=platform,
            sha256=hashlib.sha256(name.encode()).digest() if digest else None,
            md5=hashlib.md5(name.encode()).digest(),  # noqa: S324
        )
        filename = f"{name}-{version}-h0_0.conda"
        url = f"https://conda.anaconda.org/conda-forge/{platform}/{filename}"
        channel = "https://conda.anaconda.org/conda-forge/"
        lock.add_conda_package(
            env, rattler.LockPlatform(platform), rattler.RepoDataRecord(record, filename, url, channel)
        )
    wheel = "https://files.pythonhosted.org/packages/ab/requests-2.32.0-py3-none-any.whl"
    lock.add_pypi_package(env, rattler.LockPlatform(platform), "requests", "2.32.0", wheel)
    lock.add_pypi_package(env, rattler.LockPlatform(platform), "localpkg", "1.0", "./local/localpkg")
    lock.to_path(path)
    return path


def test_lock_file_parsed(tmp_path):
    path = make_lock(tmp_path / "pixi.lock")
    platform = str(rattler.Subdir.current())
    for spec in (parse_spec_file(path), parse_spec_text(path.read_text(encoding="utf-8"), source="pixi.lock")):
        assert spec.format == "lock"
        assert spec.explicit == [
            ExplicitEntry(
                f"https://conda.anaconda.org/conda-forge/{platform}/python-3.12.4-h0_0.conda",
                hashlib.sha256(b"python").hexdigest(),
                None,
            ),
            ExplicitEntry(
                f"https://conda.anaconda.org/conda-forge/{platform}/zlib-1.3.1-h0_0.conda",
                None,
                hashlib.md5(b"zlib").hexdigest(),  # noqa: S324
            ),
        ]
        assert sorted(spec.pip) == [
            "localpkg==1.0",
            "requests @ https://files.pythonhosted.org/packages/ab/requests-2.32.0-py3-none-any.whl",
        ]
        assert spec.channels == ["https://conda.anaconda.org/conda-forge/"]
        assert spec.python == "3.12.4"


def test_lock_file_errors(tmp_path):
    err = rejects(parse_spec_text, "version: 6\nenvironments: [\n", fmt="lock", source="pixi.lock")
    assert err.details == {"file": "pixi.lock"}
    assert "not a lock file" in err.message
    other = "win-64" if str(rattler.Subdir.current()) != "win-64" else "linux-64"
    err = rejects(parse_spec_file, make_lock(tmp_path / "a.lock", platform=other))
    assert f"no packages for this platform, {rattler.Subdir.current()}" in err.message
    assert other in err.message
    err = rejects(parse_spec_file, make_lock(tmp_path / "b.lock", env="gpu"))
    assert "no 'default' environment (environments: gpu)" in err.message


# -- format detection and files -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "filename", "expected"),
    [
        (f"# platform: linux-64\n@EXPLICIT\n{URL}\n", None, "explicit"),
        (f"@EXPLICIT\r\n{URL}\r\n", "env.yml", "explicit"),
        ("name: x\ndependencies: [numpy]\n", "environment.yml", "environment.yml"),
        ("channels: [conda-forge]\n", None, "environment.yml"),
        ("dependencies:\n  - a\n - b\n", None, "environment.yml"),
        ("foo: bar\n", "weird.yaml", "environment.yml"),
        ("version: 6\nenvironments: {}\npackages: []\n", "pixi.lock", "lock"),
        ("version: 1\nmetadata: {}\npackage: []\n", "conda-lock.yml", "lock"),
        ("name: x\n", "requirements.txt", "requirements.txt"),
        ("numpy\nscipy>=1\n", None, "requirements.txt"),
        ("numpy\n", "reqs.in", "requirements.txt"),
    ],
)
def test_detect_format(text, filename, expected):
    assert detect_format(text, filename) == expected


def test_forced_and_unknown_format():
    spec = parse_spec_text("name: x\n", fmt="environment.yml", source="requirements.txt")
    assert (spec.format, spec.name) == ("environment.yml", "x")
    err = rejects(parse_spec_text, "name: x\n", fmt="requirements.txt")
    assert err.details == {"file": "<request>", "line": 1}
    err = rejects(parse_spec_text, "numpy\n", fmt="conda")
    assert err.details == {"field": "format"}
    for name in specs.FORMATS:
        assert name in err.message


def test_oversized_file_refused_without_reading(tmp_path, monkeypatch):
    path = tmp_path / "requirements.txt"
    with path.open("wb") as f:
        f.truncate(MAX_SPEC_BYTES + 1)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_open)
    monkeypatch.setattr(Path, "read_bytes", no_open)
    monkeypatch.setattr(Path, "read_text", no_open)
    err = rejects(parse_spec_file, path)
    assert err.details == {"file": str(path)}
    assert f"{MAX_SPEC_BYTES + 1} bytes" in err.message
    assert f"limit of {MAX_SPEC_BYTES} bytes" in err.message


def test_file_at_limit_accepted_and_text_over_limit_refused(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"numpy\n#" + b"x" * (MAX_SPEC_BYTES - 8) + b"\n")
    assert parse_spec_file(path).pip == ["numpy"]
    err = rejects(parse_spec_text, "#" * (MAX_SPEC_BYTES + 1))
    assert err.details == {"file": "<request>"}


def test_unreadable_files(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_bytes(b"name: x\ndependencies:\n  - caf\xe9\n")
    err = rejects(parse_spec_file, path)
    assert err.details == {"file": str(path), "line": 3}
    assert "UTF-8" in err.message
    err = rejects(parse_spec_file, tmp_path / "missing.txt")
    assert err.details == {"file": str(tmp_path / "missing.txt")}
    assert "cannot read" in err.message


# -- exports ------------------------------------------------------------------


def test_environment_yml_round_trip():
    args = {
        "name": "analysis_2.0",
        "channels": ["conda-forge", "https://example.org/conda/main"],
        "conda": ["python=3.11", "numpy=1.26.4=py311h_0", "conda-forge::scipy >=1.11,<2", "libblas=*=*mkl"],
        "pip": [f"pkg @ https://example.org/pkg-1.0-py3-none-any.whl#sha256={SHA}", 'tomli; python_version < "3.11"'],
        "variables": {"LABEL": "x: y # not a comment", "N": "4", "FLAG": "true", "EMPTY": ""},
    }
    text = render_environment_yml(**args, header="exported by jupyter-envmod\n\nfrom analysis")
    assert text.startswith("# exported by jupyter-envmod\n#\n# from analysis\nname: analysis_2.0\n")
    assert "  - numpy=1.26.4=py311h_0\n" in text
    assert "  - pip:\n" in text
    spec = parse_spec_text(text, source="environment.yml")
    assert spec.format == "environment.yml"
    assert spec.name == args["name"]
    assert spec.channels == args["channels"]
    assert spec.conda == args["conda"]
    assert spec.pip == args["pip"]
    assert spec.variables == args["variables"]
    assert spec.python == "3.11"


def test_environment_yml_minimal_round_trip():
    text = render_environment_yml(name=None, channels=[], conda=["numpy"], pip=[])
    assert "pip" not in text
    assert "variables" not in text
    spec = parse_spec_text(text, source="env.yaml")
    assert (spec.name, spec.channels, spec.conda, spec.pip, spec.variables) == (None, [], ["numpy"], [], {})


def test_requirements_round_trip():
    pins = ["requests==2.32.0", "numpy[extra]>=1.26; python_version >= '3.10'", f"pkg @ file:///w/pkg.whl#sha256={SHA}"]
    text = render_requirements(pins, header="pinned")
    assert text.splitlines()[0] == "# pinned"
    spec = parse_spec_text(text, source="requirements.txt")
    assert spec.format == "requirements.txt"
    assert spec.pip == pins
    assert parse_spec_text(render_requirements([])).pip == []


def test_explicit_round_trip():
    entries = [
        ExplicitEntry(URL, SHA, None),
        ExplicitEntry(URL2, None, MD5),
        ExplicitEntry("file:///opt/ch/noarch/x-1-0.conda", None, None),
    ]
    text = render_explicit(entries, platform="linux-64", header="exported")
    assert text.splitlines()[:3] == ["# exported", "# platform: linux-64", "@EXPLICIT"]
    assert f"{URL}#{SHA}\n" in text
    spec = parse_spec_text(text, source="explicit.txt")
    assert spec.format == "explicit"
    assert spec.explicit == entries


def test_envspec_defaults_are_independent():
    a, b = EnvSpec(format="explicit", source="x"), EnvSpec(format="explicit", source="y")
    a.pip.append("x")
    assert b.pip == []
