"""Import a channel's (or group's) Telegram export as an expert's posts and links.

One import is one transaction: a file that fails half-way leaves the database as it was.
Re-importing the same or a newer export updates what changed and duplicates nothing.
Parsing runs in a second process (`parse_worker`) while this one stores its batches.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import posts
from experts_panel.experts import (
    Expert,
    check_slug,
    check_username,
    create_expert,
    get_expert,
    now_iso,
    set_username,
)
from experts_panel.importing.parse_worker import ParseFailed, WorkerReport, parse_in_worker
from experts_panel.importing.rows import (
    ID_INDEX,
    POST_COLUMNS,
    POST_FIELDS,
    ChannelIdentity,
    LinkCandidate,
)
from experts_panel.importing.source import (
    ImportFailed,
    ProgressCallback,
    note_duplicates,
    open_export,
)
from experts_panel.importing.store import HashedRows, record_run, replace_links
from experts_panel.telegram.export import ChatInfo


@dataclass
class PostImportSummary:
    expert_id: str
    expert_created: bool
    chat: ChatInfo
    source: str
    messages_seen: int = 0
    posts_added: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0  # messages skipped because their id came earlier in the file
    duplicate_ids: list[int] = field(default_factory=list)  # the first few such ids
    reply_links: int = 0
    mention_links: int = 0
    dangling_references: int = 0
    external_mentions: int = 0
    duration_s: float = 0.0
    parser_peak_rss_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "expert_id": self.expert_id,
            "expert_created": self.expert_created,
            "chat": {"name": self.chat.name, "type": self.chat.type, "id": self.chat.id},
            "source": self.source,
            "messages_seen": self.messages_seen,
            "posts_added": self.posts_added,
            "posts_updated": self.posts_updated,
            "posts_unchanged": self.posts_unchanged,
            "skipped": dict(self.skipped),
            "duplicates": self.duplicates,
            "duplicate_ids": self.duplicate_ids,
            "reply_links": self.reply_links,
            "mention_links": self.mention_links,
            "dangling_references": self.dangling_references,
            "external_mentions": self.external_mentions,
            "duration_s": round(self.duration_s, 3),
            "parser_peak_rss_bytes": self.parser_peak_rss_bytes,
        }


async def _resolve_expert(
    conn: AsyncConnection,
    expert_id: str,
    chat: ChatInfo,
    username: str | None,
    path: Path,
) -> tuple[Expert, bool]:
    expert = await get_expert(conn, expert_id)
    if expert is None:
        created = await create_expert(
            conn,
            expert_id,
            display_name=chat.name or expert_id,
            channel_username=username,
            channel_id=chat.id,
            chat_type=chat.type,
        )
        return created, True
    if expert.channel_id is not None and chat.id is not None and expert.channel_id != chat.id:
        raise ImportFailed(
            f"{path}: expert {expert_id!r} holds chat {expert.channel_id}; this export is of "
            f"chat {chat.id} ({chat.name}). Use another --expert id."
        )
    if username is not None and username != expert.channel_username:
        await set_username(conn, expert_id, username)
    refreshed = await get_expert(conn, expert_id)
    assert refreshed is not None
    return refreshed, False


class _PostStore:
    """Stores parsed batches, counting what was added, changed or already there."""

    def __init__(self, conn: AsyncConnection, expert: Expert, summary: PostImportSummary) -> None:
        self.conn = conn
        self.expert = expert
        self.summary = summary
        self.fresh_expert = summary.expert_created
        self.link_candidates: list[LinkCandidate] = []
        self.changed_ids: list[int] = []
        self.stored_ids: set[int] = set()
        # A new expert has nothing to compare with.
        self.rows = HashedRows(conn, posts, POST_COLUMNS, POST_FIELDS, expert.id, self.fresh_expert)

    async def store(self, rows: list[tuple[Any, ...]]) -> None:
        # The parser sends each id once: later copies in the file are skipped and counted.
        self.stored_ids.update(row[ID_INDEX] for row in rows)
        stored = await self.rows.upsert(rows)
        self.summary.posts_added += stored.added
        self.summary.posts_updated += len(stored.updated_ids)
        self.summary.posts_unchanged += stored.unchanged
        self.changed_ids.extend(stored.updated_ids)

    async def write_links(self) -> None:
        # A link needs both posts. The expert's post ids (a few bytes each, not their text)
        # say which targets exist: those of this file and those of earlier imports.
        known = self.stored_ids
        if not self.fresh_expert:
            known = known | set(
                (
                    await self.conn.scalars(
                        select(posts.c.telegram_message_id).where(
                            posts.c.expert_id == self.expert.id
                        )
                    )
                ).all()
            )
        stored = await replace_links(
            self.conn, self.expert.id, self.changed_ids, self.link_candidates, known
        )
        self.summary.reply_links += stored.reply
        self.summary.mention_links += stored.mention
        self.summary.dangling_references += stored.dangling


async def import_posts(
    conn: AsyncConnection,
    path: Path,
    expert_id: str,
    username: str | None = None,
    chat: str | None = None,
    on_read: ProgressCallback | None = None,
) -> PostImportSummary:
    """Import one export into `expert_id` on `conn`, inside the caller's transaction."""
    check_slug(expert_id)
    if username is not None:
        username = check_username(username)
    # A big import writes fastest with a bigger page cache than a server connection keeps.
    await conn.exec_driver_sql("PRAGMA cache_size = -32768")
    started = now_iso()
    clock = time.perf_counter()
    export = open_export(path, chat)
    expert, created = await _resolve_expert(conn, expert_id, export.chat, username, path)
    summary = PostImportSummary(expert.id, created, export.chat, path.name)
    store = _PostStore(conn, expert, summary)
    channel = ChannelIdentity(expert.id, expert.channel_username, expert.channel_id, started)
    worker = WorkerReport()
    try:
        async for batch in parse_in_worker(path, chat, channel, worker):
            summary.messages_seen += batch.messages_seen
            summary.skipped.update(batch.skipped)
            note_duplicates(summary.duplicate_ids, batch.duplicate_ids)
            summary.duplicates += len(batch.duplicate_ids)
            summary.external_mentions += batch.external_mentions
            store.link_candidates.extend(batch.links)
            await store.store(batch.rows)
            if on_read is not None:
                on_read(batch.bytes_read)
    except ParseFailed as exc:
        raise ImportFailed(str(exc)) from exc
    if summary.messages_seen == 0:
        raise ImportFailed(f"{path}: the chat {export.chat.name!r} has no messages")
    await store.write_links()
    summary.parser_peak_rss_bytes = worker.peak_rss_bytes
    summary.duration_s = time.perf_counter() - clock
    await record_run(conn, expert.id, "posts", path, started, summary.as_dict())
    return summary
