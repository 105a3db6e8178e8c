"""`POST /api/v1/query`: ask the panel; progress streams as Server-Sent Events.

Each event is one `data:` line holding a `ProgressEvent` (one of the event models of
`pipeline/contract.py`, told apart by `event_type`); `complete` carries the whole
`MultiExpertQueryResponse`. Comment lines keep the stream alive through proxies. With
`stream_progress=false` the answer comes as one JSON.

The work runs as a query of `Services.runs`, in a task of its own. A reader who goes away
cancels it, once, and nothing waits for it in the response: the response is being cancelled
itself, and its cancellation would reach the work again and again, cutting short the
clean-up (model connections closed, database connections handed back) the first one began.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse
from starlette.types import Receive, Scope, Send

from experts_panel.api.deps import ServicesDep
from experts_panel.api.errors import error_response
from experts_panel.api.models import ErrorOut
from experts_panel.api.schema import STREAM_MESSAGE
from experts_panel.expert_catalog import UnknownExperts
from experts_panel.logs import get_logger
from experts_panel.observability.query_tracker import QueryTracker
from experts_panel.pipeline.contract import (
    ErrorData,
    ErrorEvent,
    MultiExpertQueryResponse,
    ProgressEvent,
    QueryRequest,
)
from experts_panel.pipeline.runner import run_query
from experts_panel.public_errors import PublicError, failure, public_error
from experts_panel.query_runs import QueryRun

router = APIRouter()
log = get_logger(__name__)


def _invalid(field: str, message: str, value: Any) -> RequestValidationError:
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": message, "input": value}]
    )


@router.post(
    "/api/v1/query",
    response_model=MultiExpertQueryResponse,
    responses={
        200: {
            "description": "The answer as JSON, or (stream_progress) its events as a stream",
            "content": {"text/event-stream": {"schema": STREAM_MESSAGE}},
        },
        408: {"model": ErrorOut, "description": "The body did not arrive in time."},
        413: {"model": ErrorOut, "description": "The body is over 64 KiB."},
        502: {"model": ErrorOut, "description": "The model API failed (JSON answer only)."},
        504: {"model": ErrorOut, "description": "The query took too long (JSON answer only)."},
    },
)
async def query(body: QueryRequest, services: ServicesDep, request: Request) -> Any:
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
    events: asyncio.Queue[ProgressEvent] = asyncio.Queue()
    tracker = QueryTracker(request.app.state.metrics)

    async def emit(event: ProgressEvent) -> None:
        tracker.saw(event)
        if body.stream_progress:
            await events.put(event)

    async def work() -> MultiExpertQueryResponse | PublicError:
        try:
            async with asyncio.timeout(timeout):
                return await run_query(services, body, request_id, experts, emit)
        except TimeoutError:
            log.warning("query timed out", timeout_s=timeout)
            told = public_error(
                "query_timeout", f"the query took longer than {timeout:g} s and was stopped"
            )
        except Exception as exc:
            told = failure(exc)
            log.exception("query failed", code=told.code)
        await emit(_error(told, request_id))
        return told

    run = services.runs.start(request_id, tracker.around(work()))

    if not body.stream_progress:
        return await _answer(run, request)

    async def stream() -> AsyncIterator[dict[str, str]]:
        while True:
            event = await events.get()
            yield {"data": event.model_dump_json()}
            if event.event_type in ("complete", "error"):
                return

    ping = int(max(1, services.settings.SSE_KEEPALIVE_SECONDS))
    return _RunStream(run, stream(), ping=ping)


async def _answer(run: QueryRun, request: Request) -> Any:
    """The JSON answer, once the work is done; a reader who goes away first cancels it."""
    assert run.task is not None
    gone = asyncio.get_running_loop().create_task(_disconnected(request))
    try:
        await asyncio.wait({run.task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        run.cancel()  # a no-op once the work is done
    if not run.task.done() or run.task.cancelled():
        return JSONResponse({}, status_code=499)  # nobody is there to read it
    result = run.task.result()
    if isinstance(result, PublicError):
        return error_response(result)
    return result


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


class _RunStream(EventSourceResponse):
    """The event stream of one query, which stops the query's work when it ends.

    However it ends: read to the end (then this is a no-op), or cut off by a reader who hung
    up. Not in the stream's generator: a response cut off during a send leaves it suspended
    where it last yielded, and some versions of sse-starlette never close it, so its clean-up
    would wait for the garbage collector while the work went on.
    """

    def __init__(self, run: QueryRun, content: AsyncIterator[dict[str, str]], ping: int) -> None:
        super().__init__(content, ping=ping)
        self._run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._run.cancel()


def _error(told: PublicError, request_id: str) -> ErrorEvent:
    return ErrorEvent(message=told.message, data=ErrorData(code=told.code, request_id=request_id))
