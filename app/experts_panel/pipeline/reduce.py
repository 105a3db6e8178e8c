"""Phase 4, reduce: the answer in the expert's voice, current view first, citing [post:ID].

The posts go to the model by role, HIGH, then MEDIUM, then the linked context posts, and
newest first within each, at most `MAX_POSTS`: when there are too many, context goes first,
never a post that answers the question. Citations are made canonical and those of posts that
were not given are removed; cited posts missing from `main_sources` are added to it.
"""

from __future__ import annotations

from experts_panel.pipeline.citations import reconcile
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import Answer, RankedPost

MAX_POSTS = 50
_ROLE_ORDER = {"HIGH": 0, "MEDIUM": 1, "CONTEXT": 2}


def order(posts: list[RankedPost]) -> list[RankedPost]:
    """HIGH, then MEDIUM, then CONTEXT, newest first within each; the first `MAX_POSTS`."""
    ranked = sorted(posts, key=lambda r: r.post.date, reverse=True)
    ranked.sort(key=lambda r: _ROLE_ORDER[r.role])  # stable: newest first within a role
    return ranked[:MAX_POSTS]


def rank(run: ExpertRun) -> list[RankedPost]:
    ranked = [RankedPost(run.posts[i], "HIGH") for i in run.ids("HIGH")]
    ranked += [RankedPost(run.posts[i], "MEDIUM") for i in run.complement]
    ranked += [RankedPost(post, "CONTEXT") for post in run.context.values()]
    return order(ranked)


async def run(run: ExpertRun) -> None:
    run.ranked = rank(run)
    if not any(r.role == "HIGH" for r in run.ranked) and not run.complement:
        run.answer = Answer(text(run.language, "no_posts"), [], "LOW", run.language)
        return
    answer = await run.model.reduce(
        run.question, run.language, run.expert.display_name, run.ranked, run.usage
    )
    known = {r.post.telegram_message_id for r in run.ranked}
    answer.text, answer.main_sources = reconcile(answer.text, answer.main_sources, known)
    run.answer = answer
    await run.progress(
        "reduce",
        f"answer written from {len(run.ranked)} posts, {len(answer.main_sources)} cited",
        main_sources=answer.main_sources,
        confidence=answer.confidence,
    )
