"""A question in one language, searched with the words the expert wrote in the other.

Full-text search finds nothing across languages, so a question in English to a Russian channel
had the embedding similarity alone to go on. The sentence encoder puts a single word close to
its translations (water and вода 0.96, knee and колено 0.90, heel and пятка 0.67), so each word
of the question is matched with the closest words of the expert's own vocabulary written in the
other script; their stems make a second full-text search, fused with the others. No dictionary
and no translation model: the expert's vocabulary and the encoder already shipped.

Grammar words translate well too (how and как), and would match every post: neither a question
word nor a translation may be one of `function_words.py`'s. A question word whose closest word
in the other script is one anyway, or is in more than `COMMON_SHARE` of the expert's posts, is
left out, and so is any translation that common.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.database import fetch_all
from experts_panel.retrieval.embedder import Vectors
from experts_panel.retrieval.function_words import is_function_word
from experts_panel.retrieval.spelling import SpellingIndex

# Measured with the Universal Sentence Encoder multilingual v3 on the tuning half of
# bench/recall's questions: translations of content words score 0.6-0.95, unrelated words of
# the other language rarely above 0.55.
TRANSLATION_SIMILARITY = 0.6
TRANSLATION_SPREAD = 0.05  # keep the best translation's near ties (gel, gels), not its cousins
TRANSLATIONS_PER_WORD = 3
# A word in more than a fifth of the posts says little about any of them: in a channel of a
# few posts that is every word, and the bridge stays out of the way.
COMMON_SHARE = 0.2
_CHUNK = 8192  # vocabulary rows turned back into float32 at a time

_CYRILLIC = re.compile(r"[а-яёіїєґ]")


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


@dataclass(frozen=True)
class Vocabulary:
    """An expert's words with their vectors, quantised to int8 with a scale per row: a quarter
    of the memory of float32 (30,000 words: 15 MB), and within 0.003 of its similarities."""

    generation: int
    words: tuple[str, ...]
    cyrillic: npt.NDArray[np.bool_]
    function: npt.NDArray[np.bool_]  # grammar words (`function_words.py`): never a translation
    posts: npt.NDArray[np.int64]  # how many of the expert's posts contain each word
    total_posts: int
    matrix: npt.NDArray[np.int8]
    scale: npt.NDArray[np.float32]
    spelling: SpellingIndex  # the words by how they sound: borrowings across the scripts


def quantise(vectors: Vectors) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    peak = np.maximum(np.abs(vectors).max(axis=1), 1e-12).astype(np.float32)
    matrix = np.rint(vectors / peak[:, None] * 127).astype(np.int8)
    scale: npt.NDArray[np.float32] = (peak / 127).astype(np.float32)
    return matrix, scale


async def load_vocabulary(
    conn: AsyncConnection, expert_id: str, model: str, generation: int
) -> Vocabulary:
    rows = await fetch_all(
        conn,
        "SELECT w.word, w.posts, v.vector FROM expert_words w JOIN word_vectors v "
        "ON v.model = ? AND v.word = w.word WHERE w.expert_id = ? ORDER BY w.word",
        (model, expert_id),
    )
    total = await fetch_all(
        conn, "SELECT count(*) FROM posts WHERE expert_id = ? AND text != ''", (expert_id,)
    )
    # Up to VOCABULARY_WORDS words to classify, spell and quantise: about 0.28 s of CPU at
    # 30,000 (0.16 s of it the spellings), in a worker thread so that the event loop keeps
    # answering other readers meanwhile.
    return await asyncio.to_thread(vocabulary_of, generation, rows, int(total[0][0]))


def vocabulary_of(generation: int, rows: list[tuple[Any, ...]], total_posts: int) -> Vocabulary:
    """The vocabulary from its rows: word, posts holding it, vector (little-endian float32)."""
    if not rows:
        return Vocabulary(
            generation,
            (),
            np.zeros(0, dtype=np.bool_),
            np.zeros(0, dtype=np.bool_),
            np.zeros(0, dtype=np.int64),
            total_posts,
            np.zeros((0, 0), dtype=np.int8),
            np.zeros(0, dtype=np.float32),
            SpellingIndex.of(()),
        )
    vectors = np.frombuffer(b"".join(row[2] for row in rows), dtype="<f4").astype(np.float32)
    matrix, scale = quantise(vectors.reshape(len(rows), -1))
    words = tuple(str(row[0]) for row in rows)
    return Vocabulary(
        generation=generation,
        words=words,
        cyrillic=np.array([is_cyrillic(w) for w in words], dtype=np.bool_),
        function=np.array([is_function_word(w) for w in words], dtype=np.bool_),
        posts=np.array([row[1] for row in rows], dtype=np.int64),
        total_posts=total_posts,
        matrix=matrix,
        scale=scale,
        spelling=SpellingIndex.of(words),
    )


def similarities(vocabulary: Vocabulary, queries: Vectors) -> npt.NDArray[np.float32]:
    """Cosine similarity of each query vector with each word of the vocabulary."""
    count = len(vocabulary.words)
    out = np.empty((queries.shape[0], count), dtype=np.float32)
    for start in range(0, count, _CHUNK):
        block = vocabulary.matrix[start : start + _CHUNK].astype(np.float32)
        out[:, start : start + _CHUNK] = queries @ block.T
    scaled: npt.NDArray[np.float32] = out * vocabulary.scale[None, :]
    return scaled


def translate(vocabulary: Vocabulary, words: list[str], vectors: Vectors) -> list[str]:
    """The words of the vocabulary, written in the other script, that translate `words` (words
    of substance: `bridged_search` leaves the question's grammar words out)."""
    if not words or not vocabulary.words:
        return []
    scores = similarities(vocabulary, vectors)
    widespread = vocabulary.posts > COMMON_SHARE * max(vocabulary.total_posts, 1)
    common = vocabulary.function | widespread
    found: list[str] = []
    for i, word in enumerate(words):
        other = vocabulary.cyrillic != is_cyrillic(word)
        if not other.any():
            continue
        row = np.where(other, scores[i], -1.0)
        nearest = int(np.argmax(row))
        if common[nearest]:
            continue  # a grammar word in some other guise: its closest translation is one
        row = np.where(common, -1.0, row)
        count = min(TRANSLATIONS_PER_WORD, row.shape[0])
        top = np.argpartition(-row, count - 1)[:count]
        top = top[np.argsort(-row[top])]
        best = float(row[top[0]])
        floor = max(TRANSLATION_SIMILARITY, best - TRANSLATION_SPREAD)
        found += [vocabulary.words[j] for j in top if row[j] >= floor]
    return list(dict.fromkeys(found))


def borrowings(vocabulary: Vocabulary, words: list[str]) -> list[str]:
    """The words of the vocabulary, written in the other script, that spell `words` as they
    sound (`spelling.py`: кортадо, cortado). A word whose spellings include one in more than
    `COMMON_SHARE` of the posts, or a grammar word, is common in this channel (кофе in a
    coffee channel, as "coffee" and "coffees") and brings none. The same word borrowed, not a
    translation: searched as the question's own."""
    if not vocabulary.words:
        return []
    common = vocabulary.function | (
        vocabulary.posts > COMMON_SHARE * max(vocabulary.total_posts, 1)
    )
    found: list[str] = []
    for word in words:
        script = is_cyrillic(word)
        spelled = [j for j in vocabulary.spelling.matches(word) if vocabulary.cyrillic[j] != script]
        if not any(common[j] for j in spelled):
            found += [vocabulary.words[j] for j in spelled]
    return list(dict.fromkeys(found))
