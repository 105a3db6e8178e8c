"""`recent_months`: posts older than the window reach no phase, through a real server and the
fake model API (whose recorded requests show every post the model was given)."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from experts_panel.pipeline.recency import months_back
from tests.support.fake_openai import FakeOpenAI, model_env, shown_ids
from tests.support.fake_openai import phase_answer as usual_answer
from tests.support.server import Server, ServerFactory

QUERY = "/api/v1/query"
EXPERT = "selfhost_ops"
# Posts of the demo's selfhost_ops put inside the last three months; each links to an older
# post (30 -> 6, 32 -> 10 and 24, 35 -> 14, 42 -> 13, 46 -> 3) and several have comments.
RECENT = (30, 32, 33, 34, 35, 42, 46)
JUST_INSIDE = 41  # an hour after the window opens
JUST_OUTSIDE = 39  # an hour before it
MARKER = re.compile(r"\[post:(\d+)\]")


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def date_posts(path: Path, now: datetime) -> set[int]:
    """Dates the expert's posts around a three-month window; returns the old ones' ids."""
    conn = sqlite3.connect(path)
    try:
        ids = [
            r[0]
            for r in conn.execute(
                "SELECT telegram_message_id FROM posts WHERE expert_id=?", (EXPERT,)
            )
        ]
        start = months_back(now, 3)
        dates: dict[int, str] = {}
        for n, post in enumerate(ids):
            if post in RECENT:
                dates[post] = stamp(now - timedelta(days=5 + n))
            else:
                dates[post] = stamp(now - timedelta(days=400 + n))
        dates[JUST_INSIDE] = stamp(start + timedelta(hours=1))
        dates[JUST_OUTSIDE] = stamp(start - timedelta(hours=1))
        conn.executemany(
            "UPDATE posts SET date=? WHERE expert_id=? AND telegram_message_id=?",
            [(d, EXPERT, p) for p, d in dates.items()],
        )
        # Drifted discussions under an old post and a recent one, as analyze-drift leaves them.
        conn.executemany(
            "INSERT INTO comment_group_drift (expert_id, post_telegram_message_id, has_drift, "
            "drift_topics, analyzed_at, analyzed_by) VALUES (?, ?, 1, ?, ?, 'test')",
            [
                (EXPERT, post, json.dumps([{"topic": "бэкапы", "keywords": ["бэкап"]}]), stamp(now))
                for post in (6, 28, 46)
            ],
        )
        conn.commit()
    finally:
        conn.close()
    return {p for p, d in dates.items() if d < stamp(start)}


def everything_relevant(body: dict[str, Any]) -> str:
    """Every post shown is HIGH, every drifted discussion is chosen: whatever a phase is given
    goes on to the next, so an old post let in anywhere would show. The answer cites the
    first two posts only, so that drifted discussions under the others are candidates."""
    ids = shown_ids(body)
    if body["model"] == "test/map":
        return json.dumps({"posts": [{"id": i, "relevance": "HIGH", "reason": "да"} for i in ids]})
    if body["model"] == "test/reduce":
        cited = " ".join(f"[post:{i}]" for i in ids[:2])
        return json.dumps(
            {
                "answer": f"Бэкапы {cited}",
                "main_sources": ids[:2],
                "confidence": "HIGH",
                "language": "ru",
            }
        )
    if body["model"] == "test/groups" and "has_drift" not in body["messages"][0]["content"]:
        return json.dumps({"post_ids": ids})
    return usual_answer(body)


def posts_given(fake: FakeOpenAI) -> set[int]:
    """Every post marker in every message the model was sent."""
    return {int(i) for r in fake.requests for m in r.messages for i in MARKER.findall(m["content"])}


def ask(server: Server, **fields: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}{QUERY}",
        json={
            "query": "Как делать бэкапы SQLite?",
            "expert_filter": [EXPERT],
            "stream_progress": False,
            "include_comment_groups": True,
            **fields,
        },
        timeout=120,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_with_recent_months_no_older_post_reaches_any_phase(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    old = date_posts(demo_path, datetime.now(UTC))
    assert JUST_OUTSIDE in old and JUST_INSIDE not in old
    fake_openai.responder = everything_relevant
    server: Server = server_factory(demo_path, **model_env(fake_openai))

    # Without the window the same question reaches old posts, linked ones and drifted
    # discussions: what the window must keep out is there to keep out.
    everything = ask(server)
    assert posts_given(fake_openai) & old
    assert everything["expert_responses"][0]["posts_analyzed"] > len(RECENT) + 1

    fake_openai.requests.clear()
    body = ask(server, recent_months=3)
    answer = body["expert_responses"][0]
    given = posts_given(fake_openai)
    models = {r.model for r in fake_openai.requests}
    assert {"test/map", "test/reduce", "test/groups", "test/synthesis"} <= models
    assert not given & old, sorted(given & old)
    map_shown = {
        i for r in fake_openai.requests if r.model == "test/map" for i in shown_ids(r.body)
    }
    assert map_shown == {*RECENT, JUST_INSIDE}  # every post of the window, none other
    assert answer["posts_analyzed"] == len(RECENT) + 1
    assert set(answer["main_sources"]) <= {*RECENT, JUST_INSIDE}
    groups = answer["relevant_comment_groups"]
    assert groups and {g["post_telegram_message_id"] for g in groups} <= {*RECENT, JUST_INSIDE}
    assert any(g["kind"] == "drift" and g["post_telegram_message_id"] == 46 for g in groups)


def test_an_expert_with_nothing_in_the_window_says_so_without_an_error(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    conn = sqlite3.connect(demo_path)
    conn.execute(
        "UPDATE posts SET date=? WHERE expert_id=?",
        (stamp(datetime.now(UTC) - timedelta(days=45)), EXPERT),
    )
    conn.commit()
    conn.close()
    fake_openai.responder = everything_relevant
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    body = ask(server, recent_months=1)
    assert body["errors"] == []
    [answer] = body["expert_responses"]
    assert answer["answer"] == "Автор об этом не писал."
    assert answer["main_sources"] == [] and answer["confidence"] == "LOW"
    assert answer["posts_analyzed"] == 0
    assert fake_openai.requests == []  # nothing to show the model, so no call at all
    wider = ask(server, recent_months=2)  # 45 days ago is inside two calendar months
    assert wider["expert_responses"][0]["posts_analyzed"] > 0


def test_the_embedded_model_answers_from_the_window_only(
    demo_path: Path, server_factory: ServerFactory
) -> None:
    old = date_posts(demo_path, datetime.now(UTC))
    server = server_factory(demo_path)  # no key: the embedded model
    body = ask(server, recent_months=3)
    [answer] = body["expert_responses"]
    cited = {int(i) for i in MARKER.findall(answer["answer"])}
    assert answer["main_sources"] and not (set(answer["main_sources"]) | cited) & old
    groups = answer["relevant_comment_groups"]
    assert not {g["post_telegram_message_id"] for g in groups} & old


@pytest.mark.parametrize("months", [0, 121, -3, "x", "3", 3.0, 2.5, True, [3]])
def test_recent_months_that_is_not_1_to_120_is_422_naming_the_field(
    demo_path: Path, server_factory: ServerFactory, months: object
) -> None:
    server = server_factory(demo_path)
    response = httpx.post(
        f"{server.url}{QUERY}",
        json={"query": "how to back up", "recent_months": months},
        timeout=30,
    )
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "recent_months"]]


def test_the_schema_gives_recent_months_its_range(
    demo_path: Path, server_factory: ServerFactory
) -> None:
    server = server_factory(demo_path)
    schema = httpx.get(f"{server.url}/api/openapi.json").json()
    field = schema["components"]["schemas"]["QueryRequest"]["properties"]["recent_months"]
    [number] = [s for s in field["anyOf"] if s.get("type") == "integer"]
    assert (number["minimum"], number["maximum"]) == (1, 120)
    assert field.get("default") is None
