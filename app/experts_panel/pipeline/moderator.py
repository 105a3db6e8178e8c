"""After the experts, the moderator: one synthesis across their answers, where they agree,
where they differ and why, each point citing `[post:EXPERT_ID/ID]`.

It runs when the request asks for it (`moderator`) and at least `MIN_ANSWERS` experts answered
from their posts: an expert that failed, or that found nothing on the question (its answer
cites no post), gives the moderator nothing to compare. Below that it is a no-op: no event,
and `moderator` is null in the response.

It reads only the experts' answers, never their posts, so it may cite only posts an answer
drew on (`drawn_on`); `qualified_only` removes every other citation. Its model failing costs
the synthesis alone, with a notice saying why: the experts' answers are already the reader's.
So does its running out of time: it gets what is left of the query's `REQUEST_TIMEOUT` less a
margin (`time_left_s`), so that a slow provider never times out the query it ends.
"""

from __future__ import annotations

import asyncio
import time

from experts_panel.logs import get_logger
from experts_panel.pipeline.call_phase import current_phase
from experts_panel.pipeline.citations import cited_ids
from experts_panel.pipeline.contract import ExpertResponse, ModeratorOut, UsageOut
from experts_panel.pipeline.model import Model, ModelError, Usage
from experts_panel.pipeline.qualified_citations import qualified_only, qualify
from experts_panel.pipeline.texts import text
from experts_panel.pipeline.types import ExpertAnswer

log = get_logger(__name__)

MIN_ANSWERS = 2
# Seconds of the query's time kept back when the moderator starts: for the response itself.
MARGIN_S = 2.0
# The phase model calls are counted under in the metrics (`call_phase`).
PHASE = "moderator"


def answered(responses: list[ExpertResponse]) -> list[ExpertResponse]:
    """The answers worth comparing: written from at least one of the expert's posts."""
    return [r for r in responses if r.answer.strip() and drawn_on(r)]


def drawn_on(response: ExpertResponse) -> set[int]:
    """The posts an expert's answer drew on: its sources and whatever it cites."""
    return set(response.main_sources) | set(cited_ids(response.answer))


async def moderate(
    model: Model,
    question: str,
    language: str,
    responses: list[ExpertResponse],
    usage: Usage,
    time_left_s: float,
) -> ModeratorOut | None:
    """The synthesis across `responses` (in the request's order), or None when fewer than
    `MIN_ANSWERS` answered. What its model spends is added to `usage` as well; it may take
    `time_left_s` less `MARGIN_S`."""
    chosen = answered(responses)
    if len(chosen) < MIN_ANSWERS:
        return None
    started = time.perf_counter()
    answers = [
        ExpertAnswer(
            expert_id=r.expert_id,
            expert_name=r.expert_name,
            text=qualify(r.answer, r.expert_id),
            sources=sorted(drawn_on(r)),
        )
        for r in chosen
    ]
    allowed = {r.expert_id: drawn_on(r) for r in chosen}
    spent = Usage()
    notices: list[str] = []
    synthesis: str | None = None
    phase = current_phase.set(PHASE)
    try:
        async with asyncio.timeout(max(0.0, time_left_s - MARGIN_S)):
            written = await model.moderate(question, language, answers, spent)
        synthesis = qualified_only(written, allowed).strip() or None
        if synthesis is None:
            notices.append(_failed(language, "bad_answer"))
    except ModelError as exc:
        log.warning("moderator failed, the answers stand", error=str(exc), kind=exc.kind)
        notices.append(_failed(language, exc.kind))
    except TimeoutError:
        log.warning("moderator ran out of the query's time, the answers stand")
        notices.append(_failed(language, "unavailable"))
    except Exception as exc:  # the experts' answers must reach the reader whatever happens here
        log.warning("moderator failed, the answers stand", error=str(exc), exc_info=True)
        notices.append(_failed(language, "bad_answer"))
    finally:
        current_phase.reset(phase)
    usage.add(spent)
    return ModeratorOut(
        synthesis=synthesis,
        experts=[r.expert_id for r in chosen],
        model=model.name,
        processing_time_ms=int((time.perf_counter() - started) * 1000),
        usage=UsageOut(
            model_calls=spent.model_calls,
            prompt_tokens=spent.prompt_tokens,
            completion_tokens=spent.completion_tokens,
        ),
        notices=notices,
    )


def _failed(language: str, kind: str) -> str:
    return text(language, "moderator_failed", reason=text(language, f"model_{kind}"))
