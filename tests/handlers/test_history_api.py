"""History, restore, outdated, update-all and share over HTTP, on the rattler engine
against the local channel (tinypy 1.0/1.1; gamma holds alpha below 2.0). Every
answer is checked against the OpenAPI schemas."""

from __future__ import annotations

import pytest

from tests.handlers.api import Api, api_config, check_schema


@pytest.fixture
def envmod_config(tmp_path, local_channel, tmp_path_factory):
    return api_config(
        tmp_path,
        channels=[local_channel.url],
        default_engine="rattler",
        default_python=".".join(local_channel.python_version.split(".")[:2]),
        cache_dir=str(tmp_path_factory.getbasetemp() / "api-history-cache"),
    )


@pytest.fixture
def api(jp_fetch) -> Api:
    return Api(jp_fetch)


def versions(packages: list[dict]) -> dict[str, str]:
    return {p["name"]: p["version"] for p in packages}


async def test_history_restore_outdated_update_all_share(api, tmp_path):
    await api.succeeded(await api.post("environments", body={"name": "hist", "packages": ["tinypy=1.0", "gamma"]}))
    [env] = (await api.get("environments")).body
    eid = env["id"]
    rev0 = versions((await api.get("environments", eid, "packages")).body)
    assert rev0["tinypy"] == "1.0"

    # relax tinypy (no change on disk), then outdated: tinypy can move, alpha is held back
    done = await api.succeeded(await api.post("environments", eid, "packages", body={"install": ["tinypy"]}))
    assert done["result"]["revision"] == 1
    answer = await api.get("environments", eid, "outdated")
    assert answer.code == 200, answer.body
    check_schema(answer.body, "Outdated")
    rows = {r["name"]: r for r in answer.body["outdated"]}
    assert (rows["tinypy"]["installed"], rows["tinypy"]["update"]) == ("1.0", "1.1")
    assert (rows["alpha"]["latest"], rows["alpha"]["update"]) == ("2.0", None)

    dry = await api.post("environments", eid, "packages", body={"update_all": True, "dry_run": True})
    assert dry.code == 200, dry.body
    assert [c["name"] for c in dry.body["result"]["plan"]["changes"]] == ["tinypy"]
    await api.succeeded(await api.post("environments", eid, "packages", body={"update_all": True}))
    assert versions((await api.get("environments", eid, "packages")).body)["tinypy"] == "1.1"

    answer = await api.get("environments", eid, "history")
    assert answer.code == 200
    for rev in answer.body:
        check_schema(rev, "Revision")
    assert [(r["rev"], r["action"]) for r in answer.body] == [(0, "create"), (1, "install"), (2, "update-all")]
    assert answer.body[2]["diff"]["changed"] == [
        {"name": "tinypy", "source": "conda", "old": "1.0=py_0", "new": "1.1=py_0"}
    ]
    one = await api.get("environments", eid, "history", "0")
    check_schema(one.body, "RevisionDetails")
    assert {r["name"] for r in one.body["snapshot"]["conda"]} >= {"python", "tinypy", "gamma", "alpha"}

    preview = await api.post("environments", eid, "history", "0", "restore", body={"dry_run": True})
    assert preview.code == 200, preview.body
    assert preview.body["result"]["plan"]["changes"] == [
        {"name": "tinypy", "source": "conda", "old": "1.1 py_0", "new": "1.0 py_0", "kind": "change"}
    ]
    restored = await api.succeeded(await api.post("environments", eid, "history", "0", "restore"))
    assert (restored["result"]["revision"], restored["result"]["restored"]) == (3, 0)
    assert versions((await api.get("environments", eid, "packages")).body) == rev0

    share = await api.get("environments", eid, "share")
    assert share.code == 200, share.body
    check_schema(share.body, "Share")
    assert share.body["spec"]["filename"] == "environment.yml"
    assert "tinypy=1.0" in share.body["spec"]["text"]
    assert share.body["recreate"] == ["jupyter envmod create -n hist -f environment.yml"]


async def test_history_errors(api):
    await api.succeeded(await api.post("environments", body={"name": "errs", "packages": ["python"]}))
    [env] = (await api.get("environments")).body
    missing = await api.post("environments", env["id"], "history", "9", "restore")
    assert missing.code == 404
    assert missing.body["details"]["revisions"] == [0]
    bad = await api.get("environments", env["id"], "history", "first")
    assert (bad.code, bad.body["details"]["field"]) == (400, "revision")
    both = await api.post("environments", env["id"], "packages", body={"update_all": True, "install": ["tinypy"]})
    assert (both.code, both.body["details"]["field"]) == (400, "update_all")
    assert len((await api.get("environments", env["id"], "history")).body) == 1


def test_not_permitted_is_403_with_its_reason():
    """The server's user cannot write a colleague's environment (exercised for real,
    as other unix users, in tests/core/test_sharing.py): that error answers 403."""
    from jupyter_envmod.errors import NotPermitted
    from jupyter_envmod.handlers.base import status_for, status_for_reason

    err = NotPermitted("You cannot install packages in /x", details={"owner": "alice", "group": "chem"})
    assert status_for(err) == 403
    assert status_for_reason("not-permitted") == 403
    check_schema(err.to_json(), "Error")
