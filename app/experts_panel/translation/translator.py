"""One text in the reader's language: from the cache, else from the translation model within
the day's token budget, else the original with the reason.

The cache is read first, so a translation made once is served without a key and past the
budget too: it costs nothing. A text the model failed on is the original for this request only;
the next reader's request tries again.
"""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import SQLAlchemyError

from experts_panel.db.database import Database
from experts_panel.language import detect_language
from experts_panel.logs import get_logger
from experts_panel.pipeline.budget import UsageLedger
from experts_panel.pipeline.call_phase import current_phase
from experts_panel.pipeline.model import Model, ModelError, Usage
from experts_panel.posts import ReaderLanguage, TranslationOut, TranslationReason
from experts_panel.translation import cache
from experts_panel.translation.cache import TextKind, TranslationKey

log = get_logger(__name__)

# The label of these calls in the model-call metrics (the pipeline's are its phases).
CALL_PHASE = "post_translation"


@dataclass(frozen=True)
class Translation:
    """The text to show, and what it is."""

    text: str
    about: TranslationOut


@dataclass(frozen=True)
class Translator:
    """Translates for one request. `model` is None without a model API key: the embedded
    model cannot translate."""

    database: Database
    model: Model | None
    model_name: str  # MODEL_TRANSLATION, part of the cache's key
    ledger: UsageLedger
    daily_budget: int  # DAILY_TOKEN_BUDGET; 0: no limit
    # When the request stops waiting for the model (`loop.time()`, TRANSLATION_TIMEOUT after it
    # began), shared by the post and its comments: retries of a slow provider must not keep a
    # reader at a blank dialog for minutes.
    deadline: float

    async def translate(
        self,
        expert_id: str,
        kind: TextKind,
        telegram_message_id: int,
        text: str,
        language: ReaderLanguage,
    ) -> Translation:
        if not text.strip():
            return _original(text, language, None, "no_text")
        source = detect_language(text)
        if source == language:
            return _original(text, language, source, "same_language")
        key = TranslationKey(
            expert_id=expert_id,
            kind=kind,
            telegram_message_id=telegram_message_id,
            language=language,
            model=self.model_name,
            source_sha256=cache.source_sha256(text),
        )
        async with self.database.read() as conn:
            found = await cache.find(conn, key)
        if found is not None:
            return _translated(found, text, language, source, "cached", self.model_name)
        model = self.model
        if model is None or not model.can_translate:
            return _original(text, language, source, "no_key")
        if self.daily_budget and await self.ledger.spent_today() >= self.daily_budget:
            return _original(text, language, source, "budget_spent")
        spent = Usage()
        phase = current_phase.set(CALL_PHASE)
        try:
            async with asyncio.timeout_at(self.deadline):
                translated = await model.translate(text, language, spent)
        except TimeoutError:
            log.warning(
                "translation took too long: the original is shown",
                expert_id=expert_id,
                kind=kind,
                telegram_message_id=telegram_message_id,
            )
            translated = None
        except ModelError as exc:
            log.warning(
                "translation failed: the original is shown",
                expert_id=expert_id,
                kind=kind,
                telegram_message_id=telegram_message_id,
                kind_of_failure=exc.kind,
                error=str(exc),
            )
            translated = None
        finally:
            current_phase.reset(phase)
            # Failed answers cost tokens too (`ModelError.spent`, already in `spent`).
            self.ledger.add(spent)
        if translated is None:
            return _original(text, language, source, "model_failed")
        await self._keep(key, translated, spent)
        return _translated(translated, text, language, source, "translated", self.model_name)

    async def _keep(self, key: TranslationKey, text: str, spent: Usage) -> None:
        # The reader has the translation either way; a cache that could not be written (an
        # import holding the write lock past the busy timeout) only costs a call next time.
        try:
            async with self.database.write() as conn:
                await cache.store(conn, key, text, spent)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            log.warning(
                "translation not cached",
                expert_id=key.expert_id,
                kind=key.kind,
                telegram_message_id=key.telegram_message_id,
                error=str(exc),
            )


def _original(
    text: str, language: ReaderLanguage, source: str | None, reason: TranslationReason
) -> Translation:
    return Translation(
        text,
        TranslationOut(
            language=language,
            source_language=source,
            status="original",
            reason=reason,
            model=None,
            original_text=None,
        ),
    )


def _translated(
    translated: str,
    original: str,
    language: ReaderLanguage,
    source: str,
    status: Literal["translated", "cached"],
    model: str,
) -> Translation:
    return Translation(
        translated,
        TranslationOut(
            language=language,
            source_language=source,
            status=status,
            reason=None,
            model=model,
            original_text=original,
        ),
    )
