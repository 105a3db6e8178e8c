"""The query's request, responses and progress events: the contract the front end reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema, field_validator

from experts_panel.experts import SLUG

EventType = Literal[
    "start", "phase_start", "progress", "expert_complete", "expert_error", "error", "complete"
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]


# What `_slugs` accepts, said in the schema; the validator keeps its own messages.
_EXPERT_IDS = WithJsonSchema(
    {"type": "array", "items": {"type": "string", "pattern": SLUG.pattern}, "minItems": 1}
)


class QueryRequest(BaseModel):
    query: str = Field(min_length=3, max_length=1000, description="The question.")
    expert_filter: Annotated[list[str], _EXPERT_IDS] | None = Field(
        default=None, description="Expert ids to ask (default: all of them)."
    )
    max_posts: int | None = Field(
        default=None, ge=1, description="Posts per expert to consider (at most MAX_POSTS_LIMIT)."
    )
    # Strict: the schema says boolean, and pydantic alone would also take 1, 0.0 or "yes".
    include_comments: bool = Field(default=True, strict=True)
    include_comment_groups: bool = Field(default=False, strict=True)
    stream_progress: bool = Field(default=True, strict=True)

    @field_validator("query")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("the question needs at least 3 characters besides spaces")
        return value.strip()

    @field_validator("expert_filter")
    @classmethod
    def _slugs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("name at least one expert, or leave expert_filter out")
        bad = [v for v in value if not SLUG.match(v)]
        if bad:
            raise ValueError(f"not expert ids: {', '.join(repr(b) for b in bad)}")
        return list(dict.fromkeys(value))


class UsageOut(BaseModel):
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CommentOut(BaseModel):
    telegram_message_id: int
    author_name: str | None
    text: str
    date: str
    is_channel_author: bool


class CommentGroupOut(BaseModel):
    post_telegram_message_id: int
    kind: Literal["author", "community", "drift"]
    comments: list[CommentOut]
    topics: list[dict[str, Any]] = []


class ExpertResponse(BaseModel):
    expert_id: str
    expert_name: str
    channel_username: str | None
    answer: str
    main_sources: list[int]
    confidence: Literal["HIGH", "MEDIUM", "LOW"]
    posts_analyzed: int
    processing_time_ms: int
    relevant_comment_groups: list[CommentGroupOut]
    comment_groups_synthesis: str | None
    language: str
    usage: UsageOut
    notices: list[str]


class MultiExpertQueryResponse(BaseModel):
    query: str
    expert_responses: list[ExpertResponse]
    total_processing_time_ms: int
    request_id: str
    usage: UsageOut
    errors: list[dict[str, str]] = []


class ProgressEvent(BaseModel):
    event_type: EventType
    phase: str | None = None
    status: str
    message: str
    timestamp: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    data: dict[str, Any] = {}
