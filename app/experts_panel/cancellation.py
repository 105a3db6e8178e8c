"""Cancelling work whose clean-up must not itself be cut short."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def cancel_once(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` in a task of its own that is cancelled at most once.

    When the caller is cancelled, `work` is cancelled and the caller waits for it to end
    before the cancellation goes on. Any further cancellation of the caller meanwhile (a time
    limit running out as a reader hangs up) only waits for the same end: delivered to `work`,
    it would interrupt the clean-up the first one set off, and a connection half closed is
    a connection lost to its pool.
    """
    task = asyncio.get_running_loop().create_task(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        while not task.done():
            try:
                await asyncio.wait([task])
            except asyncio.CancelledError:
                continue
        if not task.cancelled():
            task.exception()  # seen here, so it is not reported as never retrieved
        raise
