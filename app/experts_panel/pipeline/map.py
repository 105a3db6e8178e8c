"""Phase 1, map: label the expert's candidate posts HIGH, MEDIUM or LOW for the question.

Retrieval picks the candidates (`MAP_CANDIDATES`, or the request's `max_posts`), so the
model reads tens of posts, not the whole archive; with `recent_months`, from the window's
posts only (`recency.py`), so no later phase starts from an older one. They go to the model
in chunks of `CHUNK_SIZE`, several chunks at once; a failed chunk is tried once more; a
verdict about a post the model was not shown is dropped.
"""

from __future__ import annotations

import asyncio

from experts_panel.db.database import fetch_all
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError
from experts_panel.pipeline.types import Post, Verdict
from experts_panel.retrieval.hybrid import hybrid_search

PARALLEL_CHUNKS = 4
CHUNK_ATTEMPTS = 2


async def candidates(run: ExpertRun) -> list[Post]:
    depth = min(run.request.max_posts or run.settings.MAP_CANDIDATES, run.settings.MAX_POSTS_LIMIT)
    async with run.database.read() as conn:
        found = await hybrid_search(
            conn,
            run.expert.id,
            run.question,
            depth,
            run.embedder,
            run.cache,
            run.question_vector,
            run.since,
        )
        if not found:
            return []
        marks = ", ".join("?" for _ in found)
        rows = await fetch_all(
            conn,
            f"SELECT id, telegram_message_id, date, text FROM posts "
            f"WHERE expert_id = ? AND id IN ({marks})",
            (run.expert.id, *[c.post_id for c in found]),
        )
    by_id = {row[0]: row for row in rows}
    return [
        Post(
            run.expert.id,
            c.post_id,
            c.telegram_message_id,
            by_id[c.post_id][2],
            by_id[c.post_id][3],
            c,
        )
        for c in found
        if c.post_id in by_id
    ]


async def run(run: ExpertRun) -> None:
    posts = await candidates(run)
    run.posts = {p.telegram_message_id: p for p in posts}
    size = run.settings.CHUNK_SIZE
    chunks = [posts[i : i + size] for i in range(0, len(posts), size)]
    slots = asyncio.Semaphore(PARALLEL_CHUNKS)
    failures: list[ModelError] = []

    async def one(chunk: list[Post]) -> list[Verdict]:
        async with slots:
            for attempt in range(1, CHUNK_ATTEMPTS + 1):
                try:
                    return await run.model.map_chunk(run.question, run.language, chunk, run.usage)
                except ModelError as exc:
                    if attempt == CHUNK_ATTEMPTS:
                        failures.append(exc)
            return []

    # A task group, so that cancelling the expert stops every chunk before it returns.
    async with asyncio.TaskGroup() as group:
        running = [group.create_task(one(chunk)) for chunk in chunks]
    if chunks and len(failures) == len(chunks):
        last = failures[-1]
        raise ModelError(f"every map chunk failed: {last}", spent=None, kind=last.kind) from last
    if failures:
        run.model_failed("map_failed", failures[-1], failed=len(failures), chunks=len(chunks))
    for task in running:
        for verdict in task.result():
            if verdict.telegram_message_id in run.posts:  # only what was shown
                run.verdicts[verdict.telegram_message_id] = verdict
    await run.progress(
        "map",
        f"{len(run.ids('HIGH'))} highly relevant, {len(run.ids('MEDIUM'))} partly relevant "
        f"of {len(posts)} posts",
        high=len(run.ids("HIGH")),
        medium=len(run.ids("MEDIUM")),
        analyzed=len(posts),
    )
