"""`GET /health`: what a load balancer, a HealthCmd or an operator asks first."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from sqlalchemy.exc import SQLAlchemyError

from experts_panel.api.deps import DatabaseDep, SettingsDep
from experts_panel.api.models import Health
from experts_panel.logs import get_logger

router = APIRouter()
log = get_logger(__name__)


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(database: DatabaseDep, settings: SettingsDep, response: Response) -> Health:
    try:
        await database.ping()
        reachable = True
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        log.warning("health check: database unreachable", error=str(exc))
        reachable = False
    if not reachable:
        response.status_code = 503
    return Health(
        status="healthy" if reachable else "unhealthy",
        database="ok" if reachable else "unreachable",
        openrouter_configured=settings.openrouter_configured,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )
