"""The embedded model: answers with no API key, from retrieval scores and the posts' own words.

No instruction-following model small enough ships inside a Python wheel, so this one does
not generate text. Relevance comes from hybrid retrieval (full-text rank and embedding
similarity); the answer is made of the sentences of the expert's posts closest to the
question, each cited; comments are chosen the same way. What it cannot do, translation, it
reports rather than fakes.
"""

from __future__ import annotations

import asyncio
import re

import numpy as np

from experts_panel.db.database import Database
from experts_panel.language import detect_language
from experts_panel.llm.types import Usage
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentItem,
    Post,
    RankedPost,
    Relevance,
    Verdict,
)
from experts_panel.retrieval.dense import VectorCache, rows_for
from experts_panel.retrieval.embedder import Embedder, Vectors
from experts_panel.retrieval.stemming import stems

# Cosine similarities of USE multilingual v3 between a question and a post: measured on the
# demo experts, posts on the question's topic score about 0.35-0.6, others below 0.25.
HIGH_SIMILARITY = 0.40
HIGH_SIMILARITY_WITH_WORDS = 0.30
MEDIUM_SIMILARITY = 0.25
TOP_WORD_RANK = 3
MEDIUM_WORD_RANK = 10

ANSWER_POSTS = 4
SENTENCES_PER_POST = 2
MIN_SENTENCE_SIMILARITY = 0.2
AUTHOR_COMMENTS = 2
COMMUNITY_COMMENTS = 3
MIN_COMMENT_SIMILARITY = 0.25

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def joined(parts: list[str]) -> str:
    """Quoted sentences in a row; a heading line without a full stop gets one."""
    return " ".join(p if p[-1] in '.!?…:;»")' else f"{p}." for p in parts)


def sentences(body: str) -> list[str]:
    parts = (" ".join(p.split()) for p in _SENTENCE_END.split(body))
    return [p for p in parts if 15 <= len(p) <= 400]


