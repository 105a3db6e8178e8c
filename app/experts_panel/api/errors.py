"""Error responses: every one carries a stable `code` and a line of ours, never internals.

FastAPI's own bodies are kept (`detail`: a string, or for 422 the list of field errors the
front end reads) and gain `code`. What a 422 quotes of the request is cut short and made
valid UTF-8 and JSON: a field's value can be 60 KB, hold a lone surrogate or be NaN. An
exception nothing else handled becomes a 500 with `internal` (or 503 with `database_busy`);
its text and stack go to the log, with the request's id, which the response carries in
`X-Request-ID`.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

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
    "request_too_large": 413,
    "request_timeout": 408,
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
    408: "request_timeout",
    413: "request_too_large",
    422: "invalid_request",
}

# How much of a value a 422 quotes back, in characters: enough to recognise it.
QUOTED_INPUT_CHARS = 100
QUOTED_TEXT_CHARS = 300
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def error_response(told: PublicError) -> JSONResponse:
    return JSONResponse(
        {"detail": told.message, "code": told.code}, status_code=STATUS_OF[told.code]
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI's "There was an error parsing the body": JSON that is not UTF-8.
        return _field_errors(
            [{"type": "json_invalid", "loc": ["body"], "msg": "the body is not valid UTF-8"}]
        )
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
    return _field_errors(jsonable_encoder(exc.errors()))


def _field_errors(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = [
        {
            key: _quoted(value, QUOTED_INPUT_CHARS if key == "input" else QUOTED_TEXT_CHARS)
            for key, value in error.items()
        }
        for error in errors
    ]
    return JSONResponse({"detail": detail, "code": "invalid_request"}, status_code=422)


def _quoted(value: Any, limit: int) -> Any:
    """`value` as it may be quoted back: strings cut to `limit` characters, lone surrogates
    replaced, numbers that JSON cannot hold as text, anything bigger as its JSON cut short."""
    if isinstance(value, str):
        value = _SURROGATE.sub("\ufffd", value)
        return value if len(value) <= limit else value[: limit - 1] + "…"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict | list | tuple):
        shown: Any = (
            {_quoted(str(k), limit): _quoted(v, limit) for k, v in value.items()}
            if isinstance(value, dict)
            else [_quoted(v, limit) for v in value]
        )
        text = json.dumps(shown, ensure_ascii=False)
        return shown if len(text) <= limit else text[: limit - 1] + "…"
    return value


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
