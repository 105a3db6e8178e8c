"""Phase 3, resolve: follow links one step from the HIGH posts, within the expert.

Replies and mentions in both directions bring in the posts a HIGH post answers, continues or
is answered by, as context. No model call. With `recent_months`, a linked post older than the
window stays out: the reader asked for what the expert says now, and an old post the answer
leans on as context would bring the old view back in.
"""

from __future__ import annotations

from experts_panel.db.database import fetch_all
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.types import Post


async def run(run: ExpertRun) -> None:
    high = run.ids("HIGH")
    if not high:
        return
    marks = ", ".join("?" for _ in high)
    async with run.database.read() as conn:
        linked = await fetch_all(
            conn,
            "SELECT target_message_id FROM links "
            f"WHERE expert_id = ? AND source_message_id IN ({marks}) "
            "UNION SELECT source_message_id FROM links "
            f"WHERE expert_id = ? AND target_message_id IN ({marks})",
            (run.expert.id, *high, run.expert.id, *high),
        )
        taken = set(high) | set(run.complement)
        wanted = sorted({row[0] for row in linked} - taken)
        if not wanted:
            return
        marks = ", ".join("?" for _ in wanted)
        window = "" if run.since is None else " AND date >= ?"
        rows = await fetch_all(
            conn,
            f"SELECT id, telegram_message_id, date, text FROM posts "
            f"WHERE expert_id = ? AND telegram_message_id IN ({marks}){window}",
            (run.expert.id, *wanted, *(() if run.since is None else (run.since,))),
        )
    run.context = {row[1]: Post(run.expert.id, row[0], row[1], row[2], row[3]) for row in rows}
    await run.progress(
        "resolve", f"{len(run.context)} linked posts added as context", linked=sorted(run.context)
    )
