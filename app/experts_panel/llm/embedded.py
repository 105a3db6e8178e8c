"""The embedded model: answers with no API key, from retrieval scores and the posts' own words.

No instruction-following model small enough ships inside a Python wheel, so this one does
not generate text. Relevance comes from hybrid retrieval: the embedding similarity of question
and post, and the rank the post's words earned in full-text search, in the question's language
or, through the language bridge, in the other. The answer is made of the sentences of the most
relevant posts closest to the question, each cited; comments are chosen the same way. What it
cannot do, translation, it reports rather than fakes.

Which posts it cites: those within `SOURCE_MARGIN` of the most relevant one, at most
`ANSWER_POSTS`, most relevant first (the answer then lists them newest first); a post in the
other language than the question's gets the wider `CROSS_LANGUAGE_MARGIN`, and when the most
relevant post is in the other language the answer may cite `CROSS_LANGUAGE_POSTS`. When even
the most relevant post falls short of `CONFIDENT_RELEVANCE`, the channel most likely never
covered the question: the answer cites that one post alone and says its confidence is low.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import numpy as np

from experts_panel.db.database import Database
from experts_panel.language import detect_language
from experts_panel.pipeline.model import Usage
from experts_panel.pipeline.qualified_citations import qualified_ids, token
from experts_panel.pipeline.texts import TEXTS, text
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentSections,
    ExpertAnswer,
    Post,
    RankedPost,
    Relevance,
    Verdict,
)
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import Embedder, Vectors
from experts_panel.retrieval.stemming import stems

# Relevance of a post: the cosine similarity of USE multilingual v3 between question and post
# (posts on the question's topic score about 0.35-0.65, others below 0.3), plus evidence from
# words, plus an allowance for the other language. Chosen on the tuning half of
# bench/recall's questions (docs/benchmarks.md); the held-out half was not used.
# The best rank the post's words earned, in the question's language or through the bridge,
# at most the key: the bonus. (Giving the bridge's ranks less weight, 0.5 or 0.75, lost
# cross-language posts on the tuning half.)
WORD_EVIDENCE = {1: 0.10, 3: 0.06, 10: 0.03}
# A question and a post in different languages score about 0.05 lower for the same match.
CROSS_LANGUAGE_ALLOWANCE = 0.03
CONFIDENT_RELEVANCE = 0.45  # below: most likely not covered; one source at most, LOW
MIN_RELEVANCE = 0.35  # below: not a source at all
HIGH_CONFIDENCE = 0.55  # the best post at least this relevant, and another beside it: HIGH
SOURCE_MARGIN = 0.10
ANSWER_POSTS = 4
# Across languages the encoder's similarities are lower and closer together, so the right post
# trails a neighbouring one by more than within a language: widened by the 0.05 a cross-language
# pair loses, and one more source. Same-language answers keep the margin and count above.
# (Tuning half, 10,000 posts an expert: cross-language recall 0.39 with the same margin, 0.61
# with the wider margin alone, 0.89 with both; same-language recall unchanged, 0.89.)
CROSS_LANGUAGE_MARGIN = 0.15
CROSS_LANGUAGE_POSTS = 5
SENTENCES_PER_POST = 2
MIN_SENTENCE_SIMILARITY = 0.2
AUTHOR_COMMENTS = 2
COMMUNITY_COMMENTS = 3
MIN_COMMENT_SIMILARITY = 0.25

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
# The moderator's side-by-side: a sentence, with the citations right after it.
OPENING_SENTENCES = 2
OPENING_CHARS = 600
OPENING_SOURCES = 3
_CITED_SENTENCE = re.compile(r"\S.*?(?:[.!?…](?:\s*\[post:[^\]\s]+\])*|$)(?=\s|$)", re.DOTALL)
_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_INTROS = {table["embedded_intro"] for table in TEXTS.values()}


def joined(parts: list[str]) -> str:
    """Quoted sentences in a row; a heading line without a full stop gets one."""
    return " ".join(p if p[-1] in '.!?…:;»")' else f"{p}." for p in parts)


def sentences(body: str) -> list[str]:
    parts = (" ".join(p.split()) for p in _SENTENCE_END.split(body))
    return [p for p in parts if 15 <= len(p) <= 400]


def word_evidence(word_rank: int | None) -> float:
    if word_rank is None:
        return 0.0
    return next((bonus for rank, bonus in WORD_EVIDENCE.items() if word_rank <= rank), 0.0)


def relevance(post: Post, question_language: str, post_language: str) -> float:
    """How well the post answers the question, on the similarity's scale."""
    found = post.candidate
    if found is None:
        return 0.0
    score = (found.similarity or 0.0) + word_evidence(found.word_rank)
    if post_language != question_language:
        score += CROSS_LANGUAGE_ALLOWANCE
    return score


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate's relevance, and whether it is written in another language than the question."""

    relevance: float
    post: Post
    other_language: bool


