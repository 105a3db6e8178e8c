"""The model behind an OpenAI-compatible API (OpenRouter, llama.cpp, vLLM): one JSON call a task.

Every method sends one `chat_json` call with the model its phase is configured to use, adds the
call's tokens to the `usage` it is given and validates the reply with a pydantic model from this
module, so a reply of the wrong shape gets the client's one correction call. What the reply says
about posts, comments or discussions that were not shown is dropped. Retries, JSON repair and the
correction live in `OpenAICompatibleClient`; a call that fails for good raises `ModelError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Annotated, Self, TypeVar

from pydantic import BaseModel, BeforeValidator, StringConstraints, model_validator

from experts_panel.llm import prompts
from experts_panel.llm.openai_client import OpenAICompatibleClient
from experts_panel.llm.types import ChatMessage
from experts_panel.pipeline.citations import cited_ids
from experts_panel.pipeline.model import ModelError, Usage
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import (
    Answer,
    CommentGroup,
    CommentItem,
    CommentSections,
    ExpertAnswer,
    Post,
    RankedPost,
    Relevance,
    Verdict,
)
from experts_panel.settings import Settings

T = TypeVar("T", bound=BaseModel)

# Sorting and choosing want the same verdict every time; writing may vary a little.
JUDGE_TEMPERATURE = 0.1
WRITE_TEMPERATURE = 0.3

MAX_REASON_CHARS = 300

_POST_ID = re.compile(r"\[?\s*(?:post\s*:\s*)?(\d+)\s*\]?", re.IGNORECASE)
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_URL = re.compile(r"https?://[^\s<>()\[\]\"']+")
_FENCED_CODE = re.compile(r"^[ \t]*```.*?^[ \t]*```", re.MULTILINE | re.DOTALL)


def _post_id(value: object) -> object:
    """Models write an ID as 123, "123", "post:123" or "[post:123]"; all mean 123."""
    if isinstance(value, str):
        found = _POST_ID.fullmatch(value.strip())
        if found is not None:
            return int(found.group(1))
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _string_list(value: object) -> object:
    """A list of words may come as one comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


