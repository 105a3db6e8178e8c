"""`GET /api/v1/experts`: who is on the panel, with counts and date ranges."""

from __future__ import annotations

from fastapi import APIRouter

from experts_panel.api.deps import DatabaseDep
from experts_panel.api.models import ExpertOut
from experts_panel.experts import list_experts

router = APIRouter()


@router.get("/api/v1/experts", response_model=list[ExpertOut])
async def experts(database: DatabaseDep) -> list[ExpertOut]:
    async with database.read() as conn:
        stats = await list_experts(conn)
    return [
        ExpertOut(
            id=s.expert.id,
            name=s.expert.display_name,
            channel_username=s.expert.channel_username,
            channel_url=f"https://t.me/{s.expert.channel_username}"
            if s.expert.channel_username
            else None,
            chat_type=s.expert.chat_type,
            post_count=s.post_count,
            comment_count=s.comment_count,
            first_post_at=s.first_post_at,
            last_post_at=s.last_post_at,
        )
        for s in stats
    ]
