"""Turning parsed messages into `posts` rows and link candidates.

Kept free of SQLAlchemy and the web stack so the parsing process (`parse_worker`) starts fast.
"""

from __future__ import annotations

import hashlib
import operator
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from experts_panel.telegram.message import Message

# Columns an edit or a newer export may change; the hash over them says whether a row changed.
POST_FIELDS = (
    "date",
    "edited_at",
    "text",
    "author_name",
    "author_id",
    "views",
    "forwards",
    "reply_to_message_id",
    "forwarded_from",
    "forwarded_from_id",
    "media",
    "external_mentions",
    "reactions",
)
POST_COLUMNS = (
    "expert_id",
    "telegram_message_id",
    *POST_FIELDS,
    "content_hash",
    "imported_at",
    "updated_at",
)
ID_INDEX = POST_COLUMNS.index("telegram_message_id")
HASH_INDEX = POST_COLUMNS.index("content_hash")

LinkCandidate = tuple[int, int, str]  # (source message id, target message id, link type)


def content_hash(row: dict[str, Any], fields: tuple[str, ...]) -> str:
    # orjson: at 100,000 rows the standard json module is a tenth of the whole import.
    payload = orjson.dumps(operator.itemgetter(*fields)(row))
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def json_or_none(value: Any) -> str | None:
    return orjson.dumps(value).decode() if value else None


@dataclass
class ParsedBatch:
    """What the parser hands to the writer: rows in `POST_COLUMNS` order, and its counts."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    links: list[LinkCandidate] = field(default_factory=list)
    messages_seen: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    duplicate_ids: list[int] = field(default_factory=list)  # one entry per copy skipped
    external_mentions: int = 0
    bytes_read: int = 0


class SeenIds:
    """The message ids met so far in a file, to skip later copies of one.

    Telegram writes ids in rising order, so they are kept as a sorted array of 8 bytes each
    (searched by bisection) while they rise; only an id that comes out of order goes to a set.
    A set of every id would cost ten times the memory: 8 MB per 100,000 messages."""

    def __init__(self) -> None:
        self._rising = array("q")
        self._others: set[int] = set()

    def add(self, message_id: int) -> bool:
        """Note `message_id`; False if it was met before."""
        rising = self._rising
        if not rising or message_id > rising[-1]:
            rising.append(message_id)
            return True
        at = bisect_left(rising, message_id)
        if (at < len(rising) and rising[at] == message_id) or message_id in self._others:
            return False
        self._others.add(message_id)
        return True


@dataclass(frozen=True)
class ChannelIdentity:
    """Who "this channel" is, to tell its own t.me links from other channels'."""

    expert_id: str
    username: str | None
    channel_id: int | None
    stamp: str


class PostRows:
    """Builds rows into the current batch; `take()` hands the batch over and starts anew."""

    def __init__(self, channel: ChannelIdentity) -> None:
        self.channel = channel
        self.own_mention = (channel.username or "").lower()
        self.batch = ParsedBatch()
        self._columns = operator.itemgetter(*POST_COLUMNS)

    def take(self) -> ParsedBatch:
        batch, self.batch = self.batch, ParsedBatch()
        return batch

    def skip(self, kind: str) -> None:
        self.batch.messages_seen += 1
        self.batch.skipped[kind] += 1

    def duplicate(self, message_id: int) -> None:
        self.batch.messages_seen += 1
        self.batch.duplicate_ids.append(message_id)

    def add(self, message: Message) -> None:
        batch = self.batch
        batch.messages_seen += 1
        internal: list[int] = []
        external: list[dict[str, object]] = []
        for ref in message.references:
            if ref.is_of(self.channel.username, self.channel.channel_id):
                internal.append(ref.message_id)
            else:
                external.append(ref.as_metadata())
        external.extend(
            {"mention": m}
            for m in message.mentions
            if m.removeprefix("@").lower() != self.own_mention
        )
        batch.external_mentions += len(external)
        row: dict[str, Any] = {
            "expert_id": self.channel.expert_id,
            "telegram_message_id": message.id,
            "date": message.date,
            "edited_at": message.edited_at,
            "text": message.text,
            "author_name": message.author_name,
            "author_id": message.author_id,
            "views": message.views,
            "forwards": message.forwards,
            "reply_to_message_id": message.reply_to_message_id,
            "forwarded_from": message.forwarded_from,
            "forwarded_from_id": message.forwarded_from_id,
            "media": json_or_none(message.media),
            "external_mentions": json_or_none(external),
            "reactions": json_or_none(message.reactions),
        }
        row["content_hash"] = content_hash(row, POST_FIELDS)
        row["imported_at"] = row["updated_at"] = self.channel.stamp
        batch.rows.append(self._columns(row))
        if message.reply_to_message_id is not None and message.reply_to_message_id != message.id:
            batch.links.append((message.id, message.reply_to_message_id, "reply"))
        for target in dict.fromkeys(internal):
            if target != message.id:
                batch.links.append((message.id, target, "mention"))
