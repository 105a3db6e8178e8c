"""One exported message, checked and reduced to what the panel stores."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from experts_panel.telegram.text import (
    PostReference,
    TextShapeError,
    find_post_references,
    flatten_text,
)

# Media metadata worth keeping (the files themselves are never in a text export).
MEDIA_KEYS = (
    "media_type",
    "mime_type",
    "file_name",
    "file_size",
    "duration_seconds",
    "width",
    "height",
    "photo_file_size",
    "sticker_emoji",
    "performer",
    "title",
)


class MessageError(ValueError):
    """A message cannot be read; the importer adds the file name and message id."""


def _timestamp(message: dict[str, Any], unix_key: str, text_key: str) -> str | None:
    unix = message.get(unix_key)
    if unix is not None:
        try:
            return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(unix)))
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise MessageError(f"{unix_key} {unix!r} is not a Unix time") from exc
    value = message.get(text_key)
    if value is None:
        return None
    # Older exports carry only local time without a zone; it is kept as written.
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError as exc:
        raise MessageError(f"{text_key} {value!r} is not a date") from exc


def _plain(value: Any) -> Any:
    """JSON-ready value (ijson gives Decimal for non-integer numbers)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# SQLite's integers are 64-bit signed.
_INT64 = range(-(2**63), 2**63)


def _optional_int(message: dict[str, Any], key: str) -> int | None:
    value = message.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise MessageError(f"{key} {value!r} is not a number")
    try:
        number = int(value)
    except ValueError as exc:  # also a string of more than 4,300 digits
        raise MessageError(f"{key} {value!r} is not a number") from exc
    if number not in _INT64:
        raise MessageError(f"{key} {value!r} is out of range")
    return number


def _reply_to(raw: dict[str, Any]) -> int | None:
    reply_to = _optional_int(raw, "reply_to_message_id")
    if reply_to is not None and reply_to <= 0:
        raise MessageError(f"reply_to_message_id {reply_to} is not a positive integer")
    return reply_to


@dataclass(slots=True)
class Message:
    id: int
    date: str
    edited_at: str | None
    text: str
    author_name: str | None
    author_id: str | None
    reply_to_message_id: int | None
    forwarded_from: str | None
    forwarded_from_id: str | None
    views: int | None
    forwards: int | None
    media: dict[str, Any] | None
    reactions: list[Any] | None
    references: list[PostReference] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)


def message_id_of(raw: dict[str, Any]) -> int:
    """The message's id: a positive integer (the API serves posts by positive ids only)."""
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MessageError(f"message id {value!r} is not a positive integer")
    return value


def parse_message(raw: dict[str, Any]) -> Message:
    """Read one message of type `message`; raises `MessageError` naming what is wrong."""
    message_id = message_id_of(raw)
    date = _timestamp(raw, "date_unixtime", "date")
    if date is None:
        raise MessageError("has no date")
    try:
        text, mentions = flatten_text(raw.get("text", ""))
    except TextShapeError as exc:
        raise MessageError(str(exc)) from exc
    media = {key: _plain(raw[key]) for key in MEDIA_KEYS if key in raw}
    if "photo" in raw and "media_type" not in media:
        media["media_type"] = "photo"
    reactions = raw.get("reactions")
    forwarded_from = raw.get("forwarded_from")
    return Message(
        id=message_id,
        date=date,
        edited_at=_timestamp(raw, "edited_unixtime", "edited"),
        text=text,
        author_name=raw.get("from") if isinstance(raw.get("from"), str) else None,
        author_id=raw.get("from_id") if isinstance(raw.get("from_id"), str) else None,
        reply_to_message_id=_reply_to(raw),
        forwarded_from=forwarded_from if isinstance(forwarded_from, str) else None,
        forwarded_from_id=raw.get("forwarded_from_id")
        if isinstance(raw.get("forwarded_from_id"), str)
        else None,
        views=_optional_int(raw, "views"),
        forwards=_optional_int(raw, "forwards"),
        media=media or None,
        reactions=_plain(reactions) if isinstance(reactions, list) else None,
        references=find_post_references(text),
        mentions=mentions,
    )
