"""Phase 8, assembly: one response per expert, with sources, timings, counts and usage.

Every field a model wrote passes `cited_only` here, the one place they all go through on
their way to the reader: whatever phase wrote it, it cites only posts of this expert, and
never in the moderator's form that names an expert (`without_qualified`).
"""

from __future__ import annotations

from experts_panel.pipeline.citations import cited_only
from experts_panel.pipeline.contract import (
    CommentGroupOut,
    CommentOut,
    ExpertResponse,
    UsageOut,
)
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.qualified_citations import without_qualified
from experts_panel.pipeline.texts import text


def assemble(run: ExpertRun, elapsed_ms: int) -> ExpertResponse:
    answer = run.answer
    shown = run.shown_posts()
    groups = [
        CommentGroupOut(
            post_telegram_message_id=g.post_telegram_message_id,
            kind=g.kind,
            comments=[
                CommentOut(
                    telegram_message_id=c.telegram_message_id,
                    author_name=c.author_name,
                    text=c.text,
                    date=c.date,
                    is_channel_author=c.is_channel_author,
                )
                for c in g.comments
            ],
            topics=g.topics,
        )
        for g in run.groups
    ]
    return ExpertResponse(
        expert_id=run.expert.id,
        expert_name=run.expert.display_name,
        channel_username=run.expert.channel_username,
        answer=_own(answer.text, shown) if answer else text(run.language, "no_posts"),
        main_sources=answer.main_sources if answer else [],
        confidence=answer.confidence if answer else "LOW",
        posts_analyzed=len(run.posts),
        processing_time_ms=elapsed_ms,
        relevant_comment_groups=groups if run.request.include_comment_groups else [],
        comment_groups_synthesis=_own(run.synthesis, shown)
        if run.synthesis is not None and run.request.include_comments
        else None,
        language=answer.language if answer else run.language,
        usage=UsageOut(
            model_calls=run.usage.model_calls,
            prompt_tokens=run.usage.prompt_tokens,
            completion_tokens=run.usage.completion_tokens,
        ),
        notices=list(dict.fromkeys(run.notices)),
    )


def _own(written: str, shown: set[int]) -> str:
    return cited_only(without_qualified(written), shown)
