"""Hybrid retrieval: full-text, bridged full-text and embedding rankings, fused by rank.

Neither alone is enough: BM25 misses paraphrases and the other language, embeddings miss
exact names and rare terms. The language bridge (`bridge.py`) gives a question in one language
a full-text search in the other, so a post written in the other language is found by its words
as well as by its meaning. Reciprocal rank fusion needs no score calibration between the lists.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.retrieval.bridge import borrowings, translate
from experts_panel.retrieval.dense import VectorCache, nearest, posts_since
from experts_panel.retrieval.embedder import Embedder, Vectors
from experts_panel.retrieval.function_words import is_function_word
from experts_panel.retrieval.lexical import LexicalHit, stems_search
from experts_panel.retrieval.stemming import stems
from experts_panel.retrieval.vocabulary import vocabulary_words

RRF_K = 60  # the constant of Cormack et al.; damps the head of each list


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: int
    telegram_message_id: int
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    similarity: float | None
    bridge_rank: int | None = None  # rank in the full-text search of the question's translation

    @property
    def word_rank(self) -> int | None:
        """The best rank the post's words earned, in the question's language or the other."""
        ranks = [r for r in (self.lexical_rank, self.bridge_rank) if r is not None]
        return min(ranks) if ranks else None


def fuse(
    lexical: list[tuple[int, int]],
    dense: list[tuple[int, int, float]],
    limit: int,
    bridged: list[tuple[int, int]] | None = None,
) -> list[Candidate]:
    """Fuse ranked lists of (post_id, telegram id), the dense one with its similarities."""
    scores: dict[int, float] = {}
    telegram: dict[int, int] = {}
    ranks: dict[str, dict[int, int]] = {"lexical": {}, "dense": {}, "bridge": {}}
    similarity: dict[int, float] = {}
    lists = (
        ("lexical", [(p, t) for p, t in lexical]),
        ("dense", [(p, t) for p, t, _ in dense]),
        ("bridge", [(p, t) for p, t in bridged or []]),
    )
    for name, ranked in lists:
        for rank, (post_id, telegram_id) in enumerate(ranked, start=1):
            scores[post_id] = scores.get(post_id, 0.0) + 1.0 / (RRF_K + rank)
            telegram[post_id] = telegram_id
            ranks[name][post_id] = rank
    for post_id, _, sim in dense:
        similarity[post_id] = sim
    ordered = sorted(scores, key=lambda p: (-scores[p], p))[:limit]
    return [
        Candidate(
            post_id=p,
            telegram_message_id=telegram[p],
            score=scores[p],
            lexical_rank=ranks["lexical"].get(p),
            dense_rank=ranks["dense"].get(p),
            similarity=similarity.get(p),
            bridge_rank=ranks["bridge"].get(p),
        )
        for p in ordered
    ]


def _content_words(query: str) -> list[str]:
    return sorted(w for w in vocabulary_words(query) if not is_function_word(w))


async def bridged_search(
    conn: AsyncConnection,
    expert_id: str,
    query: str,
    limit: int,
    embedder: Embedder,
    cache: VectorCache,
    since: str | None = None,
) -> list[LexicalHit]:
    """Full-text search with the expert's words that translate the question's."""
    # Grammar words are never translated: left out before their vectors are made.
    words = _content_words(query)
    if not words:
        return []
    vocabulary = await cache.vocabulary(conn, expert_id, embedder.name)
    if not vocabulary.words:
        return []
    vectors = await cache.word_vectors(embedder, words)
    # The similarity products run in a worker thread, off the event loop.
    translations = await asyncio.to_thread(translate, vocabulary, words, vectors)
    if not translations:
        return []
    return await stems_search(conn, expert_id, stems(" ".join(translations)), limit, since)


async def hybrid_search(
    conn: AsyncConnection,
    expert_id: str,
    query: str,
    limit: int,
    embedder: Embedder | None,
    cache: VectorCache,
    query_vector: Vectors | None = None,
    since: str | None = None,
) -> list[Candidate]:
    """The expert's `limit` best posts for `query`; full-text alone when there is no embedder.

    With `since` (a stored date), only posts dated then or later: each ranking is made within
    them, so an older post can neither be found nor take a recent one's place.
    """
    depth = max(limit, 50)
    borrowed: list[str] = []
    if embedder is not None:
        vocabulary = await cache.vocabulary(conn, expert_id, embedder.name)
        borrowed = borrowings(vocabulary, _content_words(query))
    # A word borrowed from the other script is the question's own word spelled otherwise:
    # searched with the question's words, not with the bridge's looser translations.
    lexical = await stems_search(
        conn, expert_id, stems(query) + stems(" ".join(borrowed)), depth, since
    )
    dense_hits: list[tuple[int, int, float]] = []
    bridged: list[LexicalHit] = []
    if embedder is not None:
        among = None if since is None else await posts_since(conn, expert_id, since)
        # The model and the matrix product run in a worker thread (numpy lets go of the GIL),
        # so the event loop stays free to answer other readers meanwhile.
        if query_vector is None:
            query_vector = (await asyncio.to_thread(embedder.encode, [query]))[0]
        vectors = await cache.vectors(conn, expert_id, embedder.name)
        hits = await asyncio.to_thread(nearest, vectors, query_vector, depth, among)
        dense_hits = [(h.post_id, h.telegram_message_id, h.similarity) for h in hits]
        bridged = await bridged_search(conn, expert_id, query, depth, embedder, cache, since)
    return fuse(
        [(h.post_id, h.telegram_message_id) for h in lexical],
        dense_hits,
        limit,
        [(h.post_id, h.telegram_message_id) for h in bridged],
    )
