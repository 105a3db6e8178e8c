"""Each HTTP request's status and time, told once to whoever keeps a record of requests (the
access log, the metrics). Pure ASGI, so a streamed answer stays streamed and is timed to its
end; a request that ends by an exception counts as a 500."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass(frozen=True)
class FinishedRequest:
    scope: Scope  # with the matched route, which the router adds on the way in
    status: int
    duration_s: float


Observer = Callable[[FinishedRequest], None]


class WhenFinished:
    def __init__(self, app: ASGIApp, observers: Sequence[Observer]) -> None:
        self.app = app
        self.observers = tuple(observers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.observers:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            finished = FinishedRequest(scope, status, time.perf_counter() - started)
            for observe in self.observers:
                observe(finished)
