"""The metrics listener: `/metrics` on METRICS_HOST:METRICS_PORT, a port of its own, served
by the same process and event loop as the API but never through the API's port (nor nginx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import Receive, Scope, Send

from experts_panel.db.database import Database
from experts_panel.logs import get_logger
from experts_panel.model_setup import Models
from experts_panel.observability.metrics import LiveState, PanelMetrics
from experts_panel.observability.readings import (
    Budget,
    ExpertReading,
    Readings,
    database_bytes,
    expert_readings,
    read_backup_status,
    read_certificate,
)
from experts_panel.pipeline.runner import Services

log = get_logger(__name__)


@dataclass
class ExpertCounts:
    """The experts' counts, counted again only after a commit to the database.

    Counting every post and comment at each scrape read the whole of both indexes, some
    100 ms under load on 30,000 posts, every few seconds; the ages are computed from the
    newest post's time at each scrape, so they stay current between counts.
    """

    _version: int | None = None
    _readings: list[ExpertReading] = field(default_factory=list)

    async def read(self, database: Database) -> list[ExpertReading]:
        version = database.data_version()
        if version is None or version != self._version:
            self._readings = await expert_readings(database)
            self._version = version
        return self._readings


async def live_readings(services: Services, experts: ExpertCounts) -> Readings:
    """This moment's readings, by the running service (its budget count includes what its
    ledger has not written yet)."""
    settings = services.settings
    cert = settings.TLS_CERT_FILE
    return Readings(
        taken_at=datetime.now(UTC),
        budget=Budget(settings.DAILY_TOKEN_BUDGET, await services.usage.spent_today()),
        experts=await experts.read(services.database),
        database_bytes=database_bytes(settings.database_path),
        backup=read_backup_status(settings.backup_status_file),
        certificate=read_certificate(cert) if cert is not None else None,
    )


def live_state(services: Services, models: Models) -> LiveState:
    calls = models.calls
    slots = services.query_slots
    return LiveState(
        provider_state="not_configured" if calls is None else calls.provider().state,
        queries_running=slots.in_use,
        queries_waiting=slots.waiting,
    )


class MetricsEndpoint:
    """The listener's whole ASGI app: GET /metrics, and 404 for any other path."""

    def __init__(self, api: FastAPI, metrics: PanelMetrics) -> None:
        self.api = api
        self.metrics = metrics
        self.experts = ExpertCounts()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The API's own lifespan opens and closes everything; this app has nothing to do.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics":
            await _answer(send, 404, b"not found: metrics are at /metrics\n")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _answer(send, 405, b"method not allowed: GET /metrics\n")
            return
        services: Services | None = getattr(self.api.state, "services", None)
        models: Models | None = getattr(self.api.state, "models", None)
        if services is None or models is None:
            await _answer(send, 503, b"the service is starting\n")
            return
        try:
            body = self.metrics.render(
                live_state(services, models), await live_readings(services, self.experts)
            )
        except Exception as exc:  # a failed scrape must not touch the API
            log.warning("metrics: readings failed", error=str(exc), exc_info=True)
            await _answer(send, 500, b"the readings failed; the log says why\n")
            return
        await _answer(send, 200, body, CONTENT_TYPE_LATEST)


async def _answer(
    send: Send, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
