"""Helpers for the REST tests: calls that return (status, body) instead of raising,
a task poller, and a checker of answers against the OpenAPI file's schemas."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
from ruamel.yaml import YAML
from tornado.httpclient import HTTPClientError

SPEC = YAML(typ="safe").load(files("jupyter_envmod").joinpath("openapi.yaml").read_text())
#: how long a test waits for a task before it fails (creates on a busy 2-core machine)
TASK_LIMIT = 600.0


def check_schema(body: Any, schema_name: str) -> None:
    """``body`` validates against ``#/components/schemas/<schema_name>``."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    jsonschema.Draft202012Validator(schema).validate(body)


@dataclass
class Answer:
    code: int
    body: Any
    headers: Any
    raw: bytes

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8")


class Api:
    """``await api.get("environments")`` → :class:`Answer` (errors too)."""

    def __init__(self, jp_fetch: Any):
        self.fetch = jp_fetch

    async def call(self, method: str, *parts: str, body: Any = None, params: dict | None = None) -> Answer:
        data = None
        if method in ("POST", "PUT", "PATCH"):
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        try:
            response = await self.fetch(
                "envmod", *parts, method=method, body=data, params=params or {}, allow_nonstandard_methods=True
            )
        except HTTPClientError as err:
            if err.response is None:
                raise
            response = err.response
        raw = response.body or b""
        kind = response.headers.get("Content-Type", "")
        parsed = json.loads(raw) if raw and kind.startswith("application/json") else None
        answer = Answer(response.code, parsed, response.headers, raw)
        if answer.code >= 400:
            check_schema(parsed, "Error")
        return answer

    async def get(self, *parts: str, **params: Any) -> Answer:
        return await self.call("GET", *parts, params={k: str(v) for k, v in params.items()})

    async def post(self, *parts: str, body: Any = None) -> Answer:
        return await self.call("POST", *parts, body=body)

    async def put(self, *parts: str, body: Any = None) -> Answer:
        return await self.call("PUT", *parts, body=body)

    async def delete(self, *parts: str) -> Answer:
        return await self.call("DELETE", *parts)

    async def accepted(self, answer: Answer) -> dict:
        """A 202 answer's task: checks the Location header and the schema."""
        assert answer.code == 202, (answer.code, answer.body)
        task = answer.body
        check_schema(task, "Task")
        assert answer.headers["Location"].endswith(f"/envmod/tasks/{task['id']}")
        return task

    async def wait(self, task: dict | Answer) -> dict:
        """Poll the task (reading its log incrementally) until it ends; the final task
        JSON with the whole log joined into ``task["log_text"]``."""
        if isinstance(task, Answer):
            task = await self.accepted(task)
        lines: list[str] = []
        since = 0
        deadline = asyncio.get_running_loop().time() + TASK_LIMIT
        while True:
            answer = await self.get("tasks", task["id"], since=since)
            assert answer.code == 200, answer.body
            check_schema(answer.body, "Task")
            offsets = [line["offset"] for line in answer.body["log"]]
            assert offsets == list(range(since, answer.body["next_offset"])), "log lines are consecutive from since"
            lines += [line["line"] for line in answer.body["log"]]
            since = answer.body["next_offset"]
            if answer.body["state"] in ("succeeded", "failed", "cancelled"):
                return {**answer.body, "log_text": "\n".join(lines)}
            assert asyncio.get_running_loop().time() < deadline, f"task {task['id']} did not end"
            await asyncio.sleep(0.1)

    async def succeeded(self, answer: Answer) -> dict:
        task = await self.wait(answer)
        assert task["state"] == "succeeded", (task["error"], task["log_text"][-3000:])
        return task


def api_config(tmp_path: Path, **extra: Any) -> dict:
    """EnvMod traits for a test server whose every directory is under ``tmp_path``."""
    envs = tmp_path / "envs"
    envs.mkdir(exist_ok=True)
    config = {
        "env_dirs": [str(envs)],
        "allowed_roots": [str(envs)],
        "module_dir": str(tmp_path / "modules"),
        "activate_dir": str(tmp_path / "activate"),
        "default_engine": "venv",
    }
    config.update(extra)
    return config
