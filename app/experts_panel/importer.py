"""Import a channel's (or group's) Telegram export as an expert's posts and links.

One import is one transaction: a file that fails half-way leaves the database as it was.
Re-importing the same or a newer export updates what changed and duplicates nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import import_runs, links, posts
from experts_panel.experts import (
    Expert,
    check_slug,
    check_username,
    create_expert,
    get_expert,
    now_iso,
    set_username,
)
from experts_panel.telegram.export import ChatInfo, ExportError, TelegramExport
from experts_panel.telegram.message import Message, MessageError, message_id_of, parse_message

BATCH = 500

# Columns an edit or a newer export may change; the hash over them says whether a row changed.
_POST_FIELDS = (
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


class ImportFailed(Exception):
    """An import failed; nothing was written. The message names the file and the message."""

ProgressCallback = Callable[[int], None]


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
    reply_links: int = 0
    mention_links: int = 0
    dangling_references: int = 0
    external_mentions: int = 0

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
            "reply_links": self.reply_links,
            "mention_links": self.mention_links,
            "dangling_references": self.dangling_references,
            "external_mentions": self.external_mentions,
        }


def content_hash(row: dict[str, Any], fields: tuple[str, ...]) -> str:
    payload = json.dumps([row[name] for name in fields], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _json_or_none(value: Any) -> str | None:
    return None if value in (None, [], {}) else json.dumps(value, ensure_ascii=False)


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


class _PostWriter:
    """Upserts posts in batches and remembers the links to add once every post is stored."""

    def __init__(self, conn: AsyncConnection, expert: Expert, summary: PostImportSummary) -> None:
        self.conn = conn
        self.expert = expert
        self.summary = summary
        self.batch: list[dict[str, Any]] = []
        self.link_candidates: list[tuple[int, int, str]] = []
        self.changed_ids: list[int] = []
        self.stamp = now_iso()

    def add(self, message: Message) -> None:
        internal: list[int] = []
        external: list[dict[str, object]] = []
        for ref in message.references:
            if ref.is_of(self.expert.channel_username, self.expert.channel_id):
                internal.append(ref.message_id)
            else:
                external.append(ref.as_metadata())
        own = (self.expert.channel_username or "").lower()
        external.extend(
            {"mention": m} for m in message.mentions if m.removeprefix("@").lower() != own
        )
        self.summary.external_mentions += len(external)
        row: dict[str, Any] = {
            "expert_id": self.expert.id,
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
            "media": _json_or_none(message.media),
            "external_mentions": _json_or_none(external),
            "reactions": _json_or_none(message.reactions),
        }
        row["content_hash"] = content_hash(row, _POST_FIELDS)
        row["imported_at"] = row["updated_at"] = self.stamp
        self.batch.append(row)
        if message.reply_to_message_id is not None and message.reply_to_message_id != message.id:
            self.link_candidates.append((message.id, message.reply_to_message_id, "reply"))
        for target in dict.fromkeys(internal):
            if target != message.id:
                self.link_candidates.append((message.id, target, "mention"))

    async def flush(self) -> None:
        if not self.batch:
            return
        # Within one file a later copy of an id wins, as it would on a second import.
        rows = list({row["telegram_message_id"]: row for row in self.batch}.values())
        self.batch = []
        ids = [row["telegram_message_id"] for row in rows]
        existing = dict(
            (
                await self.conn.execute(
                    select(posts.c.telegram_message_id, posts.c.content_hash).where(
                        posts.c.expert_id == self.expert.id,
                        posts.c.telegram_message_id.in_(ids),
                    )
                )
            ).all()
        )
        changed = []
        for row in rows:
            before = existing.get(row["telegram_message_id"])
            if before is None:
                self.summary.posts_added += 1
                changed.append(row)
            elif before != row["content_hash"]:
                self.summary.posts_updated += 1
                self.changed_ids.append(row["telegram_message_id"])
                changed.append(row)
            else:
                self.summary.posts_unchanged += 1
        if not changed:
            return
        statement = insert(posts)
        updates = {name: statement.excluded[name] for name in (*_POST_FIELDS, "content_hash")}
        updates["updated_at"] = statement.excluded.updated_at
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[posts.c.expert_id, posts.c.telegram_message_id], set_=updates
            ),
            changed,
        )

    async def write_links(self) -> None:
        # An edited post may have dropped a mention: its outgoing links are rebuilt.
        for start in range(0, len(self.changed_ids), BATCH):
            await self.conn.execute(
                delete(links).where(
                    links.c.expert_id == self.expert.id,
                    links.c.source_message_id.in_(self.changed_ids[start : start + BATCH]),
                )
            )
        statement = text(
            "INSERT OR IGNORE INTO links "
            "(expert_id, source_message_id, target_message_id, link_type) "
            "SELECT :expert_id, :source, :target, :kind WHERE EXISTS ("
            "SELECT 1 FROM posts WHERE expert_id = :expert_id AND telegram_message_id = :target)"
        ).bindparams(bindparam("expert_id"), bindparam("source"), bindparam("target"))
        candidates = list(dict.fromkeys(self.link_candidates))
        for start in range(0, len(candidates), BATCH):
            chunk = candidates[start : start + BATCH]
            await self.conn.execute(
                statement,
                [
                    {"expert_id": self.expert.id, "source": s, "target": t, "kind": k}
                    for s, t, k in chunk
                ],
            )
        present = {
            (row.source_message_id, row.target_message_id, row.link_type)
            for row in await self.conn.execute(
                select(links.c.source_message_id, links.c.target_message_id, links.c.link_type)
                .where(links.c.expert_id == self.expert.id)
            )
        }
        for candidate in candidates:
            if candidate in present:
                if candidate[2] == "reply":
                    self.summary.reply_links += 1
                else:
                    self.summary.mention_links += 1
            else:
                self.summary.dangling_references += 1


def open_export(path: Path, chat: str | None = None) -> TelegramExport:
    """Open an export and read its chat's identity; raises `ImportFailed` naming the file."""
    try:
        return TelegramExport(path, chat=chat)
    except ExportError as exc:
        raise ImportFailed(str(exc)) from exc


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
    started = now_iso()
    export = open_export(path, chat)
    expert, created = await _resolve_expert(conn, expert_id, export.chat, username, path)
    summary = PostImportSummary(expert.id, created, export.chat, path.name)
    writer = _PostWriter(conn, expert, summary)
    try:
        for raw in export.messages(on_read):
            summary.messages_seen += 1
            try:
                message_id_of(raw)
                kind = raw.get("type")
                if kind != "message":
                    summary.skipped[str(kind)] += 1
                    continue
                writer.add(parse_message(raw))
            except MessageError as exc:
                shown = raw.get("id", f"#{summary.messages_seen}")
                raise ImportFailed(f"{path}: message {shown}: {exc}") from exc
            if len(writer.batch) >= BATCH:
                await writer.flush()
        await writer.flush()
    except ExportError as exc:
        raise ImportFailed(str(exc)) from exc
    if summary.messages_seen == 0:
        raise ImportFailed(f"{path}: the chat {export.chat.name!r} has no messages")
    await writer.write_links()
    await conn.execute(
        import_runs.insert().values(
            expert_id=expert.id,
            kind="posts",
            source_name=path.name,
            started_at=started,
            finished_at=now_iso(),
            summary=json.dumps(summary.as_dict(), ensure_ascii=False),
        )
    )
    return summary
