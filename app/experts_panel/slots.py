"""A bounded number of holders, counted: how many hold a slot and how many wait for one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Slots:
    """An `asyncio.Semaphore` that says how it is used, for `/health` and for queueing notices.

    The semaphore alone cannot say how many wait; these counters can, and a slot that is never
    handed back shows as one held with nobody working.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("slots: size must be at least 1")
        self.size = size
        self.in_use = 0
        self.waiting = 0
        self._semaphore = asyncio.Semaphore(size)

    def full(self) -> bool:
        return self.in_use >= self.size

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.in_use += 1
        try:
            yield
        finally:
            self.in_use -= 1
            self._semaphore.release()
