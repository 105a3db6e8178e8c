"""The FastAPI application: routes, CORS, request ids, and the database's lifetime."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope

from experts_panel.api.errors import install_error_handlers
from experts_panel.api.request_limits import MAX_BODY_BYTES, RequestLimits
from experts_panel.api.routes import experts, health, posts, query
from experts_panel.api.schema import install as install_schema
from experts_panel.db.database import Database
from experts_panel.finished_requests import FinishedRequest, WhenFinished
from experts_panel.language import detect_language
from experts_panel.logs import get_logger
from experts_panel.loop_lag import LoopLag
from experts_panel.model_setup import Models
from experts_panel.observability.http_metrics import count_requests
from experts_panel.observability.metrics import PanelMetrics
from experts_panel.pipeline.runner import Services
from experts_panel.query_runs import track_tasks, untrack_tasks
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
from experts_panel.settings import Settings

DEV_ORIGINS = ("http://localhost:5173", "http://127.0.0.1:5173")
log = get_logger("experts_panel.http")


def allowed_origins(settings: Settings) -> list[str]:
    # The Vite development server runs on the developer's machine, never beside production.
    origins = [] if settings.ENVIRONMENT == "production" else list(DEV_ORIGINS)
    if settings.PRODUCTION_ORIGIN:
        origins.append(settings.PRODUCTION_ORIGIN)
    return origins


def log_request(finished: FinishedRequest) -> None:
    """One structured line per request."""
    log.info(
        "request",
        method=finished.scope["method"],
        path=finished.scope["path"],
        status=finished.status,
        duration_ms=round(finished.duration_s * 1000, 1),
    )


async def _warm_up(services: Services) -> None:
    try:
        await asyncio.to_thread(services.embedder.encode, ["warm up"])
        await asyncio.to_thread(detect_language, "разогрев перед первым вопросом")
        experts = await services.experts.all()
        async with services.database.read() as conn:
            for expert in experts:
                await services.cache.vectors(conn, expert.id, services.embedder.name)
    except Exception as exc:  # a failed warm-up only costs the first reader some time
        log.warning("warm-up failed", error=str(exc))
    # What is loaded by now (about 100,000 objects of the libraries, the models, the caches)
    # lives as long as the process. Left to the collector, each full collection walks it
    # all: about 50 ms on a small VPS, in the middle of whichever requests are being served.
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, database: Database | None = None) -> FastAPI:
    """Build the app. Without `database`, it opens (and migrates) one at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = database is None
        if database is None:
            opened, report = await Database.open(settings)
            if report.applied:
                log.info("migrated", applied=report.applied, backup=str(report.backup))
            app.state.database = opened
        else:
            app.state.database = database
        models = Models.from_settings(settings, metrics.model_call if metrics else None)
        app.state.models = models
        embedder = UniversalSentenceEncoder()
        app.state.services = Services(
            settings=settings,
            database=app.state.database,
            embedder=embedder,
            cache=VectorCache(),
            models=models,
        )
        # /health reads both: how late the loop runs, and what tasks queries left behind.
        track_tasks(asyncio.get_running_loop())
        app.state.loop_lag = LoopLag()
        app.state.loop_lag.start()
        # First uses are slow (loading the embedding and language models, reading each
        # expert's vectors): pay for them now, not on the first readers' time.
        warm_up = asyncio.create_task(_warm_up(app.state.services))
        try:
            yield
        finally:
            warm_up.cancel()
            await app.state.services.usage.close()
            await app.state.loop_lag.stop()
            untrack_tasks(asyncio.get_running_loop())
            await models.aclose()
            if owned:
                await app.state.database.close()

    production = settings.ENVIRONMENT == "production"
    app = FastAPI(
        title="Experts Panel",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None if production else "/api/docs",
        redoc_url=None,
        openapi_url=None if production else "/api/openapi.json",
    )
    app.state.settings = settings
    # Kept only when they are served (METRICS_PORT): otherwise nothing is counted at all.
    metrics = PanelMetrics() if settings.METRICS_PORT is not None else None
    app.state.metrics = metrics
    app.include_router(health.router)
    app.include_router(experts.router)
    app.include_router(posts.router)
    app.include_router(query.router)
    install_error_handlers(app)
    install_schema(app)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=MAX_BODY_BYTES,
        body_deadline_s=settings.REQUEST_BODY_TIMEOUT,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=allowed_origins(settings),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID"],
    )
    observers = [log_request] if metrics is None else [log_request, count_requests(metrics)]
    app.add_middleware(WhenFinished, observers=observers)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    if settings.STATIC_DIR is not None:
        app.router.routes.append(
            FrontEnd("/", StaticFiles(directory=settings.STATIC_DIR, html=True), name="frontend")
        )
    return app


class FrontEnd(Mount):
    """The built front end at `/`, for every path but the API's.

    A mount at `/` matches every path, which would hide the router's "this path takes other
    methods": `GET /api/v1/query` would look for a file and answer 404, not 405.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path == "/health" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)
