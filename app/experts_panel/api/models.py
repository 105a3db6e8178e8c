"""The API's own response bodies (the contract the front end reads).

The post is `experts_panel.posts.PostOut`, the query's bodies and events are in
`experts_panel.pipeline.contract`: each shape is written once, where it is made.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from experts_panel.public_errors import ErrorCode

# Why the service itself cannot make progress; any of them makes /health answer 503.
HealthProblem = Literal["database_unreachable", "event_loop_lag", "model_calls_stalled"]


class QueriesHealth(BaseModel):
    running: int  # queries holding one of the slots
    waiting: int  # queries waiting for a slot
    slots: int  # MAX_CONCURRENT_QUERIES
    tasks: int  # tasks that queries started and that have not ended, the queries' own included


class ModelCallsHealth(BaseModel):
    in_flight: int  # attempts holding one of the slots
    waiting: int  # attempts waiting for a slot
    slots: int  # MAX_CONCURRENT_MODEL_CALLS
    stalled_s: float  # seconds calls have waited or run with no attempt ending
    stall_limit_s: float  # past this, the service counts as stuck


class ProviderError(BaseModel):
    kind: Literal["timeout", "connection", "rate_limited", "server_error", "refused", "bad_answer"]
    at: str


class ProviderHealth(BaseModel):
    """The model provider as its recent answers show it; never a reason for 503."""

    state: Literal["ok", "degraded", "down", "not_configured"]
    last_error: ProviderError | None
    last_success_at: str | None


class Health(BaseModel):
    status: Literal["healthy", "unhealthy"]
    database: Literal["ok", "unreachable"]
    openrouter_configured: bool
    timestamp: str
    problems: list[HealthProblem]
    event_loop_lag_s: float  # the worst delay of the event loop in the last minute
    queries: QueriesHealth
    model_calls: ModelCallsHealth | None  # None without a model API key
    provider: ProviderHealth


class ExpertOut(BaseModel):
    id: str
    name: str
    channel_username: str | None
    channel_url: str | None
    chat_type: str | None
    post_count: int
    comment_count: int
    first_post_at: str | None
    last_post_at: str | None


class ErrorOut(BaseModel):
    detail: str
    code: ErrorCode  # docs/errors.md
