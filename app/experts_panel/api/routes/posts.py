"""`GET /api/v1/posts/{id}?expert_id=`: one post, named by its expert and Telegram id; with
`language`, in that language (translated, from the cache or the model, or the original with the
reason), and with `translate_comments` its comments too."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.exceptions import RequestValidationError

from experts_panel.api.deps import DatabaseDep, ModelsDep, ServicesDep
from experts_panel.api.models import ErrorOut
from experts_panel.experts import SLUG, get_expert
from experts_panel.posts import PostOut, ReaderLanguage, get_post
from experts_panel.translation.post import in_language
from experts_panel.translation.translator import Translator

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
    services: ServicesDep,
    models: ModelsDep,
    language: Annotated[
        ReaderLanguage | None,
        Query(
            description="The language to read the post in; absent: the original. `translation` "
            "in the answer says whether `text` is a translation, and if not, why."
        ),
    ] = None,
    translate_comments: Annotated[
        bool,
        Query(description="Translate the comments too (one model call each); needs `language`."),
    ] = False,
) -> PostOut:
    if translate_comments and language is None:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "translate_comments"),
                    "msg": "needs `language`: the language to translate the comments into",
                    "input": translate_comments,
                }
            ]
        )
    async with database.read() as conn:
        expert = await get_expert(conn, expert_id)
        if expert is None:
            raise HTTPException(404, f"no expert {expert_id!r}")
        found = await get_post(conn, expert, telegram_message_id)
    if found is None:
        raise HTTPException(404, f"expert {expert_id!r} has no post {telegram_message_id}")
    if language is None:
        return found
    settings = services.settings
    translator = Translator(
        database=database,
        model=models.translation_model(),
        model_name=settings.MODEL_TRANSLATION,
        ledger=services.usage,
        daily_budget=settings.DAILY_TOKEN_BUDGET,
        deadline=asyncio.get_running_loop().time() + settings.TRANSLATION_TIMEOUT,
    )
    return await in_language(translator, found, language, translate_comments)
