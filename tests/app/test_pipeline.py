"""The eight phases on the embedded model, over the bundled demo experts."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from experts_panel.db.database import Database
from experts_panel.model_setup import Models
from experts_panel.pipeline.citations import reconcile
from experts_panel.pipeline.contract import (
    ExpertCompleteEvent,
    ExpertErrorEvent,
    MultiExpertQueryResponse,
    PhaseProgressEvent,
    PhaseStartEvent,
    ProgressEvent,
    QueryRequest,
)
from experts_panel.pipeline.runner import PHASES, Services, run_query
from experts_panel.pipeline.texts import text
from experts_panel.retrieval.dense import VectorCache
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
from experts_panel.settings import load_settings
from tests.support import demo_db

EMBEDDER = UniversalSentenceEncoder()


@pytest.fixture
async def services(demo_path: Path) -> AsyncIterator[Services]:
    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{demo_path}"})
    database, _ = await Database.open(settings)
    try:
        yield Services(settings, database, EMBEDDER, VectorCache(), Models(settings, client=None))
    finally:
        await database.close()


async def ask(
    services: Services, **fields: object
) -> tuple[MultiExpertQueryResponse, list[ProgressEvent]]:
    request = QueryRequest.model_validate(fields)
    events: list[ProgressEvent] = []

    async def collect(event: ProgressEvent) -> None:
        events.append(event)

    experts = await services.experts.resolve(request.expert_filter)
    result = await run_query(services, request, "test-request", experts, collect)
    return result, events


async def test_every_phase_runs_for_every_expert_and_reports(services: Services) -> None:
    result, events = await ask(
        services, query="Как делать бэкапы SQLite?", include_comment_groups=True
    )
    assert events[0].event_type == "start"
    assert events[-1].event_type == "complete"
    for expert in ("ai_architect", "product_notes", "selfhost_ops"):
        phases = [
            e.phase for e in events if isinstance(e, PhaseStartEvent) and e.data.expert_id == expert
        ]
        assert phases == [name for name, _ in PHASES] + ["assembly"]
        assert any(
            isinstance(e, ExpertCompleteEvent) and e.data.expert_id == expert for e in events
        )
    assert [r.expert_id for r in result.expert_responses] == [
        "ai_architect",
        "product_notes",
        "selfhost_ops",
    ]
    assert result.usage.model_calls == 0  # the embedded model calls no API


async def test_map_reduce_answer_cites_only_real_posts_newest_first(
    services: Services, demo_path: Path
) -> None:
    result, events = await ask(
        services, query="Как делать бэкапы SQLite?", expert_filter=["selfhost_ops"]
    )
    response = result.expert_responses[0]
    mapped = next(e for e in events if isinstance(e, PhaseProgressEvent) and e.phase == "map")
    assert mapped.data.high is not None and mapped.data.high >= 2
    assert mapped.data.analyzed == response.posts_analyzed
    assert 30 in response.main_sources  # "Бэкапы SQLite, версия 2"
    cited = [int(i) for i in re.findall(r"\[post:(\d+)\]", response.answer)]
    assert cited and set(cited) <= set(response.main_sources)
    conn = sqlite3.connect(demo_path)
    dates = [
        conn.execute(
            "SELECT date FROM posts WHERE expert_id='selfhost_ops' AND telegram_message_id=?", (i,)
        ).fetchone()[0]
        for i in cited
    ]
    assert dates == sorted(dates, reverse=True)  # the current view first
    assert response.confidence == "HIGH"
    assert response.language == "ru" and response.notices == []


async def test_resolve_adds_linked_posts_as_context(services: Services, demo_path: Path) -> None:
    # Five candidates: with more, retrieval finds the posts linked to the backup posts by
    # itself, and resolve has nothing left to add.
    _, events = await ask(
        services, query="Как делать бэкапы SQLite?", expert_filter=["selfhost_ops"], max_posts=5
    )
    found = {e.phase: e.data for e in events if isinstance(e, PhaseProgressEvent)}
    resolved = (found["resolve"].linked if "resolve" in found else None) or []
    conn = sqlite3.connect(demo_path)
    high_links = conn.execute(
        "SELECT count(*) FROM links "
        "WHERE expert_id='selfhost_ops' AND target_message_id IN (30, 34)"
    ).fetchone()[0]
    assert high_links > 0 and resolved  # the backup posts are linked to and from others
    for post_id in resolved:
        assert conn.execute(
            "SELECT 1 FROM posts WHERE expert_id='selfhost_ops' AND telegram_message_id=?",
            (post_id,),
        ).fetchone()


async def test_medium_scoring_keeps_at_most_five_strong_complements(services: Services) -> None:
    _, events = await ask(services, query="How do you evaluate answers of a RAG system?")
    for event in events:
        if isinstance(event, PhaseProgressEvent) and event.phase == "medium_scoring":
            assert event.data.kept is not None and len(event.data.kept) <= 5


async def test_an_answer_in_another_language_says_it_was_not_translated(services: Services) -> None:
    result, _ = await ask(
        services, query="How should I back up a SQLite database?", expert_filter=["selfhost_ops"]
    )
    response = result.expert_responses[0]
    assert response.language == "ru"
    assert any("cannot translate" in n for n in response.notices)


async def test_comment_groups_and_synthesis_in_the_question_language(services: Services) -> None:
    result, _ = await ask(
        services,
        query="Как делать бэкапы SQLite?",
        expert_filter=["selfhost_ops"],
        include_comment_groups=True,
    )
    response = result.expert_responses[0]
    kinds = {(g.post_telegram_message_id, g.kind) for g in response.relevant_comment_groups}
    assert (30, "community") in kinds
    assert all(
        g.post_telegram_message_id in response.main_sources
        for g in response.relevant_comment_groups
        if g.kind != "drift"
    )
    assert response.comment_groups_synthesis is not None
    assert f"**{text('ru', 'sources_community_title')}**" in response.comment_groups_synthesis
    without = (
        await ask(
            services,
            query="Как делать бэкапы SQLite?",
            expert_filter=["selfhost_ops"],
            include_comments=False,
        )
    )[0]
    assert without.expert_responses[0].comment_groups_synthesis is None
    assert without.expert_responses[0].relevant_comment_groups == []


async def test_one_broken_expert_does_not_stop_the_others(
    services: Services, demo_path: Path
) -> None:
    demo_db.break_retrieval(demo_path, "product_notes")
    result, events = await ask(services, query="Как делать бэкапы SQLite?")
    failed = [e for e in events if isinstance(e, ExpertErrorEvent)]
    assert [e.data.expert_id for e in failed] == ["product_notes"]
    assert [r.expert_id for r in result.expert_responses] == ["ai_architect", "selfhost_ops"]
    assert result.errors[0].expert_id == "product_notes"
    assert events[-1].event_type == "complete"


def test_citations_of_unknown_posts_are_removed_and_cited_posts_become_sources() -> None:
    text, sources = reconcile(
        "As I wrote [post:5], and later [post:999]. See [post:7].", [5, 42], {5, 7}
    )
    assert text == "As I wrote [post:5], and later. See [post:7]."
    assert sources == [5, 7]
