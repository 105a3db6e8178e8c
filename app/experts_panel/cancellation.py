"""Cancelling work whose clean-up must not itself be cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


async def cancel_once(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` in a task of its own that is cancelled at most once, and only where it
    allows.

    When the caller is cancelled, `work` is cancelled through an anyio cancel scope, and the
    caller waits for it to end before the cancellation goes on. httpx and httpcore shield
    their clean-up (handing a connection back to the pool, closing it) with anyio; a plain
    `Task.cancel()` goes through such shields and, landing on one of their await points,
    leaves the connection marked busy for good (httpcore issues 658 and 1093): enough of
    those and every call waits for a connection that never comes. A cancel scope waits until
    the work is outside them. Any further cancellation of the caller meanwhile (a time limit
    running out as a reader hangs up) only waits for the same end.
    """
    scope = anyio.CancelScope()

    async def scoped() -> T:
        with scope:
            return await work
        # The scope took the cancellation in; the caller raises its own.
        raise asyncio.CancelledError

    task = asyncio.get_running_loop().create_task(scoped())
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        scope.cancel()
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                continue
        if not task.cancelled():
            task.exception()  # seen here, so it is not reported as never retrieved
        raise
