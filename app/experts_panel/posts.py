"""Reading one post with its links and comments, always within one expert.

The models here are the post as `GET /api/v1/posts/{id}` answers it: read once, in its
wire shape, not copied field by field from a second description of it.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import comments, links, posts
from experts_panel.experts import Expert

# The languages a post can be asked for in: the reader's front end speaks these two.
ReaderLanguage = Literal["ru", "en"]

# Why a text asked for in another language comes in its original (README, "A post in the
# reader's language"):
# - same_language: it is in the language asked for already;
# - no_text: it has no words to translate (a photo, a sticker);
# - no_key: no model API key is set, and the embedded model cannot translate;
# - budget_spent: today's token budget (DAILY_TOKEN_BUDGET) is spent;
# - model_failed: the model API failed or its translation could not be used.
TranslationReason = Literal["same_language", "no_text", "no_key", "budget_spent", "model_failed"]


class TranslationOut(BaseModel):
    """What `text` is when a language was asked for: a translation, and of what, or the
    original, and why."""

    language: ReaderLanguage  # the language asked for
    source_language: str | None  # the original's, as detected (ISO 639-1); None without text
    # translated: by the model for this request; cached: by it earlier, for this very text;
    # original: `text` is the original (`reason` says why)
    status: Literal["translated", "cached", "original"]
    reason: TranslationReason | None  # set when status is "original"
    model: str | None  # the model that translated (MODEL_TRANSLATION), else None
    original_text: str | None  # the original when `text` is a translation


class LinkOut(BaseModel):
    direction: Literal["in", "out"]  # "out": this post refers to the other; "in": the reverse
    link_type: str
    telegram_message_id: int


class PostCommentOut(BaseModel):
    telegram_message_id: int
    parent_comment_id: int | None
    date: str
    edited_at: str | None
    text: str
    author_name: str | None
    is_channel_author: bool
    # Set when the comments were asked for in a language (`translate_comments`).
    translation: TranslationOut | None


class PostOut(BaseModel):
    expert_id: str
    telegram_message_id: int
    date: str
    edited_at: str | None
    text: str
    author_name: str | None
    views: int | None
    forwards: int | None
    forwarded_from: str | None
    media: dict[str, Any] | None
    external_mentions: list[dict[str, Any]]
    telegram_url: str | None
    links: list[LinkOut]
    comments: list[PostCommentOut]
    # Set when the post was asked for in a language (`language`); None: `text` is the original.
    translation: TranslationOut | None


async def get_post(
    conn: AsyncConnection, expert: Expert, telegram_message_id: int
) -> PostOut | None:
    expert_id = expert.id
    row = (
        await conn.execute(
            select(posts).where(
                posts.c.expert_id == expert_id,
                posts.c.telegram_message_id == telegram_message_id,
            )
        )
    ).first()
    if row is None:
        return None
    link_rows = await conn.execute(
        select(links)
        .where(
            links.c.expert_id == expert_id,
            or_(
                links.c.source_message_id == telegram_message_id,
                links.c.target_message_id == telegram_message_id,
            ),
        )
        .order_by(links.c.id)
    )
    post_links = [
        LinkOut(direction="out", link_type=r.link_type, telegram_message_id=r.target_message_id)
        if r.source_message_id == telegram_message_id
        else LinkOut(direction="in", link_type=r.link_type, telegram_message_id=r.source_message_id)
        for r in link_rows
    ]
    comment_rows = await conn.execute(
        select(comments)
        .where(
            and_(
                comments.c.expert_id == expert_id,
                comments.c.post_telegram_message_id == telegram_message_id,
            )
        )
        .order_by(comments.c.date, comments.c.telegram_message_id)
    )
    channel = expert.channel_username
    return PostOut(
        expert_id=expert_id,
        telegram_message_id=row.telegram_message_id,
        date=row.date,
        edited_at=row.edited_at,
        text=row.text,
        author_name=row.author_name,
        views=row.views,
        forwards=row.forwards,
        forwarded_from=row.forwarded_from,
        media=json.loads(row.media) if row.media else None,
        external_mentions=json.loads(row.external_mentions) if row.external_mentions else [],
        telegram_url=f"https://t.me/{channel}/{telegram_message_id}" if channel else None,
        links=post_links,
        translation=None,
        comments=[
            PostCommentOut(
                telegram_message_id=c.telegram_message_id,
                parent_comment_id=c.parent_comment_id,
                date=c.date,
                edited_at=c.edited_at,
                text=c.text,
                author_name=c.author_name,
                is_channel_author=bool(c.is_channel_author),
                translation=None,
            )
            for c in comment_rows
        ],
    )
