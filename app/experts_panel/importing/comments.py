"""Import the comments of a channel from the export of its discussion group.

In the discussion group every channel post appears as an automatic forwarded copy that names
the channel but not the original message id; comments are replies to that copy, possibly in
chains. Each copy is matched to its channel post by text and time, and every comment is stored
under the post its chain leads to. Two streaming passes over the file keep memory to a few
integers per message: the first finds the copies and the reply chains, the second stores.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import comments, experts, posts
from experts_panel.experts import Expert, check_slug, get_expert, now_iso
from experts_panel.importing.rows import SeenIds, content_hash, json_or_none
from experts_panel.importing.source import (
    ImportFailed,
    ProgressCallback,
    note_duplicates,
    open_export,
)
from experts_panel.importing.store import BATCH, HashedRows, record_run
from experts_panel.importing.threads import UNMATCHED, PostIndex, is_copy, resolve_threads
from experts_panel.telegram.export import ChatInfo, ExportError, TelegramExport
from experts_panel.telegram.message import MessageError, message_id_of, parse_message

COMMENT_FIELDS = (
    "post_telegram_message_id",
    "parent_comment_id",
    "date",
    "edited_at",
    "text",
    "author_name",
    "author_id",
    "is_channel_author",
    "media",
)
COMMENT_COLUMNS = (
    "expert_id",
    "telegram_message_id",
    *COMMENT_FIELDS,
    "content_hash",
    "imported_at",
    "updated_at",
)


@dataclass
class CommentImportSummary:
    expert_id: str
    source: str
    discussion_chat: str
    copies_seen: int = 0
    copies_matched: int = 0
    unmatched_copies: list[dict[str, Any]] = field(default_factory=list)
    comments_seen: int = 0
    comments_added: int = 0
    comments_updated: int = 0
    comments_unchanged: int = 0
    author_comments: int = 0
    not_under_a_post: int = 0
    under_unmatched_copy: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # messages skipped because their id came earlier in the file
    duplicate_ids: list[int] = field(default_factory=list)  # the first few such ids

    def as_dict(self) -> dict[str, Any]:
        return {
            "expert_id": self.expert_id,
            "source": self.source,
            "discussion_chat": self.discussion_chat,
            "copies_seen": self.copies_seen,
            "copies_matched": self.copies_matched,
            "unmatched_copies": self.unmatched_copies,
            "comments_seen": self.comments_seen,
            "comments_added": self.comments_added,
            "comments_updated": self.comments_updated,
            "comments_unchanged": self.comments_unchanged,
            "author_comments": self.author_comments,
            "not_under_a_post": self.not_under_a_post,
            "under_unmatched_copy": self.under_unmatched_copy,
            "skipped": dict(self.skipped),
            "duplicates": self.duplicates,
            "duplicate_ids": self.duplicate_ids,
        }


async def import_comments(
    conn: AsyncConnection,
    path: Path,
    expert_id: str,
    on_read: ProgressCallback | None = None,
) -> CommentImportSummary:
    """Import a discussion group export as `expert_id`'s comments, in the caller's transaction."""
    check_slug(expert_id)
    started = now_iso()
    expert = await get_expert(conn, expert_id)
    if expert is None:
        raise ImportFailed(f"{path}: no expert {expert_id!r}; import its channel first")
    export = open_export(path)
    _check_group(path, expert, export.chat)
    summary = CommentImportSummary(expert.id, path.name, export.chat.name)
    index = await _post_index(conn, path, expert)
    channel = _Channel.of(expert)
    try:
        threads = _find_threads(path, export, index, channel, summary, on_read)
        await _store_comments(conn, path, export, expert, channel, threads, summary)
    except ExportError as exc:
        raise ImportFailed(str(exc)) from exc
    await _record(conn, path, expert, export.chat, started, summary)
    return summary


def _check_group(path: Path, expert: Expert, group: ChatInfo) -> None:
    """The export must be of the expert's discussion group, not of its channel nor of another
    group comments were taken from before."""
    if expert.channel_id is not None and group.id == expert.channel_id:
        raise ImportFailed(
            f"{path}: this is the channel's own export; --comments takes its discussion group"
        )
    if (
        expert.discussion_chat_id is not None
        and group.id is not None
        and expert.discussion_chat_id != group.id
    ):
        raise ImportFailed(
            f"{path}: expert {expert.id!r} takes comments from chat {expert.discussion_chat_id}; "
            f"this export is of chat {group.id} ({group.name})"
        )


async def _post_index(conn: AsyncConnection, path: Path, expert: Expert) -> PostIndex:
    rows = (
        await conn.execute(
            select(posts.c.telegram_message_id, posts.c.date, posts.c.text).where(
                posts.c.expert_id == expert.id
            )
        )
    ).all()
    if not rows:
        raise ImportFailed(f"{path}: expert {expert.id!r} has no posts to attach comments to")
    return PostIndex([(r[0], r[1], r[2]) for r in rows])


@dataclass(frozen=True)
class _Channel:
    """How the channel shows in its discussion group: its sender key, and its name."""

    key: str | None
    names: set[str]

    @classmethod
    def of(cls, expert: Expert) -> _Channel:
        key = f"channel{expert.channel_id}" if expert.channel_id is not None else None
        return cls(key, {expert.display_name})


@dataclass
class _Threads:
    """What the first pass found: each copy's post (None: unmatched), each other message's
    parent, and from both, the post each comment's chain leads to."""

    copy_to_post: dict[int, int | None] = field(default_factory=dict)
    parent_of: dict[int, int | None] = field(default_factory=dict)
    post_of: dict[int, int] = field(default_factory=dict)


