"""Errors a reader receives carry a stable code and a line of ours; the detail goes to the log.

The codes are listed in docs/errors.md. Real faults: a table gone from under the running
service, a provider that refuses with words of its own, a query past REQUEST_TIMEOUT.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import httpx

from experts_panel.public_errors import ERROR_CODES, MESSAGES
from tests.support.fake_openai import Delay, FakeOpenAI, HttpError, Reply, model_env, phase_answer
from tests.support.server import Server, drained
from tests.support.streams import read_stream

QUESTION = {"query": "Как делать бэкапы SQLite?"}
# What must never reach a reader: the database's and the provider's own words.
INTERNALS = (
    "[SQL:",
    "sqlite3",
    "OperationalError",
    "no such table",
    "Traceback",
    "SECRET-PROVIDER",
)


def drop_table(db: Path, table: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()


def logged(lines: list[str], request_id: str) -> str:
    """Every JSON log record of one request, as text."""
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return "\n".join(
        json.dumps(r, ensure_ascii=False) for r in records if r.get("request_id") == request_id
    )


def assert_no_internals(text: str) -> None:
    for word in INTERNALS:
        assert word not in text, f"{word!r} reached the reader: {text[:2000]}"


def test_http_errors_carry_a_code_beside_fastapis_detail(
    demo_path: Path, server_factory: Any
) -> None:
    server: Server = server_factory(demo_path)
    missing = httpx.get(f"{server.url}/api/v1/posts/10", params={"expert_id": "ghost"})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no expert 'ghost'", "code": "not_found"}
    invalid = httpx.post(f"{server.url}/api/v1/query", json={"query": "a"})
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "invalid_request"
    assert invalid.json()["detail"][0]["loc"] == ["body", "query"]  # what the front end reads
    wrong_method = httpx.get(f"{server.url}/api/v1/query")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    nowhere = httpx.get(f"{server.url}/api/v1/nowhere")
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "not_found"
    assert set(MESSAGES) == set(ERROR_CODES)


def test_an_internal_error_is_a_code_to_the_reader_and_the_whole_story_in_the_log(
    demo_path: Path, server_factory: Any
) -> None:
    server: Server = server_factory(demo_path, ENVIRONMENT="production")
    lines, reader = drained(server)
    drop_table(demo_path, "experts")
    request_id = uuid.uuid4().hex
    response = httpx.get(f"{server.url}/api/v1/experts", headers={"X-Request-ID": request_id})
    assert response.status_code == 500
    assert response.json() == {"detail": MESSAGES["internal"], "code": "internal"}
    assert response.headers["x-request-id"] == request_id
    assert_no_internals(response.text)
    assert server.stop() == 0
    reader.join(timeout=30)
    story = logged(lines, request_id)
    assert "no such table: experts" in story and '"code": "internal"' in story


def test_an_expert_failing_inside_is_a_code_in_its_event_and_the_detail_in_the_log(
    demo_path: Path, server_factory: Any
) -> None:
    server: Server = server_factory(demo_path, ENVIRONMENT="production")
    lines, reader = drained(server)
    drop_table(demo_path, "post_search")  # the full-text index every expert's retrieval reads
    request_id = uuid.uuid4().hex
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json=QUESTION,
        headers={"X-Request-ID": request_id},
        timeout=120,
    ) as response:
        text = response.read().decode()
        events, _ = read_stream(response)
    assert_no_internals(text)
    failed = [e for e in events if e["event_type"] == "expert_error"]
    assert len(failed) == 3
    for event in failed:
        assert event["data"]["code"] == "internal"
        assert event["data"]["error"] == MESSAGES["internal"]
        assert event["message"] == f"{event['data']['expert_id']}: {MESSAGES['internal']}"
    complete = events[-1]
    assert complete["event_type"] == "complete"
    assert {e["code"] for e in complete["data"]["response"]["errors"]} == {"internal"}
    assert server.stop() == 0
    reader.join(timeout=30)
    story = logged(lines, request_id)
    # SQLite names the dropped table as the first statement that needs it sees it: the index's
    # term counts (an fts5vocab table over it) or the index itself.
    assert re.search(r"no such (fts5 )?table: (main\.)?post_search\b", story), story
    assert "expert failed" in story


def test_a_provider_that_refuses_is_model_refused_without_its_words(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def refuse_map(body: dict[str, Any]) -> Any:
        if body["model"] == "test/map":
            return HttpError(400, "SECRET-PROVIDER-WORDS: context too long")
        return phase_answer(body)

    fake_openai.responder = refuse_map
    server: Server = server_factory(demo_path, ENVIRONMENT="production", **model_env(fake_openai))
    lines, reader = drained(server)
    request_id = uuid.uuid4().hex
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={**QUESTION, "expert_filter": ["selfhost_ops"]},
        headers={"X-Request-ID": request_id},
        timeout=120,
    ) as response:
        text = response.read().decode()
        events, _ = read_stream(response)
    assert_no_internals(text)
    [failed] = [e for e in events if e["event_type"] == "expert_error"]
    assert failed["data"]["code"] == "model_refused"
    assert failed["data"]["error"] == MESSAGES["model_refused"]
    assert server.stop() == 0
    reader.join(timeout=30)
    assert "SECRET-PROVIDER-WORDS" in logged(lines, request_id)


def test_a_query_past_its_time_is_query_timeout_in_the_stream_and_in_json(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda body: Delay(60, then=Reply(phase_answer(body)))
    server: Server = server_factory(
        demo_path, **model_env(fake_openai, REQUEST_TIMEOUT="2", MODEL_TIMEOUT="30")
    )
    with httpx.stream("POST", f"{server.url}/api/v1/query", json=QUESTION, timeout=120) as response:
        events, _ = read_stream(response)
    last = events[-1]
    assert last["event_type"] == "error" and last["data"]["code"] == "query_timeout"
    assert last["message"] == "the query took longer than 2 s and was stopped"
    assert last["data"]["request_id"] == events[0]["data"]["request_id"]
    answer = httpx.post(
        f"{server.url}/api/v1/query", json={**QUESTION, "stream_progress": False}, timeout=120
    )
    assert answer.status_code == 504
    assert answer.json() == {
        "detail": "the query took longer than 2 s and was stopped",
        "code": "query_timeout",
    }
