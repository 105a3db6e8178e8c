"""Running a query: experts side by side, each through the phases, progress as events.

The phases are registered here, in order, and nowhere else. Each expert runs on its own;
one that fails gives an `expert_error` event and the others go on. The whole query is
bounded by `REQUEST_TIMEOUT`, and cancelling it (a client that went away) cancels every
expert's work, model calls included: the experts run in a task group, so none outlives it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from experts_panel.db.database import Database
from experts_panel.expert_catalog import ExpertCatalog
from experts_panel.experts import Expert
from experts_panel.language import detect_language
from experts_panel.logs import get_logger
from experts_panel.pipeline import (
    budget,
    comment_groups,
    comment_synthesis,
    language_validation,
    map,
    medium_scoring,
    moderator,
    reduce,
    resolve,
)
from experts_panel.pipeline.assembly import assemble
from experts_panel.pipeline.call_phase import current_phase
from experts_panel.pipeline.contract import (
    CompleteData,
    CompleteEvent,
    ExpertCompleteData,
    ExpertCompleteEvent,
    ExpertErrorEvent,
    ExpertFailure,
    ExpertRef,
    ExpertResponse,
    ModeratorEvent,
    ModeratorOut,
    MultiExpertQueryResponse,
    PhaseProgressEvent,
    PhaseStartEvent,
    ProgressData,
    ProgressEvent,
    QueryRequest,
    StartData,
    StartEvent,
    UsageOut,
)
from experts_panel.pipeline.expert_run import ExpertRun
from experts_panel.pipeline.model import Model, Usage
from experts_panel.pipeline.recency import window_start
from experts_panel.public_errors import failure as public_failure
from experts_panel.query_runs import QueryRuns, outside_queries
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import Embedder
from experts_panel.settings import Settings
from experts_panel.slots import Slots

log = get_logger(__name__)

Phase = Callable[[ExpertRun], Awaitable[None]]


def _wanted(run: ExpertRun, name: str) -> bool:
    request = run.request
    if name == "comment_groups":
        return request.include_comments or request.include_comment_groups
    if name == "comment_synthesis":
        return request.include_comments
    return True


# The pipeline, in order (assembly, the eighth phase, closes each expert's run).
PHASES: tuple[tuple[str, Phase], ...] = (
    ("map", map.run),
    ("medium_scoring", medium_scoring.run),
    ("resolve", resolve.run),
    ("reduce", reduce.run),
    ("language_validation", language_validation.run),
    ("comment_groups", comment_groups.run),
    ("comment_synthesis", comment_synthesis.run),
)

Emit = Callable[[ProgressEvent], Awaitable[None]]


class ModelChoice(Protocol):
    """Which model answers a query, and the notices that choice gives the reader.

    Made outside the pipeline (`experts_panel.model_setup`), which builds the clients and
    applies the budget; the pipeline only asks.
    """

    async def choose(self, services: Services, language: str) -> tuple[Model, list[str]]: ...


@dataclass
class Services:
    """What queries need, made once per process and handed over by the app."""

    settings: Settings
    database: Database
    embedder: Embedder
    cache: VectorCache
    models: ModelChoice
    runs: QueryRuns = field(default_factory=QueryRuns)
    # Queries doing work at once (MAX_CONCURRENT_QUERIES). The work is largely CPU in one
    # event loop; bounding it keeps the loop free to greet new readers at once, who then wait
    # their turn.
    query_slots: Slots = field(init=False)
    experts: ExpertCatalog = field(init=False)
    usage: budget.UsageLedger = field(init=False)

    def __post_init__(self) -> None:
        self.query_slots = Slots(self.settings.MAX_CONCURRENT_QUERIES)
        self.experts = ExpertCatalog(self.database)
        self.usage = budget.UsageLedger(self.database)


async def run_query(
    services: Services,
    request: QueryRequest,
    request_id: str,
    experts: list[Expert],
    emit: Emit,
) -> MultiExpertQueryResponse:
    started = time.perf_counter()
    language = detect_language(request.query)
    # Once per query, so that every expert and every phase see the same window.
    since = window_start(request.recent_months, datetime.now(UTC))

    model, notices = await services.models.choose(services, language)
    await emit(
        StartEvent(
            message=f"asking {len(experts)} experts",
            data=StartData(
                request_id=request_id,
                experts=[e.id for e in experts],
                model=model.name,
                language=language,
            ),
        )
    )
    slots = asyncio.Semaphore(services.settings.MAX_CONCURRENT_EXPERTS)
    responses: dict[str, ExpertResponse] = {}
    errors: list[ExpertFailure] = []
    total = Usage()

    async def one(expert: Expert) -> None:
        run = ExpertRun(
            expert=expert,
            question=request.query,
            language=language,
            request=request,
            settings=services.settings,
            model=model,
            database=services.database,
            embedder=services.embedder,
            cache=services.cache,
            question_vector=question_vector[0],
            emit=emit,
            since=since,
            notices=list(notices),
        )
        expert_started = time.perf_counter()
        async with slots:
            try:
                for name, phase in PHASES:
                    if not _wanted(run, name):
                        continue
                    await emit(_phase_start(expert, name))
                    current_phase.set(name)  # this expert's task only: for the calls' metrics
                    await phase(run)
                await emit(_phase_start(expert, "assembly"))
                response = assemble(run, int((time.perf_counter() - expert_started) * 1000))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one expert failing must not stop the others
                # The reader gets a code and a line of ours; the log gets what happened.
                failure = public_failure(exc)
                log.warning(
                    "expert failed",
                    expert_id=expert.id,
                    code=failure.code,
                    error=str(exc) or type(exc).__name__,
                    exc_info=True,
                )
                failed = ExpertFailure(
                    expert_id=expert.id, error=failure.message, code=failure.code
                )
                errors.append(failed)
                total.add(run.usage)
                await emit(ExpertErrorEvent(message=f"{expert.id}: {failure.message}", data=failed))
                return
        total.add(run.usage)
        responses[expert.id] = response
        await emit(
            ExpertCompleteEvent(
                message=f"{expert.id}: done",
                data=ExpertCompleteData(expert_id=expert.id, response=response),
            )
        )

    if services.query_slots.full():
        await emit(
            PhaseProgressEvent(message="waiting for a free slot", data=ProgressData(queued=True))
        )
    async with services.query_slots.hold():
        question_vector = await asyncio.to_thread(services.embedder.encode, [request.query])
        try:
            async with asyncio.TaskGroup() as experts_group:
                for expert in experts:
                    experts_group.create_task(one(expert))
            left = services.settings.REQUEST_TIMEOUT - (time.perf_counter() - started)
            moderated = await _moderate(
                model, request, language, experts, responses, total, emit, left
            )
        finally:
            # Queued, not written here: another process may hold the write lock for minutes.
            # The ledger's writer, started on first use, serves the service, not this query.
            with outside_queries():
                services.usage.add(total)
    result = MultiExpertQueryResponse(
        query=request.query,
        expert_responses=[responses[e.id] for e in experts if e.id in responses],
        total_processing_time_ms=int((time.perf_counter() - started) * 1000),
        request_id=request_id,
        usage=UsageOut(
            model_calls=total.model_calls,
            prompt_tokens=total.prompt_tokens,
            completion_tokens=total.completion_tokens,
        ),
        errors=errors,
        moderator=moderated,
    )
    log.info(
        "query",
        experts=len(experts),
        answered=len(responses),
        model=model.name,
        model_calls=total.model_calls,
        prompt_tokens=total.prompt_tokens,
        completion_tokens=total.completion_tokens,
        duration_ms=result.total_processing_time_ms,
    )
    await emit(CompleteEvent(message="done", data=CompleteData(response=result)))
    return result


async def _moderate(
    model: Model,
    request: QueryRequest,
    language: str,
    experts: list[Expert],
    responses: dict[str, ExpertResponse],
    total: Usage,
    emit: Emit,
    time_left_s: float,
) -> ModeratorOut | None:
    """The moderator's synthesis, streamed after every expert's result; None when not asked
    for or when fewer than two experts answered (then no event)."""
    if not request.moderator:
        return None
    answers = [responses[e.id] for e in experts if e.id in responses]
    moderated = await moderator.moderate(
        model, request.query, language, answers, total, time_left_s
    )
    if moderated is None:
        return None
    failed = moderated.synthesis is None
    await emit(
        ModeratorEvent(
            status="error" if failed else "ok",
            message="moderator: " + ("failed" if failed else "done"),
            data=moderated,
        )
    )
    return moderated


def _phase_start(expert: Expert, name: str) -> PhaseStartEvent:
    return PhaseStartEvent.model_validate(
        {"phase": name, "message": f"{expert.id}: {name}", "data": ExpertRef(expert_id=expert.id)}
    )
