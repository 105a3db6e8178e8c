"""The `translations` table: a translation is found by what it translates, exactly.

The key holds the SHA-256 of the source text, so an edited post finds nothing and is
translated again; storing that new translation drops the ones of the text's older versions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import translations
from experts_panel.pipeline.model import Usage

TextKind = Literal["post", "comment"]


def source_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TranslationKey:
    expert_id: str
    kind: TextKind
    telegram_message_id: int
    language: str
    model: str
    source_sha256: str


def _any_version(key: TranslationKey) -> ColumnElement[bool]:
    """The rows of this text in this language by this model, whatever version of the text."""
    return and_(
        translations.c.expert_id == key.expert_id,
        translations.c.kind == key.kind,
        translations.c.telegram_message_id == key.telegram_message_id,
        translations.c.language == key.language,
        translations.c.model == key.model,
    )


async def find(conn: AsyncConnection, key: TranslationKey) -> str | None:
    row = (
        await conn.execute(
            select(translations.c.text).where(
                _any_version(key), translations.c.source_sha256 == key.source_sha256
            )
        )
    ).first()
    return None if row is None else str(row.text)


async def store(conn: AsyncConnection, key: TranslationKey, text: str, spent: Usage) -> None:
    """Keep `text` as the translation of `key`'s source, in place of older versions'."""
    await conn.execute(delete(translations).where(_any_version(key)))
    await conn.execute(
        insert(translations).values(
            expert_id=key.expert_id,
            kind=key.kind,
            telegram_message_id=key.telegram_message_id,
            language=key.language,
            model=key.model,
            source_sha256=key.source_sha256,
            text=text,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
    )
