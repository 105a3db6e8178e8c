"""HTTP requests by route template and status, with their latency (told by
`finished_requests.WhenFinished`, which times a streamed answer to its end)."""

from __future__ import annotations

from starlette.types import Scope

from experts_panel.finished_requests import FinishedRequest, Observer
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


def count_requests(metrics: PanelMetrics) -> Observer:
    """An observer for `WhenFinished` that counts each request and its time."""

    def count(finished: FinishedRequest) -> None:
        route, method = route_label(finished.scope), finished.scope["method"]
        metrics.http_requests.labels(route, method, str(finished.status)).inc()
        metrics.http_duration.labels(route, method).observe(finished.duration_s)

    return count
