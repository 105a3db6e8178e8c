"""Phase 6, comment groups: what was said under the answer's sources, and drifted discussions.

Under each main source: the author's own comments and the community's. Beside them, the
discussions that drifted to another topic (`comment_group_drift`, filled by
`experts-panel analyze-drift`) under posts that are not main sources, when the model finds
their topics bear on the question.
"""

from __future__ import annotations

import json

from experts_panel.db.database import fetch_all
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError
from experts_panel.pipeline.types import CommentGroup, CommentItem

COMMENTS_PER_GROUP = 30
DRIFT_CANDIDATES = 30


def _comment(row: tuple[object, ...]) -> CommentItem:
    return CommentItem(
        telegram_message_id=int(row[0]),  # type: ignore[call-overload]
        post_telegram_message_id=int(row[1]),  # type: ignore[call-overload]
        author_name=row[2] if isinstance(row[2], str) else None,
        text=str(row[3]),
        date=str(row[4]),
        is_channel_author=bool(row[5]),
    )


async def comments_under(run: ExpertRun, post_ids: list[int]) -> list[CommentItem]:
    if not post_ids:
        return []
    marks = ", ".join("?" for _ in post_ids)
    async with run.database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT telegram_message_id, post_telegram_message_id, author_name, text, date, "
            f"is_channel_author FROM comments WHERE expert_id = ? "
            f"AND post_telegram_message_id IN ({marks}) ORDER BY date, telegram_message_id",
            (run.expert.id, *post_ids),
        )
    return [_comment(row) for row in rows]


async def run(run: ExpertRun) -> None:
    sources = run.answer.main_sources if run.answer else []
    comments = await comments_under(run, sources)
    for post_id in sources:
        under = [c for c in comments if c.post_telegram_message_id == post_id]
        for kind, chosen in (
            ("author", [c for c in under if c.is_channel_author]),
            ("community", [c for c in under if not c.is_channel_author]),
        ):
            if chosen:
                run.groups.append(CommentGroup(post_id, kind, chosen[:COMMENTS_PER_GROUP]))  # type: ignore[arg-type]
    if run.request.include_comment_groups:
        await _drift_groups(run, set(sources))
    await run.progress(
        "comment_groups",
        f"{len(run.groups)} comment groups",
        groups=[{"post": g.post_telegram_message_id, "kind": g.kind} for g in run.groups],
    )


async def _drift_groups(run: ExpertRun, sources: set[int]) -> None:
    # With `recent_months`, only discussions under posts in the window: the comment phases
    # see the comments of the query's candidate posts, no others.
    window = "" if run.since is None else "AND p.date >= ? "
    async with run.database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT d.post_telegram_message_id, d.drift_topics FROM comment_group_drift d "
            "JOIN posts p ON p.expert_id = d.expert_id "
            "AND p.telegram_message_id = d.post_telegram_message_id "
            f"WHERE d.expert_id = ? AND d.has_drift = 1 {window}ORDER BY d.analyzed_at DESC",
            (run.expert.id, *(() if run.since is None else (run.since,))),
        )
    candidates = [
        CommentGroup(int(row[0]), "drift", [], json.loads(str(row[1])))
        for row in rows
        if int(row[0]) not in sources
    ][:DRIFT_CANDIDATES]
    if not candidates:
        return
    try:
        chosen = set(await run.model.select_drift_groups(run.question, candidates, run.usage))
    except ModelError as exc:
        run.model_failed("drift_failed", exc)
        return
    picked = [g for g in candidates if g.post_telegram_message_id in chosen]
    comments = await comments_under(run, [g.post_telegram_message_id for g in picked])
    for group in picked:
        group.comments = [
            c for c in comments if c.post_telegram_message_id == group.post_telegram_message_id
        ][:COMMENTS_PER_GROUP]
        run.groups.append(group)
