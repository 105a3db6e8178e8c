"""Phase 7, comment synthesis: what the comments add that the answer lacks.

Four sections, in this order: the author's clarifications under the answer's sources, the
community under those sources, the author in other discussions (the drifted ones chosen in
phase 6), the community there; titles are in the question's language. A failure leaves the
answer without a synthesis and says so.
"""

from __future__ import annotations

from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import ModelError
from experts_panel.pipeline.types import CommentGroup, CommentItem, CommentSections


def sections(groups: list[CommentGroup], sources: list[int]) -> CommentSections:
    """The groups' comments split by where they are (under a source or elsewhere) and who
    wrote them (the channel's author or not)."""
    on: set[int] = set(sources)

    def pick(under_sources: bool, author: bool) -> list[CommentItem]:
        return [
            c
            for g in groups
            if (g.post_telegram_message_id in on and g.kind != "drift") == under_sources
            for c in g.comments
            if c.is_channel_author == author
        ]

    return CommentSections(
        pick(True, True), pick(True, False), pick(False, True), pick(False, False)
    )


async def run(run: ExpertRun) -> None:
    if run.answer is None or not run.groups:
        return
    comments = sections(run.groups, run.answer.main_sources)
    try:
        run.synthesis = await run.model.synthesize_comments(
            run.question, run.language, run.answer.text, comments, run.usage
        )
    except ModelError as exc:
        run.model_failed("synthesis_failed", exc)
        return
    await run.progress(
        "comment_synthesis",
        "comment insights written" if run.synthesis else "the comments add nothing new",
    )
