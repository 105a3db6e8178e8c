"""What the model API calls are doing: slots, progress, and the provider's recent answers.

Two questions are kept apart. Is the service itself stuck? Calls are waiting or in flight
and none has ended for longer than one call may take: nothing the provider does can cause
that, since every attempt is bounded in time. Is the provider well? Its recent answers say:
`ok`, `degraded` (some failed), `down` (the latest all failed). Only the first makes the
service unhealthy; a provider outage must not make systemd restart the stack in a loop.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from experts_panel.slots import Slots

ProviderState = Literal["ok", "degraded", "down"]
# How an attempt failed, as far as the provider is concerned.
FailureKind = Literal[
    "timeout", "connection", "rate_limited", "server_error", "refused", "bad_answer"
]

# The provider's state is read from its answers of the last few minutes.
RECENT_S = 300.0
RECENT_MAX = 50
# This many failures in a row, with no success between, and the provider counts as down.
DOWN_AFTER = 3


@dataclass(frozen=True)
class Outcome:
    at: float  # the watch's clock
    wall: datetime
    failure: FailureKind | None


@dataclass(frozen=True)
class ProviderStatus:
    state: ProviderState
    last_error_kind: FailureKind | None
    last_error_at: datetime | None
    last_success_at: datetime | None


class Attempt:
    """One attempt's part in the watch: whether it reached the provider, and how it ended."""

    def __init__(self) -> None:
        self.connected = False
        self.outcome: FailureKind | Literal["cancelled"] | None = "cancelled"

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        # httpx's `trace` extension: any event of the connection means the pool gave one.
        self.connected = True

    def succeeded(self) -> None:
        self.outcome = None

    def failed(self, kind: FailureKind) -> None:
        self.outcome = kind


class CallWatch:
    def __init__(
        self,
        slots: int,
        stall_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slots = Slots(slots)
        self.stall_after_s = stall_after_s
        self._clock = clock
        self._active = 0  # attempts waiting for a slot or holding one
        self._progress_at = clock()
        self._recent: deque[Outcome] = deque(maxlen=RECENT_MAX)

    @asynccontextmanager
    async def attempt(self) -> AsyncIterator[Attempt]:
        """Wait for a slot, hold it for one attempt, and note how the attempt ended."""
        if self._active == 0:
            self._progress_at = self._clock()  # a quiet spell is not a stall
        self._active += 1
        attempt = Attempt()
        try:
            async with self.slots.hold():
                yield attempt
        finally:
            self._active -= 1
            self._ended(attempt)

    def _ended(self, attempt: Attempt) -> None:
        # An attempt that timed out without ever getting a connection says nothing about the
        # provider and is no progress either: the service's own pool was exhausted.
        if attempt.outcome == "timeout" and not attempt.connected:
            return
        now = self._clock()
        self._progress_at = now
        if attempt.outcome != "cancelled":
            self._recent.append(Outcome(now, datetime.now(UTC), attempt.outcome))

    def stalled_s(self) -> float:
        """Seconds calls have waited or run with no attempt ending; 0 with no calls."""
        if self._active == 0:
            return 0.0
        return max(0.0, self._clock() - self._progress_at)

    def stalled(self) -> bool:
        return self.stalled_s() > self.stall_after_s

    def provider(self) -> ProviderStatus:
        now = self._clock()
        recent = [o for o in self._recent if now - o.at <= RECENT_S]
        failures = [o for o in self._recent if o.failure is not None]
        successes = [o for o in self._recent if o.failure is None]
        latest = recent[-DOWN_AFTER:]
        if len(latest) == DOWN_AFTER and all(o.failure is not None for o in latest):
            state: ProviderState = "down"
        elif any(o.failure is not None for o in recent):
            state = "degraded"
        else:
            state = "ok"
        last_error = failures[-1] if failures else None
        return ProviderStatus(
            state=state,
            last_error_kind=last_error.failure if last_error else None,
            last_error_at=last_error.wall if last_error else None,
            last_success_at=successes[-1].wall if successes else None,
        )