def margin(other_language: bool) -> float:
    """How far behind the most relevant post a post may be and still be cited."""
    return CROSS_LANGUAGE_MARGIN if other_language else SOURCE_MARGIN


def choose_sources(scored: list[Scored]) -> tuple[list[Post], Relevance]:
    """The posts to cite, most relevant first, and the confidence the answer can claim."""
    ranked = sorted((s for s in scored if s.relevance >= MIN_RELEVANCE), key=lambda s: -s.relevance)
    if not ranked:
        return [], "LOW"
    best = ranked[0].relevance
    if best < CONFIDENT_RELEVANCE:
        return [ranked[0].post], "LOW"
    limit = CROSS_LANGUAGE_POSTS if ranked[0].other_language else ANSWER_POSTS
    chosen = [s.post for s in ranked if s.relevance >= best - margin(s.other_language)][:limit]
    confidence: Relevance = "HIGH" if best >= HIGH_CONFIDENCE and len(chosen) > 1 else "MEDIUM"
    return chosen, confidence


def opening(answer: ExpertAnswer) -> str:
    """The first sentences of the answer's first paragraph, with the citations they carry (the
    paragraph's when they carry none, else the answer's first sources)."""
    paragraphs = [p.strip() for p in _PARAGRAPH.split(answer.text)]
    first = next((p for p in paragraphs if p and p not in _INTROS), "")
    found = _CITED_SENTENCE.findall(" ".join(first.split()))
    words = " ".join(found[:OPENING_SENTENCES])
    if len(words) > OPENING_CHARS:
        words = words[:OPENING_CHARS].rsplit(" ", 1)[0] + " […]"
    if not qualified_ids(words):
        refs = qualified_ids(first) or [(answer.expert_id, i) for i in answer.sources]
        cited = [token(expert, i) for expert, i in refs[:OPENING_SOURCES]]
        words = " ".join([words, *cited]).strip()
    return words


