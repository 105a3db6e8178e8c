"""Structured logging: JSON lines in production, readable lines in development.

Every record made while a request is served carries that request's id (from the
`X-Request-ID` header, or a new one), so one query's lines can be found together. Each line
is rendered, then redacted: the configured key and anything shaped like a key are gone from
it, whatever field, exception or library put them there.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from asgi_correlation_id import correlation_id

from experts_panel.redaction import Redactor


def _add_request_id(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    request_id = correlation_id.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(level: str, json_output: bool, redact: Redactor | None = None) -> None:
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    redacted = _Redacted(renderer, redact or Redactor())
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redacted,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # hypercorn's own loggers go through the same formatter.
    for name in ("hypercorn.error", "hypercorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class _Redacted:
    """The renderer, its whole line redacted."""

    def __init__(self, renderer: Any, redact: Redactor) -> None:
        self.renderer = renderer
        self.redact = redact

    def __call__(self, logger: Any, name: str, event: MutableMapping[str, Any]) -> str:
        return self.redact(str(self.renderer(logger, name, event)))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
