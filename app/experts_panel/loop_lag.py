"""How late the event loop runs: one loop serves every reader, so a loop held up holds up all.

A task sleeps a fixed interval and measures how much later than asked it woke. The worst
delay of the last minute is kept, so a loop that stalls now and then (a blocking call, a long
stretch of CPU work) shows in `/health` even when it is free at the moment of the check.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

INTERVAL_S = 1.0
WINDOW_S = 60.0


class LoopLag:
    def __init__(self, interval_s: float = INTERVAL_S, window_s: float = WINDOW_S) -> None:
        self.interval_s = interval_s
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque()  # (when, lag), oldest first
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._measure())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def worst_s(self) -> float:
        """The longest delay seen within the window, in seconds."""
        self._forget(time.monotonic())
        return max((lag for _, lag in self._samples), default=0.0)

    async def _measure(self) -> None:
        while True:
            asked = time.monotonic() + self.interval_s
            await asyncio.sleep(self.interval_s)
            now = time.monotonic()
            self._samples.append((now, max(0.0, now - asked)))
            self._forget(now)

    def _forget(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self.window_s:
            self._samples.popleft()
