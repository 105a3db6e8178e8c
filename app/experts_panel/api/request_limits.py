"""What one request may send: a body of at most 64 KiB, arriving within REQUEST_BODY_TIMEOUT.

The app enforces both itself, so `experts-panel serve` reached without nginx (the demo, a
development run) is bounded too. A body declared larger is refused with 413 before a byte
of it is read; one sent without a length is cut off as soon as it passes the limit, so it
never sits in memory whole. hypercorn has no deadline for a whole body: its `read_timeout`
bounds each read of a connection, so a client dripping a byte now and then resets it
forever, and it would also end an event stream whose reader rightly sends nothing for
minutes. The deadline here runs from the request's start to its body's last byte; past it
the request is answered 408, and hypercorn closes a connection whose request was not read
to its end.

Pure ASGI, like the other middlewares, so streamed responses stay streamed.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from experts_panel.api.errors import error_response
from experts_panel.public_errors import public_error

# Questions are small JSON bodies; the longest a reader can send is well under 8 KiB.
MAX_BODY_BYTES = 64 * 1024


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


class BodyTooSlow(HTTPException):
    def __init__(self, deadline_s: float) -> None:
        super().__init__(408, f"the request body did not arrive within {deadline_s:g} s")


def too_large_message(limit: int) -> str:
    return f"the request body is larger than {limit // 1024} KiB"


class RequestLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int, body_deadline_s: float) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_deadline_s = body_deadline_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            told = public_error("request_too_large", too_large_message(self.max_body_bytes))
            await error_response(told)(scope, receive, send)
            return
        limit, deadline_s = self.max_body_bytes, self.body_deadline_s
        deadline = asyncio.get_running_loop().time() + deadline_s
        received = 0
        complete = False

        async def limited() -> Message:
            # The app's own exception handlers turn these into the 413 or the 408.
            nonlocal received, complete
            if complete:  # from here on only a disconnect can come, and it may come late
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(deadline_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        await self.app(scope, limited, send)
