"""One expert's pass through the phases: what each phase reads and leaves for the next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from experts_panel.db.database import Database
from experts_panel.experts import Expert
from experts_panel.logs import get_logger
from experts_panel.pipeline.contract import (
    PhaseProgressEvent,
    ProgressData,
    ProgressEvent,
    QueryRequest,
)
from experts_panel.pipeline.model import Model, ModelError, Usage
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    PhaseName,
    Post,
    RankedPost,
    Verdict,
)
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import Embedder, Vectors
from experts_panel.settings import Settings

log = get_logger(__name__)

Emit = Callable[[ProgressEvent], Awaitable[None]]


@dataclass
class ExpertRun:
    expert: Expert
    question: str
    language: str
    request: QueryRequest
    settings: Settings
    model: Model
    database: Database
    embedder: Embedder
    cache: VectorCache
    question_vector: Vectors
    emit: Emit
    # The earliest post date the query may consider (`recency.window_start`); None for all.
    since: str | None = None
    usage: Usage = field(default_factory=Usage)
    notices: list[str] = field(default_factory=list)
    # filled phase by phase
    posts: dict[int, Post] = field(default_factory=dict)  # telegram id -> post shown to map
    verdicts: dict[int, Verdict] = field(default_factory=dict)
    complement: list[int] = field(default_factory=list)  # MEDIUM posts kept after scoring
    context: dict[int, Post] = field(default_factory=dict)  # linked posts from resolve
    ranked: list[RankedPost] = field(default_factory=list)
    answer: Answer | None = None
    groups: list[CommentGroup] = field(default_factory=list)
    synthesis: str | None = None

    async def progress(self, phase: PhaseName, message: str, **data: Any) -> None:
        found = ProgressData.model_validate({"expert_id": self.expert.id, **data})
        await self.emit(PhaseProgressEvent(phase=phase, message=message, data=found))

    def model_failed(self, notice: str, exc: ModelError, **values: Any) -> None:
        """A phase goes on without the model: the reader is told in the answer's notices, in
        words of ours, and the log keeps the provider's."""
        log.warning("model call failed, going on without it", phase=notice, error=str(exc))
        reason = text(self.language, f"model_{exc.kind}")
        self.notices.append(text(self.language, notice, reason=reason, **values))

    def shown_posts(self) -> set[int]:
        """The posts of this expert that the model was shown to write from: the answer's, and
        those whose comments were grouped. A model-written field may cite these only."""
        shown = {r.post.telegram_message_id for r in self.ranked}
        return shown | {g.post_telegram_message_id for g in self.groups}

    def ids(self, relevance: str) -> list[int]:
        return [i for i, v in self.verdicts.items() if v.relevance == relevance]
