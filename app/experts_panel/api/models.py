"""The API's response bodies (the contract the front end reads)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Health(BaseModel):
    status: Literal["healthy", "unhealthy"]
    database: Literal["ok", "unreachable"]
    openrouter_configured: bool
    timestamp: str


class ExpertOut(BaseModel):
    id: str
    name: str
    channel_username: str | None
    channel_url: str | None
    chat_type: str | None
    post_count: int
    comment_count: int
    first_post_at: str | None
    last_post_at: str | None


class LinkOut(BaseModel):
    direction: Literal["in", "out"]
    link_type: str
    telegram_message_id: int


class CommentOut(BaseModel):
    telegram_message_id: int
    parent_comment_id: int | None
    date: str
    edited_at: str | None
    text: str
    author_name: str | None
    is_channel_author: bool


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
    comments: list[CommentOut]


class ErrorOut(BaseModel):
    detail: str
