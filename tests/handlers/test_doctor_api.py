"""GET /envmod/doctor and POST /envmod/doctor/fix against a real server whose HOME is
pytest-jupyter's temp home: a problem made on disk is reported, fixed only when the
request names its check, and gone afterwards."""

from __future__ import annotations

import pytest

from jupyter_envmod.doctor import CHECK_IDS
from tests.handlers.api import SPEC, Api, api_config, check_schema
from tests.kernelspecs import orphan_kernelspec


@pytest.fixture
def envmod_config(tmp_path):
    return api_config(tmp_path, kernel_dir=str(tmp_path / "kernels"))


def check_of(report: dict, check_id: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == check_id)


async def test_doctor_reports_every_check(jp_fetch):
    answer = await Api(jp_fetch).get("doctor")
    assert answer.code == 200, answer.body
    check_schema(answer.body, "DoctorReport")
    assert [c["id"] for c in answer.body["checks"]] == list(CHECK_IDS)
    assert SPEC["components"]["schemas"]["DoctorCheckId"]["enum"] == list(CHECK_IDS)
    counts = answer.body["counts"]
    assert sum(counts.values()) == len(CHECK_IDS)
    assert check_of(answer.body, "orphan-kernels")["status"] == "ok"


async def test_orphan_kernel_found_and_fixed_when_named(jp_fetch, tmp_path):
    api = Api(jp_fetch)
    spec_dir = orphan_kernelspec(tmp_path / "kernels", tmp_path / "envs" / "gone")

    found = check_of((await api.get("doctor")).body, "orphan-kernels")
    assert found["status"] != "ok"
    assert any("envmod-gone" in line for line in found["details"]), found
    assert found["fix"]
    assert "envmod-gone" in found["fix"]

    # fixing another check leaves the orphan alone: naming the check is the confirmation
    other = await api.post("doctor", "fix", body={"checks": ["environments-txt"]})
    assert other.code == 200, other.body
    assert spec_dir.is_dir()

    answer = await api.post("doctor", "fix", body={"checks": ["orphan-kernels"]})
    assert answer.code == 200, answer.body
    check_schema(answer.body, "DoctorFixAnswer")
    [result] = answer.body["results"]
    assert result["id"] == "orphan-kernels"
    assert result["fixed"] is True, result
    assert str(spec_dir) in result["changed"]
    assert not spec_dir.exists()
    assert check_of(answer.body, "orphan-kernels")["status"] == "ok"


async def test_nothing_to_fix_is_reported_not_an_error(jp_fetch):
    answer = await Api(jp_fetch).post("doctor", "fix", body={"checks": ["orphan-modules"]})
    assert answer.code == 200, answer.body
    [result] = answer.body["results"]
    assert result["fixed"] is False
    assert result["message"]


@pytest.mark.parametrize(
    "body",
    [{}, {"checks": []}, {"checks": ["no-such-check"]}, {"checks": "orphan-kernels"}, {"checks": ["caches"], "x": 1}],
)
async def test_bad_fix_requests_are_400_and_change_nothing(jp_fetch, tmp_path, body):
    spec_dir = orphan_kernelspec(tmp_path / "kernels", tmp_path / "envs" / "gone")
    answer = await Api(jp_fetch).post("doctor", "fix", body=body)
    assert answer.code == 400, answer.body
    assert answer.body["details"]["field"] in ("checks", "checks[0]", "body", "x"), answer.body
    assert spec_dir.is_dir()
