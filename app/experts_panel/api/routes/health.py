"""`GET /health`: what a load balancer, a HealthCmd or an operator asks first.

503 means the service itself cannot make progress, and a restart is the cure: the database
cannot be read, the event loop lags, or model calls are stuck in the service. The model
provider's own state is reported beside them and never makes it 503: restarting the stack
does not bring a provider back, and would only restart it in a loop through an outage.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from experts_panel.api.deps import DatabaseDep, ModelsDep, ServicesDep, SettingsDep
from experts_panel.api.models import (
    Health,
    HealthProblem,
    ModelCallsHealth,
    ProviderError,
    ProviderHealth,
    QueriesHealth,
)
from experts_panel.llm.call_watch import CallWatch
from experts_panel.logs import get_logger
from experts_panel.loop_lag import LoopLag

router = APIRouter()
log = get_logger(__name__)

# A loop this late answers every reader that late.
MAX_LOOP_LAG_S = 5.0


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(
    request: Request,
    database: DatabaseDep,
    settings: SettingsDep,
    services: ServicesDep,
    models: ModelsDep,
    response: Response,
) -> Health:
    problems: list[HealthProblem] = []
    try:
        await database.ping()
        reachable = True
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        log.warning("health check: database unreachable", error=str(exc))
        reachable = False
        problems.append("database_unreachable")
    loop_lag: LoopLag = request.app.state.loop_lag
    lag = loop_lag.worst_s()
    if lag > MAX_LOOP_LAG_S:
        log.warning("health check: the event loop lags", lag_s=round(lag, 3))
        problems.append("event_loop_lag")
    calls = models.calls
    if calls is not None and calls.stalled():
        log.warning("health check: model calls are stuck", stalled_s=round(calls.stalled_s(), 1))
        problems.append("model_calls_stalled")
    if problems:
        response.status_code = 503
    slots = services.query_slots
    return Health(
        status="unhealthy" if problems else "healthy",
        database="ok" if reachable else "unreachable",
        openrouter_configured=settings.openrouter_configured,
        timestamp=_iso(datetime.now(UTC)),
        problems=problems,
        event_loop_lag_s=round(lag, 3),
        queries=QueriesHealth(
            running=slots.in_use, waiting=slots.waiting, slots=slots.size, tasks=services.runs.tasks
        ),
        model_calls=_model_calls(calls),
        provider=_provider(calls),
    )


def _model_calls(calls: CallWatch | None) -> ModelCallsHealth | None:
    if calls is None:
        return None
    return ModelCallsHealth(
        in_flight=calls.slots.in_use,
        waiting=calls.slots.waiting,
        slots=calls.slots.size,
        stalled_s=round(calls.stalled_s(), 1),
        stall_limit_s=calls.stall_after_s,
    )


def _provider(calls: CallWatch | None) -> ProviderHealth:
    if calls is None:
        return ProviderHealth(state="not_configured", last_error=None, last_success_at=None)
    status = calls.provider()
    last_error = None
    if status.last_error_kind is not None and status.last_error_at is not None:
        last_error = ProviderError(kind=status.last_error_kind, at=_iso(status.last_error_at))
    return ProviderHealth(
        state=status.state,
        last_error=last_error,
        last_success_at=_iso(status.last_success_at) if status.last_success_at else None,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
