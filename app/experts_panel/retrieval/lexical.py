"""Full-text search over an expert's posts: FTS5 with BM25 over stemmed words.

A question's stems that more than `COMMON_TERM_SHARE` of the indexed posts hold ("не", "the",
and a bridge's translations of such words) are left out of the match: BM25 gives them almost no
weight, yet each makes SQLite score thousands of posts, of every expert (the index is shared).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.database import fetch_all
from experts_panel.retrieval.stemming import match_stems

# On the tuning half of bench/recall's questions at 10,000 posts an expert: 0.2 left recall as
# it was and took a quarter off the time in full-text search; 0.1 lost cross-language posts.
COMMON_TERM_SHARE = 0.2
# In a small index no stem costs much, and each one still helps rank.
COMMON_TERM_POSTS = 1000


@dataclass(frozen=True, slots=True)
class LexicalHit:
    post_id: int
    telegram_message_id: int
    bm25: float  # lower is better, as SQLite reports it


async def rare_stems(conn: AsyncConnection, found: list[str]) -> list[str]:
    """The stems held by at most `COMMON_TERM_SHARE` of the indexed posts (or by
    `COMMON_TERM_POSTS`, whichever is more); the rarest alone when every one is more common, so
    a question of common words still finds something."""
    unique = list(dict.fromkeys(s for s in found if s))
    if len(unique) < 2:
        return unique
    marks = ", ".join("?" for _ in unique)
    rows = await fetch_all(
        conn, f"SELECT term, doc FROM post_search_terms WHERE term IN ({marks})", tuple(unique)
    )
    posts = {str(row[0]): int(row[1]) for row in rows}
    total = await fetch_all(conn, "SELECT count(*) FROM post_search_state")
    bound = max(COMMON_TERM_SHARE * int(total[0][0]), COMMON_TERM_POSTS)
    rare = [s for s in unique if posts.get(s, 0) <= bound]
    return rare or [min(unique, key=lambda s: posts.get(s, 0))]


async def stems_search(
    conn: AsyncConnection, expert_id: str, found: list[str], limit: int, since: str | None = None
) -> list[LexicalHit]:
    """The expert's posts holding any of these stems (the question's own words and their
    borrowings, or the language bridge's translations), by BM25; dated `since` or later if
    given."""
    expression = match_stems(await rare_stems(conn, found))
    if expression is None:
        return []
    # In the query, not after it: the LIMIT must count only posts in the window.
    window = "" if since is None else "AND p.date >= ? "
    # The expert is told by the post's own row, not by the index's unindexed `expert_id`:
    # reading that column fetches each match's stored content, a third of the query's time at
    # 10,000 posts an expert (77 ms against 24 ms for a question of common words).
    rows = await fetch_all(
        conn,
        "SELECT p.id, p.telegram_message_id, bm25(post_search) AS score "
        "FROM post_search JOIN posts p ON p.id = post_search.rowid "
        f"WHERE post_search MATCH ? AND p.expert_id = ? {window}ORDER BY score LIMIT ?",
        (expression, expert_id, *(() if since is None else (since,)), limit),
    )
    return [LexicalHit(row[0], row[1], float(row[2])) for row in rows]
