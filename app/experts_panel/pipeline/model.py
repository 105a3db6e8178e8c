"""The interface the pipeline owns: the model every phase talks to, what a call spends, and how
a call fails. `llm/` implements it (OpenRouter and the embedded model); the pipeline never
imports `llm/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentSections,
    ExpertAnswer,
    Post,
    RankedPost,
    Verdict,
)


@dataclass
class Usage:
    """Token usage, added up per call, per expert and per query."""

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.model_calls += other.model_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


# Why a model call failed, as a reader is told: the provider could not be reached or kept
# failing, it refused the request, or its answer could not be used.
ModelErrorKind = Literal["unavailable", "refused", "bad_answer"]


class ModelError(Exception):
    """A model call failed for good (after its retries); the message says how, in one line.

    The message may quote the provider, so it goes to the log, never to a reader; `kind` is
    what a reader may be told. `spent` holds what the failed call still cost (answers that
    came back but could not be used), so budgets and usage figures count it.
    """

    def __init__(
        self,
        message: str,
        spent: Usage | None = None,
        kind: ModelErrorKind = "unavailable",
    ) -> None:
        super().__init__(message)
        self.spent = spent or Usage()
        self.kind: ModelErrorKind = kind


class Model(Protocol):
    name: str
    can_translate: bool

    async def map_chunk(
        self, question: str, language: str, posts: list[Post], usage: Usage
    ) -> list[Verdict]:
        """HIGH / MEDIUM / LOW for each post, with a short reason in `language`."""
        ...

    async def score_complement(
        self, question: str, high: list[Post], medium: list[Post], usage: Usage
    ) -> dict[int, float]:
        """0-1 per MEDIUM post: how well it complements the HIGH posts for the question."""
        ...

    async def reduce(
        self, question: str, language: str, expert_name: str, posts: list[RankedPost], usage: Usage
    ) -> Answer:
        """The expert's answer from the posts, newest view first, citing [post:ID]."""
        ...

    async def translate(self, content: str, target_language: str, usage: Usage) -> str | None:
        """The text in `target_language`, or None when this model cannot translate."""
        ...

    async def select_drift_groups(
        self, question: str, groups: list[CommentGroup], usage: Usage
    ) -> list[int]:
        """Post ids of the drifted discussions that bear on the question."""
        ...

    async def synthesize_comments(
        self,
        question: str,
        language: str,
        answer: str,
        comments: CommentSections,
        usage: Usage,
    ) -> str | None:
        """What the comments add that the answer lacks, in `comments`' four sections."""
        ...

    async def moderate(
        self, question: str, language: str, answers: list[ExpertAnswer], usage: Usage
    ) -> str:
        """Across the answers: where the experts agree, where they differ and why, citing
        `[post:EXPERT_ID/ID]`."""
        ...
