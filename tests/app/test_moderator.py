"""The moderator across the experts, through a real server and the fake model API."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from experts_panel.pipeline.citations import cited_ids
from tests.support import demo_db
from tests.support.fake_openai import (
    Delay,
    FakeOpenAI,
    HttpError,
    RecordedRequest,
    model_env,
    moderator_synthesis,
    phase_answer,
    qualified_shown,
)
from tests.support.server import Server, start_server
from tests.support.streams import read_stream

QUESTION = "Как делать бэкапы SQLite?"
QUALIFIED = re.compile(r"\[post:([a-z0-9_-]+)/(\d+)\]")


def ask(server: Server, **fields: Any) -> list[dict[str, Any]]:
    with httpx.stream(
        "POST", f"{server.url}/api/v1/query", json={"query": QUESTION, **fields}, timeout=120
    ) as response:
        assert response.status_code == 200, response.read()
        events, _ = read_stream(response)
    return events


def of_type(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event_type"] == kind]


def drawn_on(response: dict[str, Any]) -> set[int]:
    return set(response["main_sources"]) | set(cited_ids(response["answer"]))


def moderator_calls(fake: FakeOpenAI) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.model == "test/moderator"]


@dataclass
class Moderated:
    events: list[dict[str, Any]]
    answer: dict[str, Any]  # the complete event's response
    fake_wrote: str  # what the fake moderator answered, before the pipeline checked it
    prompt: str


@pytest.fixture(scope="module")
def moderated(demo_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moderated]:
    """One query of all three experts with the moderator on, read by the tests below."""
    demo = demo_db.copy(demo_source, tmp_path_factory.mktemp("moderated"))
    with FakeOpenAI(responder=phase_answer) as fake:
        server = start_server(demo, log=None, **model_env(fake))
        try:
            events = ask(server, moderator=True)
        finally:
            server.stop()
        (call,) = moderator_calls(fake)
    yield Moderated(
        events=events,
        answer=events[-1]["data"]["response"],
        fake_wrote=moderator_synthesis(call.body),
        prompt=call.messages[-1]["content"],
    )


def test_the_moderator_streams_after_every_expert_and_before_complete(
    moderated: Moderated,
) -> None:
    events = moderated.events
    kinds = [e["event_type"] for e in events]
    assert kinds[-1] == "complete" and kinds.count("moderator") == 1
    at = kinds.index("moderator")
    assert at == len(kinds) - 2
    assert len([k for k in kinds[:at] if k == "expert_complete"]) == 3
    event = events[at]
    assert event["status"] == "ok" and event["phase"] is None
    # The complete response carries the same synthesis.
    assert moderated.answer["moderator"] == event["data"]
    assert event["data"]["experts"] == ["ai_architect", "product_notes", "selfhost_ops"]
    assert event["data"]["synthesis"].startswith("**Согласны**")
    assert event["data"]["usage"]["model_calls"] == 1


def test_the_moderator_reads_the_answers_with_their_citations_qualified(
    moderated: Moderated,
) -> None:
    shown = qualified_shown({"messages": [{"content": moderated.prompt}]})
    responses = {r["expert_id"]: r for r in moderated.answer["expert_responses"]}
    assert set(shown) == set(responses)
    for expert, ids in shown.items():
        assert set(ids) <= drawn_on(responses[expert])
    assert "[post:" not in QUALIFIED.sub("", moderated.prompt)  # no bare citation was shown


def test_every_citation_kept_is_a_post_its_expert_drew_on(moderated: Moderated) -> None:
    synthesis = moderated.answer["moderator"]["synthesis"]
    responses = {r["expert_id"]: r for r in moderated.answer["expert_responses"]}
    cited = [(e, int(i)) for e, i in QUALIFIED.findall(synthesis)]
    assert len(cited) == 3  # each expert's first post
    for expert, post in cited:
        assert post in drawn_on(responses[expert])


def test_a_forged_citation_is_removed(moderated: Moderated) -> None:
    first = moderated.answer["moderator"]["experts"][0]
    assert f"[post:{first}/999999]" in moderated.fake_wrote
    assert "999999" not in moderated.answer["moderator"]["synthesis"]


def test_another_experts_post_is_refused(moderated: Moderated) -> None:
    first, second = moderated.answer["moderator"]["experts"][:2]
    responses = {r["expert_id"]: r for r in moderated.answer["expert_responses"]}
    borrowed = next(iter(qualified_shown({"messages": [{"content": moderated.prompt}]})[first]))
    assert borrowed not in drawn_on(responses[second])  # else the check would prove nothing
    assert f"[post:{second}/{borrowed}]" in moderated.fake_wrote
    synthesis = moderated.answer["moderator"]["synthesis"]
    assert f"[post:{second}/{borrowed}]" not in synthesis
    # The bare `[post:ID]` names no expert, so it goes too.
    assert f"[post:{borrowed}]" in moderated.fake_wrote
    assert f"[post:{borrowed}]" not in synthesis
    assert synthesis.endswith("- как часто")


def test_the_moderator_is_off_by_default_in_the_api(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    events = ask(server)
    assert of_type(events, "moderator") == []
    assert events[-1]["data"]["response"]["moderator"] is None
    assert len(of_type(events, "expert_complete")) == 3
    assert moderator_calls(fake_openai) == []


def test_with_one_answering_expert_the_moderator_is_a_no_op(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    events = ask(server, moderator=True, expert_filter=["selfhost_ops"])
    assert [e["event_type"] for e in events][-1] == "complete"
    assert of_type(events, "moderator") == []
    assert events[-1]["data"]["response"]["moderator"] is None
    assert moderator_calls(fake_openai) == []


def test_an_expert_that_failed_does_not_count_as_an_answer(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def breaks_ai_architect(body: dict[str, Any]) -> Any:
        # The reduce prompt names the expert whose answer it asks for.
        if body["model"] == "test/reduce" and "Архитектор" in body["messages"][0]["content"]:
            return HttpError(400, "context too long")
        return phase_answer(body)

    fake_openai.responder = breaks_ai_architect
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    events = ask(server, moderator=True, expert_filter=["ai_architect", "selfhost_ops"])
    assert [e["data"]["expert_id"] for e in of_type(events, "expert_error")] == ["ai_architect"]
    assert of_type(events, "moderator") == []
    assert moderator_calls(fake_openai) == []


def test_an_expert_answer_never_carries_the_moderators_form(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    # A reduce model that copied `[post:EXPERT_ID/ID]` from a post: the page would open another
    # expert's post from this expert's answer.
    def copies_a_qualified_citation(body: dict[str, Any]) -> str:
        answer = phase_answer(body)
        if body["model"] != "test/reduce":
            return answer
        reply = json.loads(answer)
        reply["answer"] += " См. также [post:ai_architect/5]."
        return json.dumps(reply, ensure_ascii=False)

    fake_openai.responder = copies_a_qualified_citation
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    events = ask(server, expert_filter=["selfhost_ops"])
    (response,) = events[-1]["data"]["response"]["expert_responses"]
    assert response["answer"].endswith("См. также.")
    assert "ai_architect" not in response["answer"]


def test_the_moderators_tokens_count_against_the_daily_budget(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    response = httpx.post(
        f"{server.url}/api/v1/query",
        json={"query": QUESTION, "moderator": True, "stream_progress": False},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    moderator = body["moderator"]["usage"]
    assert moderator["model_calls"] == 1 and moderator["prompt_tokens"] > 0
    experts = [r["usage"] for r in body["expert_responses"]]
    for kind in ("model_calls", "prompt_tokens", "completion_tokens"):
        assert body["usage"][kind] == sum(u[kind] for u in experts) + moderator[kind]
    assert body["usage"]["model_calls"] == len(fake_openai.requests)
    assert server.stop() == 0  # the ledger writes what is queued, at the latest here
    conn = sqlite3.connect(demo_path)
    spent = conn.execute(
        "SELECT model_calls, prompt_tokens, completion_tokens FROM token_usage"
    ).fetchone()
    conn.close()
    usage = body["usage"]
    assert spent == (usage["model_calls"], usage["prompt_tokens"], usage["completion_tokens"])


def test_a_provider_failure_degrades_only_the_moderator(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def refuses_the_moderator(body: dict[str, Any]) -> Any:
        if body["model"] == "test/moderator":
            return HttpError(400, "The fake refuses to moderate")
        return phase_answer(body)

    fake_openai.responder = refuses_the_moderator
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    events = ask(server, moderator=True)
    assert [e["event_type"] for e in events][-2:] == ["moderator", "complete"]
    (event,) = of_type(events, "moderator")
    assert event["status"] == "error"
    assert event["data"]["synthesis"] is None
    assert event["data"]["notices"] == [
        "Не удалось сопоставить ответы экспертов: API модели отклонил запрос."
    ]
    assert "fake refuses" not in json.dumps(events, ensure_ascii=False)  # the provider's words
    answer = events[-1]["data"]["response"]
    assert answer["moderator"] == event["data"]
    assert answer["errors"] == []
    assert len(answer["expert_responses"]) == 3
    assert all(r["main_sources"] for r in answer["expert_responses"])
    assert len(moderator_calls(fake_openai)) == 1


def test_a_moderator_too_slow_for_the_query_degrades_only_itself(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def stalls_the_moderator(body: dict[str, Any]) -> Any:
        if body["model"] == "test/moderator":
            return Delay(120)
        return phase_answer(body)

    fake_openai.responder = stalls_the_moderator
    server: Server = server_factory(
        demo_path, **model_env(fake_openai, REQUEST_TIMEOUT="20", MODEL_MAX_ATTEMPTS="1")
    )
    started = time.monotonic()
    events = ask(server, moderator=True)
    assert time.monotonic() - started < 20
    assert [e["event_type"] for e in events][-2:] == ["moderator", "complete"]
    (event,) = of_type(events, "moderator")
    assert event["status"] == "error"
    assert event["data"]["notices"] == [
        "Не удалось сопоставить ответы экспертов: API модели не ответил."
    ]
    assert len(events[-1]["data"]["response"]["expert_responses"]) == 3


def test_on_the_embedded_model_the_experts_opening_words_side_by_side(
    demo_path: Path, server_factory: Any
) -> None:
    server: Server = server_factory(demo_path)  # no key: the embedded model answers
    events = ask(server, moderator=True)
    (event,) = of_type(events, "moderator")
    moderator = event["data"]
    assert event["status"] == "ok" and moderator["model"] == "embedded"
    assert moderator["usage"] == {"model_calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    responses = {r["expert_id"]: r for r in events[-1]["data"]["response"]["expert_responses"]}
    lines = moderator["synthesis"].splitlines()
    assert lines[0] == (
        "Начало ответа каждого эксперта, рядом (встроенная модель их не сравнивает):"
    )
    items = [line for line in lines if line.startswith("- **")]
    assert [line.split("**")[1] for line in items] == [
        responses[e]["expert_name"] for e in moderator["experts"]
    ]
    for expert, line in zip(moderator["experts"], items, strict=True):
        cited = [(e, int(i)) for e, i in QUALIFIED.findall(line)]
        assert cited and all(e == expert and i in drawn_on(responses[e]) for e, i in cited)
