"""`POST /api/v1/query`: ask the panel; progress streams as Server-Sent Events.

Each event is one `data:` line holding a `ProgressEvent`; `complete` carries the whole
`MultiExpertQueryResponse`. Comment lines keep the stream alive through proxies. A client
that goes away cancels the work. With `stream_progress=false` the answer comes as one JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from sse_starlette import EventSourceResponse

from experts_panel.expert_catalog import UnknownExperts
from experts_panel.logs import get_logger
from experts_panel.pipeline.contract import (
    MultiExpertQueryResponse,
    ProgressEvent,
    QueryRequest,
)
from experts_panel.pipeline.runner import Services, run_query

router = APIRouter()
log = get_logger(__name__)


async def get_services(request: Request) -> Services:
    # async: a plain function would be run in a worker thread, a hop on every request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def _invalid(field: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


@router.post(
    "/api/v1/query",
    response_model=MultiExpertQueryResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def query(body: QueryRequest, services: ServicesDep) -> Any:
    limit = services.settings.MAX_POSTS_LIMIT
    if body.max_posts is not None and body.max_posts > limit:
        raise _invalid("max_posts", f"at most {limit} (MAX_POSTS_LIMIT)", body.max_posts)
    try:
        experts = await services.experts.resolve(body.expert_filter)
    except UnknownExperts as exc:
        raise _invalid("expert_filter", str(exc), body.expert_filter) from None
    if not experts:
        raise _invalid("expert_filter", "there are no experts yet: import one first", None)
    request_id = correlation_id.get() or uuid.uuid4().hex
    timeout = services.settings.REQUEST_TIMEOUT

    if not body.stream_progress:

        async def ignore(_: ProgressEvent) -> None:
            return None

        async with asyncio.timeout(timeout):
            return await run_query(services, body, request_id, experts, ignore)

    events: asyncio.Queue[ProgressEvent] = asyncio.Queue()

    async def work() -> None:
        try:
            async with asyncio.timeout(timeout):
                await run_query(services, body, request_id, experts, events.put)
        except TimeoutError:
            await events.put(_error(f"the query took longer than {timeout:g} s and was stopped"))
        except Exception as exc:
            log.exception("query failed")
            await events.put(_error(f"the query failed: {exc}"))

    task = asyncio.create_task(work())

    async def stream() -> AsyncIterator[dict[str, str]]:
        try:
            while True:
                event = await events.get()
                yield {"data": event.model_dump_json()}
                if event.event_type in ("complete", "error"):
                    return
        finally:
            # The client is gone or the stream ended: stop any work still running.
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return EventSourceResponse(stream(), ping=int(max(1, services.settings.SSE_KEEPALIVE_SECONDS)))


def _error(message: str) -> ProgressEvent:
    return ProgressEvent(event_type="error", status="error", message=message)
