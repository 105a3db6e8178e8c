"""Phase 7, comment synthesis: what the comments add that the answer lacks.

The author's comments come first, then the community's; section titles are in the
question's language. A failure leaves the answer without a synthesis and says so.
"""

from __future__ import annotations

from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError


async def run(run: ExpertRun) -> None:
    if run.answer is None or not run.groups:
        return
    author = [c for g in run.groups if g.kind == "author" for c in g.comments]
    community = [c for g in run.groups if g.kind != "author" for c in g.comments]
    try:
        run.synthesis = await run.model.synthesize_comments(
            run.question, run.language, run.answer.text, author, community, run.usage
        )
    except ModelError as exc:
        run.model_failed("synthesis_failed", exc)
        return
    await run.progress(
        "comment_synthesis",
        "comment insights written" if run.synthesis else "the comments add nothing new",
    )
