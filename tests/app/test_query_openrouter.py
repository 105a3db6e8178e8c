"""The pipeline on the OpenRouter model, through a real server and the fake model API."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_openai import Delay, FakeOpenAI, Reply, model_env, shown_ids
from tests.support.fake_openai import phase_answer as responder
from tests.support.server import Server, cli_env, run_cli
from tests.support.streams import read_stream


def test_the_pipeline_runs_on_the_model_and_counts_tokens(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = responder
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    response = httpx.post(
        f"{server.url}/api/v1/query",
        json={
            "query": "Как делать бэкапы SQLite?",
            "expert_filter": ["selfhost_ops"],
            "stream_progress": False,
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    answer = body["expert_responses"][0]
    assert "[post:999999]" not in answer["answer"]  # a citation of nothing is removed
    assert answer["main_sources"] and answer["confidence"] == "HIGH"
    models = [r.model for r in fake_openai.requests]
    assert models[0] == "test/map" and "test/reduce" in models and "test/synthesis" in models
    map_requests = [r for r in fake_openai.requests if r.model == "test/map"]
    shown = sum(len(shown_ids(r.body)) for r in map_requests)
    assert shown == answer["posts_analyzed"] <= 60  # retrieval bounded what the model read
    assert body["usage"]["model_calls"] == len(fake_openai.requests)
    assert body["usage"]["prompt_tokens"] > 0
    assert all(r.headers["authorization"] == "Bearer sk-test-key" for r in fake_openai.requests)
    assert server.stop() == 0  # usage is written by a queue of its own, at the latest here
    conn = sqlite3.connect(demo_path)
    spent = conn.execute("SELECT model_calls, prompt_tokens FROM token_usage").fetchone()
    assert spent == (body["usage"]["model_calls"], body["usage"]["prompt_tokens"])


def test_past_the_daily_budget_the_embedded_model_answers_and_says_so(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = responder
    conn = sqlite3.connect(demo_path)
    conn.execute(
        "INSERT INTO token_usage (day, model_calls, prompt_tokens, completion_tokens) "
        "VALUES (strftime('%Y-%m-%d', 'now'), 10, 900, 200)"
    )
    conn.commit()
    conn.close()
    server: Server = server_factory(demo_path, **model_env(fake_openai, DAILY_TOKEN_BUDGET="1000"))
    body = httpx.post(
        f"{server.url}/api/v1/query",
        json={
            "query": "Как делать бэкапы SQLite?",
            "expert_filter": ["selfhost_ops"],
            "stream_progress": False,
        },
        timeout=60,
    ).json()
    assert fake_openai.requests == []
    assert body["usage"]["model_calls"] == 0
    assert any("лимит токенов исчерпан" in n for n in body["expert_responses"][0]["notices"])


def test_keep_alive_comments_flow_while_a_phase_is_slow(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def slow(body: dict[str, Any]) -> Any:
        if body["model"] == "test/reduce":
            return Delay(2.5, then=Reply(responder(body)))
        return responder(body)

    fake_openai.responder = slow
    server: Server = server_factory(demo_path, **model_env(fake_openai, SSE_KEEPALIVE_SECONDS="1"))
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "Как делать бэкапы SQLite?", "expert_filter": ["selfhost_ops"]},
        timeout=60,
    ) as response:
        events, comments = read_stream(response)
    assert events[-1]["event_type"] == "complete"
    assert len(comments) >= 2  # at least one a second while reduce waited


def test_a_client_that_goes_away_cancels_the_work(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def slow(body: dict[str, Any]) -> Any:
        return Delay(1.0, then=Reply(responder(body)))

    fake_openai.responder = slow
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    # Read to the end once: the whole query makes this many model calls.
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "Как делать бэкапы SQLite?"},
        timeout=60,
    ) as response:
        read_stream(response)
    whole = len(fake_openai.requests)
    assert whole >= 9  # map, medium scoring, reduce and synthesis for three experts

    fake_openai.requests.clear()
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "Как делать бэкапы SQLite?"},
        timeout=60,
    ) as response:
        for line in response.iter_lines():
            if '"event_type":"progress"' in line and '"phase":"map"' in line:
                break  # the first expert is past map; hang up mid-query
    seen = len(fake_openai.requests)
    time.sleep(3.0)  # long enough for the later phases' 1 s calls, had the work gone on
    after = len(fake_openai.requests)
    assert after <= seen + 3  # only calls already on their way may still arrive
    assert after < whole
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_one_expert_failing_on_the_model_gives_expert_error_and_the_rest_complete(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    from tests.support.fake_openai import HttpError

    lock = threading.Lock()

    def breaks_ai_architect(body: dict[str, Any]) -> Any:
        prompt = body["messages"][-1]["content"]
        with lock:
            if body["model"] == "test/map" and "Архитектор" in json.dumps(body, ensure_ascii=False):
                return HttpError(400, "context too long")
        del prompt
        return responder(body)

    fake_openai.responder = breaks_ai_architect
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    with httpx.stream(
        "POST",
        f"{server.url}/api/v1/query",
        json={"query": "Как делать бэкапы SQLite?"},
        timeout=60,
    ) as response:
        events, _ = read_stream(response)
    errors = [e["data"]["expert_id"] for e in events if e["event_type"] == "expert_error"]
    done = [e["data"]["expert_id"] for e in events if e["event_type"] == "expert_complete"]
    assert events[-1]["event_type"] == "complete"
    assert len(errors) + len(done) == 3 and done


def test_analyze_drift_on_the_model_stores_topics(demo_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.responder = responder
    env = cli_env(demo_path, **model_env(fake_openai))
    result = run_cli("analyze-drift", "--expert", "ai_architect", env=env)
    assert result.returncode == 0, result.stderr
    assert "analysed by test/groups" in result.stdout
    conn = sqlite3.connect(demo_path)
    rows = conn.execute(
        "SELECT has_drift, drift_topics, analyzed_by FROM comment_group_drift "
        "WHERE expert_id='ai_architect'"
    ).fetchall()
    assert rows and all(r[0] == 1 and r[2] == "test/groups" for r in rows)
    assert json.loads(rows[0][1])[0]["topic"] == "ноутбуки"
    again = run_cli("analyze-drift", "--expert", "ai_architect", env=env)
    assert "0 discussions analysed" in again.stdout  # done ones are not redone


def test_analyze_drift_without_a_key_uses_the_embedded_way(demo_path: Path) -> None:
    result = run_cli("analyze-drift", "--expert", "selfhost_ops", env=cli_env(demo_path))
    assert result.returncode == 0, result.stderr
    assert re.search(r"selfhost_ops: \d+ discussions analysed by embedded:usem3-", result.stdout)
    conn = sqlite3.connect(demo_path)
    analysed = conn.execute(
        "SELECT count(*) FROM comment_group_drift WHERE expert_id='selfhost_ops'"
    ).fetchone()[0]
    assert analysed >= 10
    missing = run_cli("analyze-drift", "--expert", "ghost", env=cli_env(demo_path))
    assert missing.returncode == 1 and "no expert 'ghost'" in missing.stderr
