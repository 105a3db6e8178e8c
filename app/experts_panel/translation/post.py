"""A post, and on request its comments, in the reader's language."""

from __future__ import annotations

import asyncio

from experts_panel.posts import PostCommentOut, PostOut, ReaderLanguage
from experts_panel.translation.translator import Translator

# Comments translated at once for one post: a long discussion must not take every slot of
# MAX_CONCURRENT_MODEL_CALLS from the queries.
COMMENTS_AT_ONCE = 4


async def in_language(
    translator: Translator, post: PostOut, language: ReaderLanguage, with_comments: bool
) -> PostOut:
    done = await translator.translate(
        post.expert_id, "post", post.telegram_message_id, post.text, language
    )
    comments = post.comments
    if with_comments:
        slots = asyncio.Semaphore(COMMENTS_AT_ONCE)

        async def one(comment: PostCommentOut) -> PostCommentOut:
            async with slots:
                got = await translator.translate(
                    post.expert_id, "comment", comment.telegram_message_id, comment.text, language
                )
            return comment.model_copy(update={"text": got.text, "translation": got.about})

        comments = list(await asyncio.gather(*(one(c) for c in post.comments)))
    return post.model_copy(
        update={"text": done.text, "translation": done.about, "comments": comments}
    )
