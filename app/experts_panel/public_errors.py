"""What a reader is told when something fails: a stable code and one line of ours.

The codes are a contract, listed in docs/errors.md. What actually happened (SQL, a stack
trace, the provider's own words) goes to the log under the request's id, never to a reader:
it can carry table names, file paths or a provider's quotes of the prompt.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from experts_panel.pipeline.model import ModelError, ModelErrorKind

ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "method_not_allowed",
    "http_error",
    "request_too_large",
    "request_timeout",
    "internal",
    "database_busy",
    "query_timeout",
    "model_unavailable",
    "model_refused",
    "model_bad_answer",
]
ERROR_CODES: tuple[str, ...] = ErrorCode.__args__  # type: ignore[attr-defined]

MESSAGES: dict[ErrorCode, str] = {
    "invalid_request": "the request is not valid",
    "not_found": "not found",
    "method_not_allowed": "this method is not allowed here",
    "http_error": "the request could not be served",
    "request_too_large": "the request body is too large",
    "request_timeout": "the request body did not arrive in time",
    "internal": "the service failed; its log has the details under this request's id",
    "database_busy": "the database is busy; try again in a moment",
    "query_timeout": "the query took too long and was stopped",
    "model_unavailable": "the model API did not answer; try again later",
    "model_refused": "the model API refused the request",
    "model_bad_answer": "the model's answer could not be used",
}

_MODEL_CODES: dict[ModelErrorKind, ErrorCode] = {
    "unavailable": "model_unavailable",
    "refused": "model_refused",
    "bad_answer": "model_bad_answer",
}

# SQLite's primary result codes for a database another connection holds.
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


@dataclass(frozen=True)
class PublicError:
    code: ErrorCode
    message: str


def public_error(code: ErrorCode, message: str | None = None) -> PublicError:
    return PublicError(code, message or MESSAGES[code])


def failure(exc: BaseException) -> PublicError:
    """What a reader may be told about `exc`, raised while serving them."""
    if isinstance(exc, ModelError):
        return public_error(_MODEL_CODES[exc.kind])
    if _database_busy(exc):
        return public_error("database_busy")
    return public_error("internal")


def _database_busy(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
                return True
        # SQLAlchemy keeps the driver's exception as `orig`.
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False