class EmbeddedModel:
    name = "embedded"
    can_translate = False

    def __init__(self, embedder: Embedder, cache: VectorCache, database: Database) -> None:
        self.embedder = embedder
        self.cache = cache
        self.database = database
        self._question_vectors: dict[str, Vectors] = {}
        self._post_languages: dict[tuple[str, int], str] = {}  # one query's posts

    def post_language(self, post: Post, language: str) -> str:
        key = (post.expert_id, post.post_id)
        found = self._post_languages.get(key)
        if found is None:
            found = detect_language(post.text, language)
            self._post_languages[key] = found
        return found

    def relevance(self, post: Post, language: str) -> float:
        return relevance(post, language, self.post_language(post, language))

    def scored(self, post: Post, language: str) -> Scored:
        other = self.post_language(post, language) != language
        return Scored(self.relevance(post, language), post, other)

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
            word_rank = found.word_rank if found else None
            score = self.relevance(post, language)
            verdict: Relevance = (
                "HIGH"
                if score >= CONFIDENT_RELEVANCE
                else "MEDIUM"
                if score >= MIN_RELEVANCE
                else "LOW"
            )
            reasons = []
            if similarity >= MIN_RELEVANCE - 0.1:
                reasons.append(text(language, "reason_meaning", similarity=similarity))
            if word_rank is not None and word_rank <= 10:
                reasons.append(text(language, "reason_words", rank=word_rank))
            reason = "; ".join(reasons) or text(language, "reason_weak")
            verdicts.append(Verdict(post.telegram_message_id, verdict, reason))
        return verdicts

    async def score_complement(
        self, question: str, high: list[Post], medium: list[Post], usage: Usage
    ) -> dict[int, float]:
        """A partly relevant post complements the answer when it is within its margin of the
        most relevant post (`margin`): 0.7 (the pipeline's bar) at the margin, 1 at the top."""
        language = detect_language(question)
        best = max((self.relevance(p, language) for p in [*high, *medium]), default=0.0)
        scores: dict[int, float] = {}
        for post in medium:
            found = self.scored(post, language)
            behind = best - found.relevance
            score = max(0.0, 1.0 - 0.3 * behind / margin(found.other_language))
            scores[post.telegram_message_id] = round(score, 3)
        return scores

    async def reduce(
        self, question: str, language: str, expert_name: str, posts: list[RankedPost], usage: Usage
    ) -> Answer:
        q = await self.question_vector(question)
        scored = [self.scored(r.post, language) for r in posts if r.role != "CONTEXT"]
        chosen, confidence = choose_sources(scored)
        pieces: list[tuple[Post, list[str]]] = []
        candidates: list[tuple[Post, str]] = [(p, s) for p in chosen for s in sentences(p.text)]
        if candidates:
            vectors = await self.encode([s for _, s in candidates])
            similarity = vectors @ q
            for post in chosen:
                own = sorted(
                    (
                        (float(similarity[i]), i)
                        for i, (p, _) in enumerate(candidates)
                        if p.post_id == post.post_id
                    ),
                    reverse=True,
                )
                # The post was chosen for the question; its closest sentence speaks for it
                # even when no sentence alone comes near (often so across languages).
                best = [
                    pair for pair in own[:SENTENCES_PER_POST] if pair[0] >= MIN_SENTENCE_SIMILARITY
                ] or own[:1]
                picked = [candidates[i][1] for _, i in sorted(best, key=lambda pair: pair[1])]
                if picked:
                    pieces.append((post, picked))
        if not pieces:
            return Answer(text(language, "no_posts"), [], "LOW", language)
        sources = [post.telegram_message_id for post, _ in pieces]  # most relevant first
        pieces.sort(key=lambda piece: piece[0].date, reverse=True)  # the current view first
        lines = [text(language, "embedded_intro"), ""]
        for post, picked in pieces:
            lines.append(
                f"**{post.date[:10]}** — {joined(picked)} [post:{post.telegram_message_id}]"
            )
            lines.append("")
        body = "\n".join(lines).strip()
        return Answer(
            text=body,
            main_sources=sources,
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
        comments: CommentSections,
        usage: Usage,
    ) -> str | None:
        q = await self.question_vector(question)
        sections = []
        for title, section in comments.titled():
            limit = COMMUNITY_COMMENTS if "community" in title else AUTHOR_COMMENTS
            usable = [c for c in section if len(c.text.strip()) >= 15]
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

    async def moderate(
        self, question: str, language: str, answers: list[ExpertAnswer], usage: Usage
    ) -> str:
        """No comparison (nothing here can write one): each expert's opening words, side by
        side, with their citations."""
        lines = [text(language, "moderator_embedded_intro"), ""]
        lines += [f"- **{a.expert_name}**: {opening(a)}" for a in answers]
        return "\n".join(lines)
