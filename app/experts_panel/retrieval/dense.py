"""Nearest posts by sentence embedding, from an in-memory copy of each expert's vectors.

Brute force with numpy: at tens of thousands of posts a matrix product answers in
milliseconds, and SQLite here cannot load a vector extension. The copy is reloaded when the
expert's `search_generation` moves (an index run changed something). The same cache keeps each
expert's vocabulary for the language bridge (`bridge.py`), reloaded on the same signal.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.database import fetch_all
from experts_panel.retrieval.bridge import Vocabulary, load_vocabulary
from experts_panel.retrieval.embedder import Embedder, Vectors

# Words whose vectors a server keeps (2 KB each): a question's words, asked of several
# experts at once, are encoded once.
WORD_VECTORS_KEPT = 2000


@dataclass(frozen=True)
class ExpertVectors:
    generation: int
    post_ids: npt.NDArray[np.int64]
    telegram_ids: npt.NDArray[np.int64]
    matrix: Vectors  # (posts, dimensions), rows L2-normalised
    # Row of each post id, made once per load: every query looks posts up by id.
    position: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", {int(p): i for i, p in enumerate(self.post_ids)})


def rows_for(vectors: ExpertVectors, post_ids: list[int]) -> dict[int, Vectors]:
    """The stored vector of each of the posts that has one."""
    position = vectors.position
    return {p: vectors.matrix[position[p]] for p in post_ids if p in position}


@dataclass(frozen=True, slots=True)
class DenseHit:
    post_id: int
    telegram_message_id: int
    similarity: float


class VectorCache:
    """The server's copies of expert vectors; one per process, owned by the app's state."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], ExpertVectors] = {}
        self._vocabularies: dict[tuple[str, str], Vocabulary] = {}
        self._words: dict[tuple[str, str], Vectors] = {}  # (model, word), oldest first
        self._lock = asyncio.Lock()
        self._words_lock = asyncio.Lock()

    async def word_vectors(self, embedder: Embedder, words: list[str]) -> Vectors:
        """The words' vectors, each encoded once while it stays among the recent ones."""
        async with self._words_lock:  # the experts of one query ask for the same words
            missing = [w for w in words if (embedder.name, w) not in self._words]
            if missing:
                encoded = await asyncio.to_thread(embedder.encode, missing)
                for word, vector in zip(missing, encoded, strict=True):
                    self._words[(embedder.name, word)] = vector
                while len(self._words) > WORD_VECTORS_KEPT:
                    del self._words[next(iter(self._words))]
            return np.stack([self._words[(embedder.name, w)] for w in words])

    async def vectors(self, conn: AsyncConnection, expert_id: str, model: str) -> ExpertVectors:
        generation = await _generation(conn, expert_id)
        key = (expert_id, model)
        entry = self._entries.get(key)
        if entry is not None and entry.generation == generation:
            return entry
        async with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                entry = await _load(conn, expert_id, model, generation)
                self._entries[key] = entry
        return entry

    async def vocabulary(self, conn: AsyncConnection, expert_id: str, model: str) -> Vocabulary:
        generation = await _generation(conn, expert_id)
        key = (expert_id, model)
        found = self._vocabularies.get(key)
        if found is not None and found.generation == generation:
            return found
        async with self._lock:
            found = self._vocabularies.get(key)
            if found is None or found.generation != generation:
                found = await load_vocabulary(conn, expert_id, model, generation)
                self._vocabularies[key] = found
        return found


async def _generation(conn: AsyncConnection, expert_id: str) -> int:
    rows = await fetch_all(
        conn, "SELECT generation FROM search_generation WHERE expert_id = ?", (expert_id,)
    )
    return int(rows[0][0]) if rows else 0


async def _load(
    conn: AsyncConnection, expert_id: str, model: str, generation: int
) -> ExpertVectors:
    rows = await fetch_all(
        conn,
        "SELECT e.post_id, p.telegram_message_id, e.dimensions, e.vector "
        "FROM post_embeddings e JOIN posts p ON p.id = e.post_id "
        "WHERE e.expert_id = ? AND p.expert_id = ? AND e.model = ? AND e.dimensions > 0 "
        "ORDER BY e.post_id",
        (expert_id, expert_id, model),
    )
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return ExpertVectors(generation, empty, empty, np.zeros((0, 0), dtype=np.float32))
    dimensions = int(rows[0][2])
    matrix = np.frombuffer(b"".join(row[3] for row in rows), dtype="<f4").astype(np.float32)
    return ExpertVectors(
        generation=generation,
        post_ids=np.array([row[0] for row in rows], dtype=np.int64),
        telegram_ids=np.array([row[1] for row in rows], dtype=np.int64),
        matrix=matrix.reshape(len(rows), dimensions),
    )


async def posts_since(conn: AsyncConnection, expert_id: str, since: str) -> list[int]:
    """The ids of the expert's posts dated `since` or later (the `(expert_id, date)` index
    answers this alone)."""
    rows = await fetch_all(
        conn, "SELECT id FROM posts WHERE expert_id = ? AND date >= ?", (expert_id, since)
    )
    return [int(row[0]) for row in rows]


def nearest(
    vectors: ExpertVectors, query: Vectors, limit: int, among: list[int] | None = None
) -> list[DenseHit]:
    """The `limit` posts nearest the query; only those of `among` (post ids) when given, so
    that a window of recent posts gets its own best, not what is left of the archive's."""
    if vectors.matrix.shape[0] == 0 or limit <= 0:
        return []
    if among is None:
        rows = np.arange(vectors.matrix.shape[0])
        # The whole matrix as it is: indexing it with every row would copy it (20 MB at 10,000
        # posts) on every query, six times the product's own time.
        similarities = vectors.matrix @ query.reshape(-1)
    else:
        position = vectors.position
        rows = np.array(sorted(position[p] for p in among if p in position), dtype=np.int64)
        if rows.shape[0] == 0:
            return []
        similarities = vectors.matrix[rows] @ query.reshape(-1)
    count = min(limit, similarities.shape[0])
    top = np.argpartition(-similarities, count - 1)[:count]
    top = top[np.argsort(-similarities[top])]
    return [
        DenseHit(
            int(vectors.post_ids[rows[i]]),
            int(vectors.telegram_ids[rows[i]]),
            float(similarities[i]),
        )
        for i in top
    ]
