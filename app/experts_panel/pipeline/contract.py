"""The query's request, responses and progress events: the contract the front end reads.

Each event type is a model of its own, told apart by `event_type`; `ProgressEvent` is their
union. The API adds them to the OpenAPI schema (`experts_panel.api.schema`), where the front
end's types are generated from (`frontend/src/lib/api-types.ts`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_serializer,
)

from experts_panel.experts import SLUG
from experts_panel.pipeline.types import PhaseName
from experts_panel.public_errors import ErrorCode

EventType = Literal[
    "start",
    "phase_start",
    "progress",
    "expert_complete",
    "expert_error",
    "moderator",
    "error",
    "complete",
]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]

Confidence = Literal["HIGH", "MEDIUM", "LOW"]


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
    # Strict as well: 3.0, "3" or true are not a number of months.
    recent_months: int | None = Field(
        default=None,
        ge=1,
        le=120,
        strict=True,
        description=(
            "Only posts of the last this many calendar months (UTC) are considered, in every "
            "phase (default: all posts)."
        ),
    )
    moderator: bool = Field(
        default=False,
        strict=True,
        description="After the experts, a synthesis across their answers (docs/api.md); "
        "a no-op unless at least two experts answered from their posts.",
    )

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


# The answer's models always carry every field, defaults included: the schema says they are
# required, so that the types generated from it need no checks for absent ones.
_ANSWER = ConfigDict(json_schema_serialization_defaults_required=True)


class UsageOut(BaseModel):
    model_config = _ANSWER

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CommentOut(BaseModel):
    """A comment in a group, as the answer shows it (the post's own are `PostCommentOut`)."""

    telegram_message_id: int
    author_name: str | None
    text: str
    date: str
    is_channel_author: bool


class CommentGroupOut(BaseModel):
    model_config = _ANSWER

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
    confidence: Confidence
    posts_analyzed: int
    processing_time_ms: int
    relevant_comment_groups: list[CommentGroupOut]
    comment_groups_synthesis: str | None
    language: str
    usage: UsageOut
    notices: list[str]


class ExpertFailure(BaseModel):
    """An expert that failed: one line of ours and a code of docs/errors.md."""

    expert_id: str
    error: str
    code: ErrorCode


# How the moderator cites: the expert and the post, `[post:EXPERT_ID/ID]`; only posts of that
# expert which its own answer drew on survive (pipeline/qualified_citations.py).
MODERATOR_CITATION_FORM = "[post:EXPERT_ID/ID]"


class ModeratorOut(BaseModel):
    """The synthesis across the experts' answers: where they agree, where they differ and why.

    `synthesis` is Markdown citing `[post:EXPERT_ID/ID]`; None when the model failed, and then
    `notices` says why. `experts` are the answers it read, in the order of the request.
    """

    model_config = _ANSWER

    synthesis: str | None
    experts: list[str]
    model: str
    processing_time_ms: int
    usage: UsageOut
    notices: list[str] = []


class MultiExpertQueryResponse(BaseModel):
    model_config = _ANSWER

    query: str
    expert_responses: list[ExpertResponse]
    total_processing_time_ms: int
    request_id: str
    usage: UsageOut
    errors: list[ExpertFailure] = []
    # Null unless the moderator was asked for and at least two experts answered (no default:
    # the route's schema would leave a null default out, the events' would not).
    moderator: ModeratorOut | None


# The events, each one `data:` line of the stream. Their keys and order are those the front
# end has always read: event_type, phase, status, message, timestamp, data.


class _Event(BaseModel):
    # Every field is in every event, defaults included: the schema says so (required).
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    event_type: EventType
    phase: PhaseName | None = None
    status: Literal["ok", "error"] = "ok"
    message: str
    timestamp: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StartData(_Data):
    request_id: str
    experts: list[str]
    model: str
    language: str


class StartEvent(_Event):
    """The query began: which experts are asked, by which model, in which language."""

    event_type: Literal["start"] = "start"
    status: Literal["ok"] = "ok"
    phase: None = None
    data: StartData


class ExpertRef(_Data):
    expert_id: str


class PhaseStartEvent(_Event):
    """An expert entered a phase."""

    event_type: Literal["phase_start"] = "phase_start"
    status: Literal["ok"] = "ok"
    phase: PhaseName
    data: ExpertRef


class GroupBrief(_Data):
    post: int
    kind: Literal["author", "community", "drift"]


class ProgressData(_Data):
    """What a phase found, or that the query waits for a slot (`queued`, without an expert).

    Each key is there only when its phase gives it: absent, never null.
    """

    expert_id: str | None = None
    queued: bool | None = None
    high: int | None = None  # map
    medium: int | None = None  # map
    analyzed: int | None = None  # map
    kept: list[int] | None = None  # medium_scoring
    linked: list[int] | None = None  # resolve
    main_sources: list[int] | None = None  # reduce
    confidence: Confidence | None = None  # reduce
    groups: list[GroupBrief] | None = None  # comment_groups

    # Unannotated on purpose: pydantic would take a return type for the schema of the data,
    # and the fields above are what it holds.
    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class PhaseProgressEvent(_Event):
    """What a phase found so far; with no expert and no phase, that the query is queued."""

    event_type: Literal["progress"] = "progress"
    status: Literal["ok"] = "ok"
    data: ProgressData


class ExpertCompleteData(_Data):
    expert_id: str
    response: ExpertResponse


class ExpertCompleteEvent(_Event):
    """An expert's answer, whole."""

    event_type: Literal["expert_complete"] = "expert_complete"
    status: Literal["ok"] = "ok"
    phase: Literal["assembly"] = "assembly"
    data: ExpertCompleteData


class ExpertErrorEvent(_Event):
    """An expert failed; the others go on."""

    event_type: Literal["expert_error"] = "expert_error"
    phase: None = None
    status: Literal["error"] = "error"
    data: ExpertFailure


class ModeratorEvent(_Event):
    """The moderator's synthesis, after every expert's result and before `complete`; status
    `error` when its model failed (the experts' answers stand)."""

    event_type: Literal["moderator"] = "moderator"
    phase: None = None
    data: ModeratorOut


class ErrorData(_Data):
    code: ErrorCode
    request_id: str


class ErrorEvent(_Event):
    """The whole query failed; the last event."""

    event_type: Literal["error"] = "error"
    phase: None = None
    status: Literal["error"] = "error"
    data: ErrorData


class CompleteData(_Data):
    response: MultiExpertQueryResponse


class CompleteEvent(_Event):
    """The query's answer, whole; the last event."""

    event_type: Literal["complete"] = "complete"
    status: Literal["ok"] = "ok"
    phase: None = None
    data: CompleteData


EVENT_MODELS: tuple[type[_Event], ...] = (
    StartEvent,
    PhaseStartEvent,
    PhaseProgressEvent,
    ExpertCompleteEvent,
    ExpertErrorEvent,
    ModeratorEvent,
    ErrorEvent,
    CompleteEvent,
)

ProgressEvent = Annotated[
    StartEvent
    | PhaseStartEvent
    | PhaseProgressEvent
    | ExpertCompleteEvent
    | ExpertErrorEvent
    | ModeratorEvent
    | ErrorEvent
    | CompleteEvent,
    Field(discriminator="event_type"),
]
PROGRESS_EVENT: TypeAdapter[ProgressEvent] = TypeAdapter(ProgressEvent)
