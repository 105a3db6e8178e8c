"""What reduce and the comment synthesis are given, and in which order.

Reduce reads the posts that answer the question first (HIGH, then MEDIUM, then the linked
context), newest first within each, so a context post never comes before one that answers
and, past the cap, context is what is left out. The synthesis reads the comments in four
sections: under the answer's sources (the author's, the community's), then elsewhere.
"""

from __future__ import annotations

from experts_panel.pipeline.comment_synthesis import sections
from experts_panel.pipeline.reduce import MAX_POSTS, order
from experts_panel.pipeline.types import CommentGroup, CommentItem, Post, RankedPost, Role


def ranked(message_id: int, date: str, role: Role) -> RankedPost:
    return RankedPost(Post("x", message_id, message_id, f"{date}T12:00:00+00:00", "text"), role)


def test_reduce_reads_high_then_medium_then_context_each_newest_first() -> None:
    posts = [
        ranked(1, "2021-01-01", "HIGH"),
        ranked(2, "2025-01-01", "CONTEXT"),  # the newest post of all, only context
        ranked(3, "2024-01-01", "MEDIUM"),
        ranked(4, "2023-01-01", "HIGH"),
        ranked(5, "2022-01-01", "MEDIUM"),
        ranked(6, "2020-01-01", "CONTEXT"),
    ]
    assert [r.post.telegram_message_id for r in order(posts)] == [4, 1, 3, 5, 2, 6]


def test_past_the_cap_context_goes_first() -> None:
    high = [ranked(i, f"2020-01-{1 + i % 28:02d}", "HIGH") for i in range(1, MAX_POSTS)]
    context = [ranked(1000 + i, "2026-01-01", "CONTEXT") for i in range(5)]
    medium = [ranked(2000, "2019-01-01", "MEDIUM")]
    kept = order(context + high + medium)
    assert len(kept) == MAX_POSTS
    assert {r.role for r in kept} == {"HIGH", "MEDIUM"}
    assert kept[-1].post.telegram_message_id == 2000


def comment(message_id: int, under: int, author: bool) -> CommentItem:
    return CommentItem(message_id, under, None, "text", "2024-01-01T00:00:00+00:00", author)


def test_the_synthesis_sections_split_sources_from_elsewhere_and_author_from_community() -> None:
    groups = [
        CommentGroup(10, "author", [comment(1, 10, True)]),
        CommentGroup(10, "community", [comment(2, 10, False)]),
        CommentGroup(20, "community", [comment(3, 20, False)]),
        # A drifted discussion is elsewhere, and the author may take part in it.
        CommentGroup(30, "drift", [comment(4, 30, False), comment(5, 30, True)]),
    ]
    split = sections(groups, [10, 20])
    ids = [[c.telegram_message_id for c in part] for _, part in split.titled()]
    assert ids == [[1], [2, 3], [5], [4]]
    assert [key for key, _ in split.titled()] == [
        "sources_author_title",
        "sources_community_title",
        "elsewhere_author_title",
        "elsewhere_community_title",
    ]
