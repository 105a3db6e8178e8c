"""HTTP requests by route template and status, with their latency: pure ASGI, so a streamed
answer stays streamed and is timed to its end."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from experts_panel.observability.metrics import PanelMetrics


def route_label(scope: Scope) -> str:
    """The matched route's template (`/api/v1/posts/{expert_id}/{post_id}`), never the path a
    client sent: paths are unbounded, templates are not."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    if "endpoint" in scope:  # the front end's mount, which names no route
        return "front_end"
    return "unmatched"


class HttpMetrics:
    def __init__(self, app: ASGIApp, metrics: PanelMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
            route, method = route_label(scope), scope["method"]
            self.metrics.http_requests.labels(route, method, str(status)).inc()
            self.metrics.http_duration.labels(route, method).observe(time.perf_counter() - started)
