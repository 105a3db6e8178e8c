"""`experts-panel sync`: an expert's new and recent posts and their comments, from Telegram.

One pass per expert, oldest first, from the newest post older than SYNC_REREAD_DAYS (so what
is newer than the newest stored post is read, and the recent days again for edits, views and
reactions); the comments of each post that has any come from the discussion group in the
same batch. Every batch is its own write transaction, committed before the next is fetched:
a crash or a too-long flood wait keeps what was stored, and the next run starts again from
the newest post older than the re-read window, which the committed batches moved forward.

Rows are made by the importer's code (`importing/rows.py`'s `PostRows` over the parser's
`Message`) and stored by its `HashedRows`, so a post synced and the same post imported from
an export are the same row, and a second sync changes nothing.

Posts deleted in Telegram are kept: the archive is the expert's record, answers already given
cite them, and Telegram's history simply leaves them out (no tombstone to a reader of the
history), so a missing id cannot be told from one never posted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from telethon import errors
from telethon.tl import types

from experts_panel.db.database import Database
from experts_panel.db.schema import comments, experts, import_runs, posts
from experts_panel.experts import Expert, now_iso
from experts_panel.importing.comments import COMMENT_COLUMNS, COMMENT_FIELDS
from experts_panel.importing.rows import (
    POST_COLUMNS,
    POST_FIELDS,
    ChannelIdentity,
    LinkCandidate,
    ParsedBatch,
    PostRows,
    content_hash,
    json_or_none,
)
from experts_panel.importing.store import BATCH, HashedRows, replace_links
from experts_panel.telegram_sync.client import TelegramSource
from experts_panel.telegram_sync.convert import kind_of, reply_target, to_message
from experts_panel.telegram_sync.failures import (
    FloodWaitTooLong,
    SyncFailed,
    reading_failed,
)


@dataclass(frozen=True)
class SyncOptions:
    reread_days: int = 7
    max_flood_wait: int = 300
    batch: int = BATCH
    # Between requests for one post's comments: a channel's first sync asks for thousands.
    pace_s: float = 0.2
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass
class SyncSummary:
    expert_id: str
    username: str
    chat_name: str = ""
    discussion_chat: str | None = None
    messages_seen: int = 0
    posts_added: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    comments_seen: int = 0
    comments_added: int = 0
    comments_updated: int = 0
    comments_unchanged: int = 0
    author_comments: int = 0
    reply_links: int = 0
    mention_links: int = 0
    dangling_references: int = 0
    external_mentions: int = 0
    batches: int = 0
    flood_waits: int = 0
    flood_wait_s: int = 0
    duration_s: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.posts_added or self.posts_updated)

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "skipped"}
        out["skipped"] = dict(self.skipped)
        out["duration_s"] = round(self.duration_s, 3)
        return out


class _Reader:
    """Telegram's messages oldest first, flood waits slept (up to the limit) and resumed
    after the last message handed out, errors turned into one line."""

    def __init__(
        self, source: TelegramSource, username: str, options: SyncOptions, summary: SyncSummary
    ) -> None:
        self.source = source
        self.username = username
        self.options = options
        self.summary = summary

    async def messages(
        self, entity: Any, min_id: int, reply_to: int | None = None
    ) -> AsyncIterator[Any]:
        last = min_id
        while True:
            try:
                async for message in self.source.iter_messages(
                    entity, min_id=last, reverse=True, reply_to=reply_to
                ):
                    last = max(last, message.id)
                    yield message
                return
            except errors.FloodWaitError as exc:
                if exc.seconds > self.options.max_flood_wait:
                    raise FloodWaitTooLong(
                        f"@{self.username}: Telegram asks to wait {exc.seconds} s, more than "
                        f"SYNC_MAX_FLOOD_WAIT ({self.options.max_flood_wait} s); what was "
                        "stored is kept: run the sync again later"
                    ) from exc
                self.summary.flood_waits += 1
                self.summary.flood_wait_s += exc.seconds
                await self.options.sleep(exc.seconds)
            except errors.RPCError as exc:
                raise reading_failed(self.username, exc) from exc


def chat_type(entity: Any) -> str:
    """The export's name for the chat's type."""
    visibility = "public" if entity.username else "private"
    return f"{visibility}_{'channel' if entity.broadcast else 'supergroup'}"


async def resolve(source: TelegramSource, username: str) -> Any:
    """The channel or supergroup @username, or `SyncFailed` saying why not."""
    try:
        entity = await source.get_entity(username)
    except (errors.RPCError, ValueError) as exc:
        raise reading_failed(username, exc) from exc
    if not isinstance(entity, types.Channel):
        raise SyncFailed(f"@{username} is a user or a basic group, not a channel or supergroup")
    return entity


class _Batches:
    """Stores one expert's batches: posts, their links and their comments, each batch in one
    write transaction."""

    def __init__(
        self,
        database: Database,
        expert: Expert,
        entity: Any,
        group: Any | None,
        summary: SyncSummary,
        known_ids: set[int],
    ) -> None:
        self.database = database
        self.expert = expert
        self.group = group
        self.summary = summary
        self.known_ids = known_ids
        self.channel_key = f"channel{entity.id}"
        self.stamp = now_iso()
        self.rows = PostRows(ChannelIdentity(expert.id, entity.username, entity.id, self.stamp))
        # An expert with no posts yet has nothing to compare a batch with (as an import of a
        # new expert): the batches' ids are distinct, read oldest first.
        self.fresh = not known_ids

    def comment_row(self, post_id: int, message: Any) -> tuple[Any, ...]:
        parsed = to_message(message)
        target = reply_target(message)
        header = message.reply_to
        top = getattr(header, "reply_to_top_id", None)
        # A reply to the post's copy in the group has no top id; a reply to a comment has the
        # copy as its top and the comment as its target (MessageReplyHeader).
        parent = target if top is not None and target != top else None
        is_author = parsed.author_id == self.channel_key
        self.summary.author_comments += int(is_author)
        row: dict[str, Any] = {
            "expert_id": self.expert.id,
            "post_telegram_message_id": post_id,
            "telegram_message_id": parsed.id,
            "parent_comment_id": parent,
            "date": parsed.date,
            "edited_at": parsed.edited_at,
            "text": parsed.text,
            "author_name": parsed.author_name,
            "author_id": parsed.author_id,
            "is_channel_author": int(is_author),
            "media": json_or_none(parsed.media),
        }
        row["content_hash"] = content_hash(row, COMMENT_FIELDS)
        row["imported_at"] = row["updated_at"] = self.stamp
        return tuple(row[name] for name in COMMENT_COLUMNS)

    def prepare(self, messages: list[Any]) -> ParsedBatch:
        """The batch's rows and link candidates: CPU only, done while the batch before is
        being written."""
        for message in messages:
            kind = kind_of(message)
            if kind == "message":
                self.rows.add(to_message(message))
            else:
                self.rows.skip(kind)
        return self.rows.take()

    async def write(self, batch: ParsedBatch, comment_rows: list[tuple[Any, ...]]) -> None:
        summary = self.summary
        summary.messages_seen += batch.messages_seen
        summary.skipped.update(batch.skipped)
        summary.external_mentions += batch.external_mentions
        async with self.database.write() as conn:
            post_rows = HashedRows(
                conn, posts, POST_COLUMNS, POST_FIELDS, self.expert.id, self.fresh
            )
            stored = await post_rows.upsert(batch.rows)
            summary.posts_added += stored.added
            summary.posts_updated += len(stored.updated_ids)
            summary.posts_unchanged += stored.unchanged
            self.known_ids.update(row[1] for row in batch.rows)
            await self._links(conn, stored.updated_ids, batch.links)
            for start in range(0, len(comment_rows), BATCH):
                done = await HashedRows(
                    conn, comments, COMMENT_COLUMNS, COMMENT_FIELDS, self.expert.id
                ).upsert(comment_rows[start : start + BATCH])
                summary.comments_added += done.added
                summary.comments_updated += len(done.updated_ids)
                summary.comments_unchanged += done.unchanged
            if self.group is not None and summary.batches == 0:
                await conn.execute(
                    update(experts)
                    .where(experts.c.id == self.expert.id)
                    .values(
                        discussion_chat_id=self.group.id,
                        discussion_chat_name=self.group.title,
                        updated_at=now_iso(),
                    )
                )
        summary.batches += 1

    async def _links(
        self, conn: AsyncConnection, changed: list[int], candidates: list[LinkCandidate]
    ) -> None:
        # As the importer: a link needs both posts of this expert.
        stored = await replace_links(conn, self.expert.id, changed, candidates, self.known_ids)
        self.summary.reply_links += stored.reply
        self.summary.mention_links += stored.mention
        self.summary.dangling_references += stored.dangling


def has_comments(message: Any) -> bool:
    replies = getattr(message, "replies", None)
    return (
        isinstance(message, types.Message)
        and isinstance(replies, types.MessageReplies)
        and bool(replies.comments)
        and replies.replies > 0
    )


async def _starting_point(database: Database, expert_id: str, cutoff: str) -> tuple[int, set[int]]:
    """The newest post older than the re-read window (0: none), and every post id."""
    async with database.read() as conn:
        boundary = await conn.scalar(
            select(func.max(posts.c.telegram_message_id)).where(
                posts.c.expert_id == expert_id, posts.c.date < cutoff
            )
        )
        known = set(
            (
                await conn.scalars(
                    select(posts.c.telegram_message_id).where(posts.c.expert_id == expert_id)
                )
            ).all()
        )
    return int(boundary or 0), known


async def sync_expert(
    database: Database, source: TelegramSource, expert: Expert, options: SyncOptions
) -> SyncSummary:
    """Sync one expert that has a username; raises `SyncFailed` (batches stored are kept)."""
    username = expert.channel_username
    if username is None:
        raise SyncFailed(f"expert {expert.id} has no channel username to sync from")
    clock = time.perf_counter()
    started = now_iso()
    summary = SyncSummary(expert.id, username)
    entity = await resolve(source, username)
    if expert.channel_id is not None and expert.channel_id != entity.id:
        raise SyncFailed(
            f"@{username} is now chat {entity.id}, but expert {expert.id} holds chat "
            f"{expert.channel_id}: the username moved to another chat; nothing was changed"
        )
    summary.chat_name = entity.title
    reader = _Reader(source, username, options, summary)
    group = None
    if entity.broadcast:
        try:
            group = await source.linked_chat(entity)
        except errors.RPCError as exc:
            raise reading_failed(username, exc) from exc
    summary.discussion_chat = group.title if group is not None else None
    cutoff = (options.now() - timedelta(days=options.reread_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    boundary, known = await _starting_point(database, expert.id, cutoff)
    batches = _Batches(database, expert, entity, group, summary, known)
    if expert.channel_id is None:
        await _adopt_chat(database, expert, entity)
    # One batch is written (SQLite works in aiosqlite's thread) while the next is read and
    # converted; never more than one, so batches are committed in order and a failure leaves
    # the ones before it, all of them, stored.
    writing: asyncio.Task[None] | None = None
    pending: list[Any] = []
    try:
        async for message in reader.messages(entity, boundary):
            pending.append(message)
            if len(pending) >= options.batch:
                writing = await _hand_over(
                    batches, reader, entity, group, pending, options, writing
                )
                pending = []
        if pending or (summary.batches == 0 and writing is None):
            writing = await _hand_over(batches, reader, entity, group, pending, options, writing)
    finally:
        if writing is not None:
            await writing
    summary.duration_s = time.perf_counter() - clock
    async with database.write() as conn:
        await conn.execute(
            import_runs.insert().values(
                expert_id=expert.id,
                # The table's kinds are an import's; a sync is one of posts, named by its source.
                kind="posts",
                source_name=f"telegram:@{username}",
                started_at=started,
                finished_at=now_iso(),
                summary=json.dumps(summary.as_dict(), ensure_ascii=False),
            )
        )
    return summary


async def _hand_over(
    batches: _Batches,
    reader: _Reader,
    entity: Any,
    group: Any | None,
    pending: list[Any],
    options: SyncOptions,
    writing: asyncio.Task[None] | None,
) -> asyncio.Task[None]:
    """Read the batch's comments and make its rows, then start writing it once the batch
    before is written."""
    comment_rows: list[tuple[Any, ...]] = []
    if group is not None:
        for post in pending:
            if not has_comments(post):
                continue
            if options.pace_s:
                await options.sleep(options.pace_s)
            async for message in reader.messages(entity, 0, reply_to=post.id):
                reader.summary.comments_seen += 1
                if kind_of(message) != "message":
                    reader.summary.skipped[f"comment {kind_of(message)}"] += 1
                    continue
                comment_rows.append(batches.comment_row(post.id, message))
    batch = batches.prepare(pending)
    if writing is not None:
        await writing
    return asyncio.create_task(batches.write(batch, comment_rows))


async def _adopt_chat(database: Database, expert: Expert, entity: Any) -> None:
    """An expert made without a chat id (by hand) takes the one its username names."""
    async with database.write() as conn:
        await conn.execute(
            update(experts)
            .where(experts.c.id == expert.id)
            .values(channel_id=entity.id, chat_type=chat_type(entity), updated_at=now_iso())
        )
