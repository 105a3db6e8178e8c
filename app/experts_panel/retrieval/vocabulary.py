"""The words an expert wrote and a vector for each: what the language bridge searches with.

`experts-panel index` counts, for each word of the expert's posts, how many posts contain it,
keeps the most frequent `VOCABULARY_WORDS` (a bound on the server's memory), and embeds each
word that has no vector yet for the current model. Vectors are shared by every expert: a word
is embedded once. The counts are redone whole after any change to the expert's posts; that
reads every post's text once, which is seconds for tens of thousands of posts, against minutes
for embedding them.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable

from experts_panel.db.database import Database, fetch_all
from experts_panel.retrieval.embedder import Embedder, to_blob
from experts_panel.retrieval.stemming import words

VOCABULARY_WORDS = 30_000
WORD_BATCH = 512
MIN_LETTERS = 3  # shorter words are mostly particles and prepositions in both languages
MAX_LETTERS = 32

_LETTER = re.compile(r"[^\W\d_]")

Progress = Callable[[str, int, int], None]


def vocabulary_words(text: str) -> set[str]:
    """The text's distinct words as the vocabulary keeps them: folded, with a letter in them."""
    return {w for w in words(text) if MIN_LETTERS <= len(w) <= MAX_LETTERS and _LETTER.search(w)}


async def has_vocabulary(database: Database, expert_id: str) -> bool:
    """Whether the expert's words were counted (an expert with no text has none to count)."""
    async with database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT EXISTS (SELECT 1 FROM expert_words WHERE expert_id = ?) "
            "OR NOT EXISTS (SELECT 1 FROM posts WHERE expert_id = ? AND text != '')",
            (expert_id, expert_id),
        )
    return bool(rows[0][0])


async def index_vocabulary(
    database: Database, expert_id: str, embedder: Embedder, progress: Progress | None = None
) -> int:
    """Recount the expert's words and embed those without a vector; how many were embedded."""
    counts: Counter[str] = Counter()
    async with database.read() as conn:
        result = await conn.exec_driver_sql(
            "SELECT text FROM posts WHERE expert_id = ?", (expert_id,)
        )
        for (body,) in result:
            counts.update(vocabulary_words(body))
    kept = counts.most_common(VOCABULARY_WORDS)
    async with database.write() as conn:
        await conn.exec_driver_sql("DELETE FROM expert_words WHERE expert_id = ?", (expert_id,))
        if kept:
            await conn.exec_driver_sql(
                "INSERT INTO expert_words (expert_id, word, posts) VALUES (?, ?, ?)",
                [(expert_id, word, n) for word, n in kept],
            )
        # Vectors of another model (an upgraded package) are never read again.
        await conn.exec_driver_sql("DELETE FROM word_vectors WHERE model != ?", (embedder.name,))
    async with database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT w.word FROM expert_words w LEFT JOIN word_vectors v "
            "ON v.model = ? AND v.word = w.word WHERE w.expert_id = ? AND v.word IS NULL "
            "ORDER BY w.word",
            (embedder.name, expert_id),
        )
    missing = [row[0] for row in rows]
    for start in range(0, len(missing), WORD_BATCH):
        chunk = missing[start : start + WORD_BATCH]
        # The model runs in a thread: numpy releases the interpreter lock while it works.
        vectors = await asyncio.to_thread(embedder.encode, chunk)
        async with database.write() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO word_vectors (model, word, vector) VALUES (?, ?, ?) "
                "ON CONFLICT (model, word) DO NOTHING",
                [
                    (embedder.name, word, to_blob(vector))
                    for word, vector in zip(chunk, vectors, strict=True)
                ],
            )
        if progress is not None:
            progress("words", min(start + WORD_BATCH, len(missing)), len(missing))
    return len(missing)