PostId = Annotated[int, BeforeValidator(_post_id)]
Label = Annotated[Relevance, BeforeValidator(_upper)]
Words = Annotated[list[str], BeforeValidator(_string_list)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


# The replies, one per task; each prompt in `prompts` asks for exactly this shape.


class MapVerdict(BaseModel):
    id: PostId
    relevance: Label
    reason: str = ""


class MapReply(BaseModel):
    posts: list[MapVerdict]


class ComplementScore(BaseModel):
    id: PostId
    score: float


class ComplementReply(BaseModel):
    scores: list[ComplementScore]


class ReduceReply(BaseModel):
    answer: NonEmpty
    main_sources: list[PostId] = []
    confidence: Label
    language: str | None = None


class TranslationReply(BaseModel):
    text: NonEmpty


class DriftGroupsReply(BaseModel):
    post_ids: list[PostId]


class SynthesisReply(BaseModel):
    synthesis: str | None = None


class ModeratorReply(BaseModel):
    synthesis: NonEmpty


class DriftTopic(BaseModel):
    topic: NonEmpty
    keywords: Words = []
    key_phrases: Words = []
    context: str = ""


class DriftReply(BaseModel):
    has_drift: bool
    topics: list[DriftTopic] = []


def cited(body: str) -> set[int]:
    # Every form a model writes counts: a translation that groups its citations keeps them.
    return set(cited_ids(body))


def urls(body: str) -> set[str]:
    return {found.rstrip(".,;:!?") for found in _URL.findall(body)}


def code_blocks(body: str) -> list[str]:
    return _FENCED_CODE.findall(body)


def translation_schema(source: str) -> type[TranslationReply]:
    """A reply schema that also insists on what a translation must keep as it is: the source's
    citations, its URLs and its fenced code. A translation that lost, changed or invented one
    gets the client's correction call, told which."""
    expected = cited(source)
    expected_urls = urls(source)
    expected_code = code_blocks(source)

    class CheckedTranslation(TranslationReply):
        @model_validator(mode="after")
        def _keeps_what_it_must(self) -> Self:
            found = cited(self.text)
            missing, extra = sorted(expected - found), sorted(found - expected)
            problems = []
            if missing:
                problems.append(
                    "keep every [post:ID] marker exactly: missing "
                    + ", ".join(f"[post:{i}]" for i in missing)
                )
            if extra:
                problems.append(
                    "keep every [post:ID] marker exactly: not in the original "
                    + ", ".join(f"[post:{i}]" for i in extra)
                )
            lost_urls = sorted(expected_urls - urls(self.text))
            if lost_urls:
                problems.append("keep every URL unchanged: missing " + ", ".join(lost_urls))
            if any(block not in self.text for block in expected_code):
                problems.append("copy every ``` code block exactly as it is, untranslated")
            if problems:
                raise ValueError("the translation must " + "; ".join(problems))
            return self

    return CheckedTranslation


def _language_code(reported: str | None, default: str) -> str:
    """The reply's `language` as a bare ISO code ("ru-RU" -> "ru"); the question's otherwise."""
    if reported:
        code = re.split(r"[-_\s]", reported.strip().lower(), maxsplit=1)[0]
        if _LANGUAGE_CODE.fullmatch(code):
            return code
    return default


def _unique(ids: Sequence[int], allowed: set[int]) -> list[int]:
    return [i for i in dict.fromkeys(ids) if i in allowed]


async def _ask(
    client: OpenAICompatibleClient,
    messages: list[ChatMessage],
    model: str,
    schema: type[T],
    usage: Usage,
    temperature: float,
) -> T:
    try:
        reply, spent = await client.chat_json(messages, model, schema, temperature=temperature)
    except ModelError as exc:
        usage.add(exc.spent)  # unusable answers still cost tokens
        raise
    usage.add(spent)
    return reply


class OpenRouterModel:
    """The `Model` of the pipeline, talking to an OpenAI-compatible API."""

    name = "openrouter"
    can_translate = True

    def __init__(self, client: OpenAICompatibleClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    async def map_chunk(
        self, question: str, language: str, posts: list[Post], usage: Usage
    ) -> list[Verdict]:
        if not posts:
            return []
        reply = await _ask(
            self.client,
            prompts.map_messages(question, language, posts),
            self.settings.MODEL_MAP,
            MapReply,
            usage,
            JUDGE_TEMPERATURE,
        )
        shown = {p.telegram_message_id for p in posts}
        verdicts: dict[int, Verdict] = {}
        for item in reply.posts:
            if item.id in shown and item.id not in verdicts:
                reason = " ".join(item.reason.split())[:MAX_REASON_CHARS]
                verdicts[item.id] = Verdict(item.id, item.relevance, reason)
        return list(verdicts.values())

    async def score_complement(
        self, question: str, high: list[Post], medium: list[Post], usage: Usage
    ) -> dict[int, float]:
        if not medium:
            return {}
        reply = await _ask(
            self.client,
            prompts.complement_messages(question, high, medium),
            self.settings.MODEL_MEDIUM_SCORING,
            ComplementReply,
            usage,
            JUDGE_TEMPERATURE,
        )
        candidates = {p.telegram_message_id for p in medium}
        scores: dict[int, float] = {}
        for item in reply.scores:
            if item.id in candidates and item.id not in scores and math.isfinite(item.score):
                scores[item.id] = min(1.0, max(0.0, item.score))
        return scores

    async def reduce(
        self, question: str, language: str, expert_name: str, posts: list[RankedPost], usage: Usage
    ) -> Answer:
        if not posts:
            return Answer(text(language, "no_posts"), [], "LOW", language)
        reply = await _ask(
            self.client,
            prompts.reduce_messages(question, language, expert_name, posts),
            self.settings.MODEL_REDUCE,
            ReduceReply,
            usage,
            WRITE_TEMPERATURE,
        )
        given = {r.post.telegram_message_id for r in posts}
        return Answer(
            text=reply.answer,
            main_sources=_unique(reply.main_sources, given),
            confidence=reply.confidence,
            language=_language_code(reply.language, language),
        )

    async def translate(self, content: str, target_language: str, usage: Usage) -> str | None:
        if not content.strip():
            return content
        reply = await _ask(
            self.client,
            prompts.translate_messages(content, target_language),
            self.settings.MODEL_TRANSLATION,
            translation_schema(content),
            usage,
            JUDGE_TEMPERATURE,
        )
        return reply.text

    async def select_drift_groups(
        self, question: str, groups: list[CommentGroup], usage: Usage
    ) -> list[int]:
        if not groups:
            return []
        reply = await _ask(
            self.client,
            prompts.drift_groups_messages(question, groups),
            self.settings.MODEL_COMMENT_GROUPS,
            DriftGroupsReply,
            usage,
            JUDGE_TEMPERATURE,
        )
        chosen = set(reply.post_ids)
        given = [g.post_telegram_message_id for g in groups]
        return [i for i in dict.fromkeys(given) if i in chosen]

    async def synthesize_comments(
        self,
        question: str,
        language: str,
        answer: str,
        comments: CommentSections,
        usage: Usage,
    ) -> str | None:
        if comments.empty():
            return None
        reply = await _ask(
            self.client,
            prompts.synthesis_messages(question, language, answer, comments),
            self.settings.MODEL_COMMENT_SYNTHESIS,
            SynthesisReply,
            usage,
            WRITE_TEMPERATURE,
        )
        synthesis = (reply.synthesis or "").strip()
        if synthesis.lower() in ("", "null", "none"):
            return None
        return synthesis

    async def moderate(
        self, question: str, language: str, answers: list[ExpertAnswer], usage: Usage
    ) -> str:
        reply = await _ask(
            self.client,
            prompts.moderator_messages(question, language, answers),
            self.settings.moderator_model,
            ModeratorReply,
            usage,
            WRITE_TEMPERATURE,
        )
        return reply.synthesis


async def analyze_drift(
    client: OpenAICompatibleClient,
    settings: Settings,
    post_text: str,
    comments: list[CommentItem],
    usage: Usage,
) -> tuple[bool, list[dict[str, object]]]:
    """Whether the discussion under a post drifted to other topics, and to which.

    Topics are `{topic, keywords, key_phrases, context}`, as `comment_group_drift` stores them.
    No comments: no drift, and no call.
    """
    if not comments:
        return False, []
    reply = await _ask(
        client,
        prompts.drift_analysis_messages(post_text, comments),
        settings.MODEL_COMMENT_GROUPS,
        DriftReply,
        usage,
        JUDGE_TEMPERATURE,
    )
    if not reply.has_drift:
        return False, []
    topics: list[dict[str, object]] = [topic.model_dump() for topic in reply.topics]
    # A drift with no topic named could never be matched to a question.
    return bool(topics), topics
