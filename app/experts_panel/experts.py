"""Experts: the channels the panel answers from, and every query that manages them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import comments, experts, posts

SLUG = re.compile(r"^[a-z0-9_-]{1,64}$")
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


class ExpertError(ValueError):
    """A request about an expert cannot be carried out; the message says why."""


def check_slug(expert_id: str) -> str:
    if not SLUG.match(expert_id):
        raise ExpertError(
            f"expert id {expert_id!r} is not a slug: use 1-64 of a-z, 0-9, '_' and '-'"
        )
    return expert_id


def check_username(username: str) -> str:
    name = username.removeprefix("@")
    if not USERNAME.match(name):
        raise ExpertError(
            f"channel username {username!r} is not a Telegram username "
            "(5-32 letters, digits and '_', starting with a letter)"
        )
    return name


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Expert:
    id: str
    display_name: str
    channel_username: str | None
    channel_id: int | None
    chat_type: str | None
    discussion_chat_id: int | None


@dataclass(frozen=True)
class ExpertStats:
    expert: Expert
    post_count: int
    comment_count: int
    first_post_at: str | None
    last_post_at: str | None


def _expert(row: object) -> Expert:
    m = row._mapping  # type: ignore[attr-defined]
    return Expert(
        id=m["id"],
        display_name=m["display_name"],
        channel_username=m["channel_username"],
        channel_id=m["channel_id"],
        chat_type=m["chat_type"],
        discussion_chat_id=m["discussion_chat_id"],
    )


async def get_expert(conn: AsyncConnection, expert_id: str) -> Expert | None:
    row = (await conn.execute(select(experts).where(experts.c.id == expert_id))).first()
    return _expert(row) if row else None


async def create_expert(
    conn: AsyncConnection,
    expert_id: str,
    display_name: str,
    channel_username: str | None = None,
    channel_id: int | None = None,
    chat_type: str | None = None,
) -> Expert:
    check_slug(expert_id)
    stamp = now_iso()
    await conn.execute(
        experts.insert().values(
            id=expert_id,
            display_name=display_name,
            channel_username=channel_username,
            channel_id=channel_id,
            chat_type=chat_type,
            created_at=stamp,
            updated_at=stamp,
        )
    )
    created = await get_expert(conn, expert_id)
    assert created is not None
    return created


async def all_experts(conn: AsyncConnection) -> list[Expert]:
    """Every expert, without the counts: what a query needs, cheap at any archive size."""
    rows = (await conn.execute(select(experts).order_by(experts.c.id))).all()
    return [_expert(row) for row in rows]


async def list_experts(conn: AsyncConnection) -> list[ExpertStats]:
    post_stats = (
        select(
            posts.c.expert_id,
            func.count().label("post_count"),
            func.min(posts.c.date).label("first_post_at"),
            func.max(posts.c.date).label("last_post_at"),
        )
        .group_by(posts.c.expert_id)
        .subquery()
    )
    comment_stats = (
        select(comments.c.expert_id, func.count().label("comment_count"))
        .group_by(comments.c.expert_id)
        .subquery()
    )
    query = (
        select(
            experts,
            func.coalesce(post_stats.c.post_count, 0).label("post_count"),
            func.coalesce(comment_stats.c.comment_count, 0).label("comment_count"),
            post_stats.c.first_post_at,
            post_stats.c.last_post_at,
        )
        .outerjoin(post_stats, post_stats.c.expert_id == experts.c.id)
        .outerjoin(comment_stats, comment_stats.c.expert_id == experts.c.id)
        .order_by(experts.c.id)
    )
    rows = (await conn.execute(query)).all()
    return [
        ExpertStats(
            expert=_expert(row),
            post_count=row.post_count,
            comment_count=row.comment_count,
            first_post_at=row.first_post_at,
            last_post_at=row.last_post_at,
        )
        for row in rows
    ]


async def rename_expert(conn: AsyncConnection, expert_id: str, display_name: str) -> Expert:
    if not display_name.strip():
        raise ExpertError("the new display name is empty")
    result = await conn.execute(
        experts.update()
        .where(experts.c.id == expert_id)
        .values(display_name=display_name.strip(), updated_at=now_iso())
    )
    if result.rowcount == 0:
        raise ExpertError(f"no expert {expert_id!r}")
    renamed = await get_expert(conn, expert_id)
    assert renamed is not None
    return renamed


async def set_username(conn: AsyncConnection, expert_id: str, username: str) -> None:
    await conn.execute(
        experts.update()
        .where(experts.c.id == expert_id)
        .values(channel_username=check_username(username), updated_at=now_iso())
    )


async def remove_expert(conn: AsyncConnection, expert_id: str) -> int:
    """Remove the expert and, through the foreign keys' cascades, every row it owns.

    Returns how many posts went with it.
    """
    count = await conn.scalar(
        select(func.count()).select_from(posts).where(posts.c.expert_id == expert_id)
    )
    result = await conn.execute(experts.delete().where(experts.c.id == expert_id))
    if result.rowcount == 0:
        raise ExpertError(f"no expert {expert_id!r}")
    return int(count or 0)
