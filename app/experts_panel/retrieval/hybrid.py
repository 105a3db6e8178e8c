"""Hybrid retrieval: full-text and embedding rankings fused by reciprocal rank.

Neither alone is enough: BM25 misses paraphrases and the other language, embeddings miss
exact names and rare terms. Reciprocal rank fusion needs no score calibration between the two.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.retrieval.dense import VectorCache, nearest
from experts_panel.retrieval.embedder import Embedder, Vectors
from experts_panel.retrieval.lexical import lexical_search

RRF_K = 60  # the constant of Cormack et al.; damps the head of each list


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: int
    telegram_message_id: int
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    similarity: float | None


def fuse(
    lexical: list[tuple[int, int]],
    dense: list[tuple[int, int, float]],
    limit: int,
) -> list[Candidate]:
    """Fuse ranked lists of (post_id, telegram id) and (post_id, telegram id, similarity)."""
    scores: dict[int, float] = {}
    telegram: dict[int, int] = {}
    lexical_rank: dict[int, int] = {}
    dense_rank: dict[int, int] = {}
    similarity: dict[int, float] = {}
    for rank, (post_id, telegram_id) in enumerate(lexical, start=1):
        scores[post_id] = scores.get(post_id, 0.0) + 1.0 / (RRF_K + rank)
        telegram[post_id] = telegram_id
        lexical_rank[post_id] = rank
    for rank, (post_id, telegram_id, sim) in enumerate(dense, start=1):
        scores[post_id] = scores.get(post_id, 0.0) + 1.0 / (RRF_K + rank)
        telegram[post_id] = telegram_id
        dense_rank[post_id] = rank
        similarity[post_id] = sim
    ordered = sorted(scores, key=lambda p: (-scores[p], p))[:limit]
    return [
        Candidate(
            post_id=p,
            telegram_message_id=telegram[p],
            score=scores[p],
            lexical_rank=lexical_rank.get(p),
            dense_rank=dense_rank.get(p),
            similarity=similarity.get(p),
        )
        for p in ordered
    ]


async def hybrid_search(
    conn: AsyncConnection,
    expert_id: str,
    query: str,
    limit: int,
    embedder: Embedder | None,
    cache: VectorCache,
    query_vector: Vectors | None = None,
) -> list[Candidate]:
    """The expert's `limit` best posts for `query`; full-text alone when there is no embedder."""
    depth = max(limit, 50)
    lexical = await lexical_search(conn, expert_id, query, depth)
    dense_hits: list[tuple[int, int, float]] = []
    if embedder is not None:
        # The model and the matrix product run in a worker thread (numpy lets go of the GIL),
        # so the event loop stays free to answer other readers meanwhile.
        if query_vector is None:
            query_vector = (await asyncio.to_thread(embedder.encode, [query]))[0]
        vectors = await cache.vectors(conn, expert_id, embedder.name)
        hits = await asyncio.to_thread(nearest, vectors, query_vector, depth)
        dense_hits = [(h.post_id, h.telegram_message_id, h.similarity) for h in hits]
    return fuse([(h.post_id, h.telegram_message_id) for h in lexical], dense_hits, limit)
