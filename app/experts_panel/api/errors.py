"""Error responses: every one carries a stable `code` and a line of ours, never internals.

FastAPI's own bodies are kept (`detail`: a string, or for 422 the list of field errors the
front end reads) and gain `code`. An exception nothing else handled becomes a 500 with
`internal` (or 503 with `database_busy`); its text and stack go to the log, with the
request's id, which the response carries in `X-Request-ID`.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from experts_panel.logs import get_logger
from experts_panel.public_errors import ErrorCode, PublicError, failure

log = get_logger("experts_panel.http")

STATUS_OF: dict[ErrorCode, int] = {
    "invalid_request": 422,
    "not_found": 404,
    "method_not_allowed": 405,
    "http_error": 400,
    "internal": 500,
    "database_busy": 503,
    "query_timeout": 504,
    "model_unavailable": 502,
    "model_refused": 502,
    "model_bad_answer": 502,
}

_CODE_OF_STATUS: dict[int, ErrorCode] = {
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_request",
}


def error_response(told: PublicError) -> JSONResponse:
    return JSONResponse(
        {"detail": told.message, "code": told.code}, status_code=STATUS_OF[told.code]
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _CODE_OF_STATUS.get(exc.status_code, "http_error")
    if exc.status_code >= 500:
        code = "internal"
    return JSONResponse(
        {"detail": exc.detail, "code": code},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": jsonable_encoder(exc.errors()), "code": "invalid_request"}, status_code=422
    )


class UnhandledErrors:
    """An exception that reached the top answers with a code, not a stack; the log has it.

    Pure ASGI, so streamed responses stay streamed. Placed inside the request-id and access
    log middlewares, so the 500 has its `X-Request-ID` and its access-log line.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def note_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, note_start)
        except Exception as exc:
            told = failure(exc)
            log.exception("request failed", code=told.code, path=scope.get("path"))
            if started:
                raise  # half a response is out; only closing the connection is left
            await error_response(told)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_middleware(UnhandledErrors)
