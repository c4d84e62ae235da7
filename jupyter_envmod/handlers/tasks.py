"""Tasks: the list, one task with its log from an offset, and cancelling."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidInput, NotFound
from ..tasks import Task
from .base import EnvModHandler


class TasksHandler(EnvModHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every task kept (running, and finished ones for EnvMod.task_retention
        seconds), oldest first, without their logs (``next_offset`` says how long
        each is); ``environment=<id>`` keeps one environment's."""
        env_id = self.get_query_argument("environment", None)
        tasks = [t for t in self.manager.tasks.list() if env_id is None or t.environment.get("id") == env_id]
        self.write_json([t.to_json(since=t.next_offset) for t in tasks])


class TaskHandler(EnvModHandler):
    def _task(self, tid: str) -> Task:
        task = self.manager.tasks.get(tid)
        if task is None:
            raise NotFound(
                f"No task {tid[:64]!r}: it never existed, or it finished more than "
                f"{self.manager.envmod.task_retention:g} seconds ago (EnvMod.task_retention).",
                details={"field": "tid"},
            )
        return task

    @web.authenticated
    @authorized
    async def get(self, tid: str) -> None:
        """The task; ``since=N`` returns only log lines from offset N on."""
        since = self.int_argument("since", 0)
        self.write_json(self._task(tid).to_json(since=since))

    @web.authenticated
    @authorized
    async def delete(self, tid: str) -> None:
        """Cancel: the task stops its commands and puts the environment back."""
        task = self._task(tid)
        if not task.cancel():
            raise InvalidInput(
                f"Task {tid} has already {task.state}; there is nothing to cancel.",
                reason="task-finished",
                details={"field": "tid", "state": task.state},
            )
        self.accepted(task)
