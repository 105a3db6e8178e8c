"""What the phases hand each other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from experts_panel.retrieval.hybrid import Candidate

Relevance = Literal["HIGH", "MEDIUM", "LOW"]
Role = Literal["HIGH", "MEDIUM", "CONTEXT"]

# The phases, in order (docs/pipeline.md); the events name them (pipeline/contract.py).
PhaseName = Literal[
    "map",
    "medium_scoring",
    "resolve",
    "reduce",
    "language_validation",
    "comment_groups",
    "comment_synthesis",
    "assembly",
]
PHASES: tuple[PhaseName, ...] = PhaseName.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Post:
    """A post as the pipeline sees it, with how retrieval found it (when it did)."""

    expert_id: str
    post_id: int
    telegram_message_id: int
    date: str
    text: str
    candidate: Candidate | None = None


@dataclass(frozen=True)
class Verdict:
    telegram_message_id: int
    relevance: Relevance
    reason: str


@dataclass(frozen=True)
class RankedPost:
    post: Post
    role: Role


@dataclass
class Answer:
    text: str
    main_sources: list[int]
    confidence: Relevance
    language: str


@dataclass(frozen=True)
class CommentItem:
    telegram_message_id: int
    post_telegram_message_id: int
    author_name: str | None
    text: str
    date: str
    is_channel_author: bool


@dataclass(frozen=True)
class CommentSections:
    """The comments the synthesis reads, in the order of its four sections: under the answer's
    sources (the author's clarifications, then the community's), then under other posts (the
    author's, then the community's)."""

    sources_author: list[CommentItem]
    sources_community: list[CommentItem]
    elsewhere_author: list[CommentItem]
    elsewhere_community: list[CommentItem]

    def titled(self) -> list[tuple[str, list[CommentItem]]]:
        """(title key in `texts`, comments) for each section, in order."""
        return [
            ("sources_author_title", self.sources_author),
            ("sources_community_title", self.sources_community),
            ("elsewhere_author_title", self.elsewhere_author),
            ("elsewhere_community_title", self.elsewhere_community),
        ]

    def empty(self) -> bool:
        return not any(comments for _, comments in self.titled())


@dataclass
class CommentGroup:
    """Comments under one post: the author's, the community's, or a drifted discussion."""

    post_telegram_message_id: int
    kind: Literal["author", "community", "drift"]
    comments: list[CommentItem]
    topics: list[dict[str, object]] = field(default_factory=list)


@dataclass(frozen=True)
class ExpertAnswer:
    """One expert's answer as the moderator reads it: its text cites `[post:EXPERT_ID/ID]`
    (`qualified_citations.qualify`), and `sources` are the posts it drew on."""

    expert_id: str
    expert_name: str
    text: str
    sources: list[int]
