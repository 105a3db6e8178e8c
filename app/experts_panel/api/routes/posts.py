"""`GET /api/v1/posts/{id}?expert_id=`: one post, named by its expert and Telegram id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from experts_panel.api.deps import DatabaseDep
from experts_panel.api.models import ErrorOut
from experts_panel.experts import SLUG, get_expert
from experts_panel.posts import PostOut, get_post

router = APIRouter()

# The largest integer SQLite stores; a larger id cannot name a post, and cannot even be asked for.
MAX_MESSAGE_ID = 2**63 - 1


@router.get(
    "/api/v1/posts/{telegram_message_id}",
    response_model=PostOut,
    responses={404: {"model": ErrorOut}},
)
async def post(
    database: DatabaseDep,
    telegram_message_id: Annotated[
        int, Path(ge=1, le=MAX_MESSAGE_ID, description="The Telegram message id.")
    ],
    expert_id: Annotated[
        str, Query(pattern=SLUG.pattern, description="The expert the post belongs to.")
    ],
) -> PostOut:
    async with database.read() as conn:
        expert = await get_expert(conn, expert_id)
        if expert is None:
            raise HTTPException(404, f"no expert {expert_id!r}")
        found = await get_post(conn, expert, telegram_message_id)
    if found is None:
        raise HTTPException(404, f"expert {expert_id!r} has no post {telegram_message_id}")
    return found
