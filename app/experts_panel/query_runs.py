"""Queries being worked on, with every task each one started, until the last of them ends.

A query's work runs in a task of its own, started here. Every task created while that work
runs (the experts, the map chunks, a model call's exchange, and the tasks libraries start for
it, such as SQLAlchemy closing a connection) is counted against the query until it ends. So
`/health` can say how many tasks queries still have, and a task stuck after its query was
cancelled shows there instead of being destroyed, pending, by the collector much later.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# The query whose work the current code runs; tasks copy it when they are created.
_current_run: contextvars.ContextVar[QueryRun | None] = contextvars.ContextVar(
    "query_run", default=None
)


@dataclass(eq=False)
class QueryRun:
    request_id: str
    runs: QueryRuns
    task: asyncio.Task[Any] | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def cancel(self) -> None:
        """Stop the work, once.

        A second cancellation that lands while the first is being handled interrupts the
        clean-up the first set off (closing a model connection, handing a database connection
        back), and what was being cleaned up is then lost with its task.
        """
        task = self.task
        if task is not None and not task.done() and task.cancelling() == 0:
            task.cancel()

    def _adopt(self, task: asyncio.Task[Any]) -> None:
        self.tasks.add(task)
        self.runs._live.add(self)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self.runs._live.discard(self)


class QueryRuns:
    """The queries of one service whose tasks have not all ended."""

    def __init__(self) -> None:
        self._live: set[QueryRun] = set()

    def start(self, request_id: str, work: Coroutine[Any, Any, Any]) -> QueryRun:
        """Run `work` as a query's task; needs `track_tasks` on the running loop."""
        loop = asyncio.get_running_loop()
        if loop.get_task_factory() is not _task_factory:
            raise RuntimeError("query tasks are not tracked on this loop: call track_tasks()")
        run = QueryRun(request_id, self)
        context = contextvars.copy_context()
        context.run(_current_run.set, run)
        run.task = loop.create_task(work, context=context)
        return run

    @property
    def running(self) -> int:
        """Queries whose own task has not ended."""
        return sum(1 for run in self._live if run.task is not None and not run.task.done())

    @property
    def tasks(self) -> int:
        """Tasks started by queries that have not ended, the queries' own included."""
        return sum(len(run.tasks) for run in self._live)


@contextmanager
def outside_queries() -> Iterator[None]:
    """Tasks started in this block serve the service, not the query whose code starts them
    (a writer started on first use, kept for the service's life), and are not counted
    against it."""
    token = _current_run.set(None)
    try:
        yield
    finally:
        _current_run.reset(token)


def track_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Count every task started on `loop` for a query against that query (idempotent)."""
    if loop.get_task_factory() is not _task_factory:
        if loop.get_task_factory() is not None:
            raise RuntimeError("the event loop already has a task factory")
        loop.set_task_factory(_task_factory)


def untrack_tasks(loop: asyncio.AbstractEventLoop) -> None:
    if loop.get_task_factory() is _task_factory:
        loop.set_task_factory(None)


def _task_factory(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
    **kwargs: Any,
) -> asyncio.Task[Any]:
    task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kwargs)
    context: contextvars.Context | None = kwargs.get("context")
    run = context.get(_current_run) if context is not None else _current_run.get()
    if run is not None:
        run._adopt(task)
    return task