class EmbeddedModel:
    name = "embedded"
    can_translate = False

    def __init__(self, embedder: Embedder, cache: VectorCache, database: Database) -> None:
        self.embedder = embedder
        self.cache = cache
        self.database = database
        self._question_vectors: dict[str, Vectors] = {}

    async def encode(self, texts: list[str]) -> Vectors:
        return await asyncio.to_thread(self.embedder.encode, texts)

    async def question_vector(self, question: str) -> Vectors:
        vector = self._question_vectors.get(question)
        if vector is None:
            vector = (await self.encode([question]))[0]
            self._question_vectors = {question: vector}  # one query at a time is enough
        return vector

    async def map_chunk(
        self, question: str, language: str, posts: list[Post], usage: Usage
    ) -> list[Verdict]:
        verdicts = []
        for post in posts:
            found = post.candidate
            similarity = found.similarity if found and found.similarity is not None else 0.0
            word_rank = found.lexical_rank if found else None
            relevance: Relevance
            if similarity >= HIGH_SIMILARITY or (
                similarity >= HIGH_SIMILARITY_WITH_WORDS
                and word_rank is not None
                and word_rank <= TOP_WORD_RANK
            ):
                relevance = "HIGH"
            elif similarity >= MEDIUM_SIMILARITY or (
                word_rank is not None and word_rank <= MEDIUM_WORD_RANK
            ):
                relevance = "MEDIUM"
            else:
                relevance = "LOW"
            reasons = []
            if similarity >= MEDIUM_SIMILARITY:
                reasons.append(text(language, "reason_meaning", similarity=similarity))
            if word_rank is not None and word_rank <= MEDIUM_WORD_RANK:
                reasons.append(text(language, "reason_words", rank=word_rank))
            reason = "; ".join(reasons) or text(language, "reason_weak")
            verdicts.append(Verdict(post.telegram_message_id, relevance, reason))
        return verdicts

    async def _post_vectors(self, posts: list[Post]) -> dict[int, Vectors]:
        if not posts:
            return {}
        async with self.database.read() as conn:
            vectors = await self.cache.vectors(conn, posts[0].expert_id, self.embedder.name)
        return rows_for(vectors, [p.post_id for p in posts])

    async def score_complement(
        self, question: str, high: list[Post], medium: list[Post], usage: Usage
    ) -> dict[int, float]:
        q = await self.question_vector(question)
        stored = await self._post_vectors([*high, *medium])
        # Numeric work off the event loop, like every other vector computation here.
        return await asyncio.to_thread(_complement_scores, q, stored, high, medium)

    async def reduce(
        self, question: str, language: str, expert_name: str, posts: list[RankedPost], usage: Usage
    ) -> Answer:
        q = await self.question_vector(question)
        chosen = [r.post for r in posts if r.role in ("HIGH", "MEDIUM")][:ANSWER_POSTS]
        pieces: list[tuple[Post, list[str]]] = []
        candidates: list[tuple[Post, str]] = [(p, s) for p in chosen for s in sentences(p.text)]
        if candidates:
            vectors = await self.encode([s for _, s in candidates])
            similarity = vectors @ q
            for post in chosen:
                own = [
                    (float(similarity[i]), i)
                    for i, (p, _) in enumerate(candidates)
                    if p.post_id == post.post_id and similarity[i] >= MIN_SENTENCE_SIMILARITY
                ]
                best = sorted(own, reverse=True)[:SENTENCES_PER_POST]
                picked = [candidates[i][1] for _, i in sorted(best, key=lambda pair: pair[1])]
                if picked:
                    pieces.append((post, picked))
        if not pieces:
            return Answer(text(language, "no_posts"), [], "LOW", language)
        pieces.sort(key=lambda piece: piece[0].date, reverse=True)  # the current view first
        lines = [text(language, "embedded_intro"), ""]
        for post, picked in pieces:
            lines.append(
                f"**{post.date[:10]}** — {joined(picked)} [post:{post.telegram_message_id}]"
            )
            lines.append("")
        high_count = sum(1 for r in posts if r.role == "HIGH")
        closest = max(
            (float(p.candidate.similarity or 0.0) for p, _ in pieces if p.candidate), default=0.0
        )
        confidence: Relevance = (
            "HIGH"
            if high_count >= 2 and closest >= HIGH_SIMILARITY
            else "MEDIUM"
            if high_count
            else "LOW"
        )
        body = "\n".join(lines).strip()
        return Answer(
            text=body,
            main_sources=[p.telegram_message_id for p, _ in pieces],
            confidence=confidence,
            language=detect_language(" ".join(" ".join(s) for _, s in pieces), language),
        )

    async def translate(self, content: str, target_language: str, usage: Usage) -> str | None:
        return None

    async def select_drift_groups(
        self, question: str, groups: list[CommentGroup], usage: Usage
    ) -> list[int]:
        wanted = set(stems(question))
        chosen = []
        for group in groups:
            words: list[str] = []
            for topic in group.topics:
                for key in ("topic", "context"):
                    words += stems(str(topic.get(key, "")))
                for key in ("keywords", "key_phrases"):
                    value = topic.get(key, [])
                    if isinstance(value, list):
                        words += stems(" ".join(str(v) for v in value))
            if wanted & set(words):
                chosen.append(group.post_telegram_message_id)
        return chosen

    async def synthesize_comments(
        self,
        question: str,
        language: str,
        answer: str,
        author: list[CommentItem],
        community: list[CommentItem],
        usage: Usage,
    ) -> str | None:
        q = await self.question_vector(question)
        sections = []
        for title, comments, limit in (
            ("author_title", author, AUTHOR_COMMENTS),
            ("community_title", community, COMMUNITY_COMMENTS),
        ):
            usable = [c for c in comments if len(c.text.strip()) >= 15]
            if not usable:
                continue
            vectors = await self.encode([c.text for c in usable])
            similarity = vectors @ q
            order = np.argsort(-similarity)
            picked = [
                usable[int(i)]
                for i in order[:limit]
                if similarity[int(i)] >= MIN_COMMENT_SIMILARITY
            ]
            if not picked:
                continue
            lines = [f"**{text(language, title)}**", ""]
            for comment in picked:
                who = comment.author_name or "?"
                quoted = " ".join(comment.text.split())
                lines.append(f"- {who}: «{quoted}» [post:{comment.post_telegram_message_id}]")
            sections.append("\n".join(lines))
        return "\n\n".join(sections) or None


def _complement_scores(
    q: Vectors, stored: dict[int, Vectors], high: list[Post], medium: list[Post]
) -> dict[int, float]:
    high_vectors = [stored[p.post_id] for p in high if p.post_id in stored]
    scores: dict[int, float] = {}
    for post in medium:
        vector = stored.get(post.post_id)
        if vector is None:
            continue
        relevance = float(vector @ q)
        overlap = max((float(vector @ h) for h in high_vectors), default=0.0)
        # Useful beside the HIGH posts: on the question, yet saying something else.
        score = 0.6 * min(1.0, relevance / HIGH_SIMILARITY) + 0.4 * (1.0 - max(0.0, overlap))
        scores[post.telegram_message_id] = round(max(0.0, min(1.0, score)), 3)
    return scores
