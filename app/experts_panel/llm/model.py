"""The one interface every phase talks to; OpenRouter and the embedded model implement it."""

from __future__ import annotations

from typing import Protocol

from experts_panel.llm.types import Usage
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentSections,
    Post,
    RankedPost,
    Verdict,
)


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
