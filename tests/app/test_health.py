"""/health tells the truth about the service itself, and about the provider beside it.

503 (systemd restarts the stack) only when the service cannot make progress; a provider that
errs, is slow or is down is reported as such with 200, so an outage never becomes a restart
loop. The database case is in test_api.py; the stall rule in test_call_watch.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.fake_openai import Delay, FakeOpenAI, HttpError, Reply, model_env, phase_answer
from tests.support.server import Server
from tests.support.streams import read_stream

ONE_EXPERT = {"query": "Как делать бэкапы SQLite?", "expert_filter": ["selfhost_ops"]}


def health(server: Server) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{server.url}/health", timeout=30)
    return response.status_code, response.json()


def ask(server: Server, **extra: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/api/v1/query",
        json={**ONE_EXPERT, "stream_progress": False, **extra},
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_healthy_service_with_a_provider_that_answers(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    server: Server = server_factory(demo_path, **model_env(fake_openai, MODEL_TIMEOUT="20"))
    status, before = health(server)
    assert status == 200 and before["provider"]["state"] == "ok"
    assert before["provider"]["last_success_at"] is None
    assert ask(server)["errors"] == []
    status, body = health(server)
    assert status == 200
    assert body["status"] == "healthy" and body["problems"] == []
    assert body["provider"]["state"] == "ok" and body["provider"]["last_error"] is None
    assert body["provider"]["last_success_at"] is not None
    assert body["queries"] == {"running": 0, "waiting": 0, "slots": 4, "tasks": 0}
    calls = body["model_calls"]
    assert (calls["in_flight"], calls["waiting"], calls["slots"]) == (0, 0, 8)
    assert calls["stalled_s"] == 0
    assert calls["stall_limit_s"] == 4 * 20 + 3 * 30  # attempts × MODEL_TIMEOUT + back-off
    assert body["event_loop_lag_s"] < 5


def test_a_provider_that_errs_then_answers_is_degraded_and_the_service_healthy(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = phase_answer
    fake_openai.script(HttpError(503, "upstream overloaded"), HttpError(429, retry_after="0"))
    server: Server = server_factory(demo_path, **model_env(fake_openai))
    assert ask(server)["errors"] == []  # retried past both
    status, body = health(server)
    assert status == 200 and body["status"] == "healthy"
    assert body["provider"]["state"] == "degraded"
    assert body["provider"]["last_error"]["kind"] == "rate_limited"


def test_a_provider_that_is_down_is_reported_and_the_service_stays_healthy(
    demo_path: Path, server_factory: Any
) -> None:
    with FakeOpenAI(responder=phase_answer) as fake:
        server: Server = server_factory(demo_path, **model_env(fake, MODEL_MAX_ATTEMPTS="2"))
    # The fake has stopped: its port refuses connections, as a provider that is down does.
    answer = ask(server)
    assert [e["code"] for e in answer["errors"]] == ["model_unavailable"]
    status, body = health(server)
    assert status == 200 and body["status"] == "healthy"
    assert body["provider"]["state"] == "down"
    assert body["provider"]["last_error"]["kind"] == "connection"
    assert body["model_calls"]["in_flight"] == 0


def test_a_provider_too_slow_to_answer_is_down_and_the_service_healthy_meanwhile(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    # Never within MODEL_TIMEOUT.
    fake_openai.responder = lambda body: Delay(60, then=Reply(phase_answer(body)))
    server: Server = server_factory(
        demo_path, **model_env(fake_openai, MODEL_TIMEOUT="2", MODEL_MAX_ATTEMPTS="2")
    )
    events: list[dict[str, Any]] = []

    def read() -> None:
        with httpx.stream(
            "POST", f"{server.url}/api/v1/query", json=ONE_EXPERT, timeout=120
        ) as response:
            events.extend(read_stream(response)[0])

    reader = threading.Thread(target=read)
    reader.start()
    try:
        while True:  # until a model call is waiting on the slow provider
            status, during = health(server)
            assert status == 200 and during["status"] == "healthy", during
            if during["model_calls"]["in_flight"]:
                break
            assert reader.is_alive(), events
            time.sleep(0.1)
    finally:
        reader.join(timeout=120)
    assert events[-1]["event_type"] == "complete"
    assert [e["data"]["code"] for e in events if e["event_type"] == "expert_error"] == [
        "model_unavailable"
    ]
    status, after = health(server)
    assert status == 200 and after["status"] == "healthy"
    assert after["provider"]["state"] == "down"
    assert after["provider"]["last_error"]["kind"] == "timeout"


def test_an_event_loop_that_lagged_more_than_5_s_makes_the_service_unhealthy(
    demo_path: Path, server_factory: Any
) -> None:
    server: Server = server_factory(demo_path)
    status, body = health(server)
    assert status == 200 and body["event_loop_lag_s"] < 5
    # Stopped for 6 s, the process's loop runs its timers 6 s late, as a loop blocked for
    # that long by a stuck call would.
    os.kill(server.process.pid, signal.SIGSTOP)
    try:
        time.sleep(6)
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while True:  # the loop notes its lag as soon as it runs again; this is its turn to
        status, body = health(server)
        if status == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 503
    assert body["status"] == "unhealthy" and body["problems"] == ["event_loop_lag"]
    assert body["event_loop_lag_s"] > 5
    assert body["database"] == "ok"
