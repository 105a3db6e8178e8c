"""Phase 2, medium scoring: keep the MEDIUM posts that best complement the HIGH ones.

At most `MEDIUM_CAP` are scored, 0 to 1; those at `KEEP_SCORE` or above are kept, the best
`KEEP_AT_MOST`. A failure here costs the extra posts, not the expert's answer.
"""

from __future__ import annotations

from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError

MEDIUM_CAP = 20
KEEP_SCORE = 0.7
KEEP_AT_MOST = 5


async def run(run: ExpertRun) -> None:
    medium = [run.posts[i] for i in run.ids("MEDIUM")][:MEDIUM_CAP]
    if not medium:
        return
    high = [run.posts[i] for i in run.ids("HIGH")]
    try:
        scores = await run.model.score_complement(run.question, high, medium, run.usage)
    except ModelError as exc:
        run.model_failed("medium_failed", exc)
        return
    shown = {p.telegram_message_id for p in medium}
    kept = sorted((score, i) for i, score in scores.items() if i in shown and score >= KEEP_SCORE)
    run.complement = [i for _, i in sorted(kept, reverse=True)[:KEEP_AT_MOST]]
    await run.progress(
        "medium_scoring",
        f"{len(run.complement)} of {len(medium)} partly relevant posts kept",
        kept=run.complement,
    )