def _find_threads(
    path: Path,
    export: TelegramExport,
    index: PostIndex,
    channel: _Channel,
    summary: CommentImportSummary,
    on_read: ProgressCallback | None,
) -> _Threads:
    """Pass 1: find the copies, match them, and record who replies to whom. A message whose
    id came earlier in the file is skipped, as in a channel's import."""
    threads = _Threads()
    seen = SeenIds()
    for raw in export.messages(on_read):
        try:
            message_id = message_id_of(raw)
            if not seen.add(message_id):
                summary.duplicates += 1
                note_duplicates(summary.duplicate_ids, [message_id])
                continue
            if raw.get("type") != "message":
                summary.skipped[str(raw.get("type"))] += 1
                continue
            if is_copy(raw, channel.key, channel.names):
                summary.copies_seen += 1
                message = parse_message(raw)
                post_id = index.match(message.text, message.date)
                threads.copy_to_post[message_id] = post_id
                if post_id is None:
                    summary.unmatched_copies.append(
                        {"id": message_id, "date": message.date, "text": message.text[:80]}
                    )
                else:
                    summary.copies_matched += 1
            else:
                reply_to = raw.get("reply_to_message_id")
                threads.parent_of[message_id] = reply_to if isinstance(reply_to, int) else None
        except MessageError as exc:
            raise ImportFailed(f"{path}: message {raw.get('id')!r}: {exc}") from exc
    if summary.copies_seen == 0 and not threads.parent_of:
        raise ImportFailed(f"{path}: the chat {export.chat.name!r} has no messages")
    threads.post_of = resolve_threads(threads.copy_to_post, threads.parent_of)
    return threads


async def _store_comments(
    conn: AsyncConnection,
    path: Path,
    export: TelegramExport,
    expert: Expert,
    channel: _Channel,
    threads: _Threads,
    summary: CommentImportSummary,
) -> None:
    """Pass 2: store each comment whose chain leads to a matched post."""
    writer = _CommentWriter(conn, expert, summary)
    stored = SeenIds()
    for raw in export.messages():
        message_id = raw["id"]
        if not stored.add(message_id):  # a later copy, skipped in pass 1 too
            continue
        if raw.get("type") != "message" or message_id in threads.copy_to_post:
            continue
        summary.comments_seen += 1
        target = threads.post_of.get(message_id)
        if target is None:
            summary.not_under_a_post += 1
            continue
        if target == UNMATCHED:
            summary.under_unmatched_copy += 1
            continue
        try:
            message = parse_message(raw)
        except MessageError as exc:
            raise ImportFailed(f"{path}: message {message_id}: {exc}") from exc
        reply_to = threads.parent_of.get(message_id)
        parent = reply_to if reply_to in threads.parent_of else None
        is_author = channel.key is not None and message.author_id == channel.key
        summary.author_comments += int(is_author)
        row: dict[str, Any] = {
            "expert_id": expert.id,
            "post_telegram_message_id": target,
            "telegram_message_id": message_id,
            "parent_comment_id": parent,
            "date": message.date,
            "edited_at": message.edited_at,
            "text": message.text,
            "author_name": message.author_name,
            "author_id": message.author_id,
            "is_channel_author": int(is_author),
            "media": json_or_none(message.media),
        }
        writer.add(row)
        if len(writer.batch) >= BATCH:
            await writer.flush()
    await writer.flush()


async def _record(
    conn: AsyncConnection,
    path: Path,
    expert: Expert,
    group: ChatInfo,
    started: str,
    summary: CommentImportSummary,
) -> None:
    """The expert takes its comments from this group from now on; the run is logged."""
    await conn.execute(
        update(experts)
        .where(experts.c.id == expert.id)
        .values(discussion_chat_id=group.id, discussion_chat_name=group.name, updated_at=now_iso())
    )
    await record_run(conn, expert.id, "comments", path, started, summary.as_dict())


class _CommentWriter:
    def __init__(self, conn: AsyncConnection, expert: Expert, summary: CommentImportSummary):
        self.rows = HashedRows(conn, comments, COMMENT_COLUMNS, COMMENT_FIELDS, expert.id)
        self.summary = summary
        self.batch: list[tuple[Any, ...]] = []
        self.stamp = now_iso()

    def add(self, row: dict[str, Any]) -> None:
        row["content_hash"] = content_hash(row, COMMENT_FIELDS)
        row["imported_at"] = row["updated_at"] = self.stamp
        self.batch.append(tuple(row[name] for name in COMMENT_COLUMNS))

    async def flush(self) -> None:
        rows, self.batch = self.batch, []
        stored = await self.rows.upsert(rows)
        self.summary.comments_added += stored.added
        self.summary.comments_updated += len(stored.updated_ids)
        self.summary.comments_unchanged += stored.unchanged
