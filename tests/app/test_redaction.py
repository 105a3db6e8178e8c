"""The model API key, and anything shaped like a bearer token or an OpenRouter key, never
reaches a log line or a reader, even when the provider quotes it back.

A real server on loopback asks the fake model API, which quotes the request's Authorization
header in its refusals and in its answers, as a misbehaving provider or proxy does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from experts_panel.redaction import REDACTED, Redactor
from tests.support.fake_openai import (
    AUTHORIZATION,
    FakeOpenAI,
    HttpError,
    Reply,
    model_env,
    phase_answer,
)
from tests.support.server import Server, drained
from tests.support.streams import read_stream

OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
# A key of any shape is redacted once it is the configured one.
PLAIN_KEY = "llama-local-secret-7f3a9c"
# Shaped like secrets, though not the configured key: redacted all the same.
STRAY_OPENROUTER_KEY = "sk-or-v1-" + "fedcba9876543210" * 4
STRAY_BEARER = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
QUESTION = {"query": "Как делать бэкапы SQLite?", "expert_filter": ["selfhost_ops"]}


def ask(server: Server) -> tuple[str, list[dict[str, Any]]]:
    with httpx.stream("POST", f"{server.url}/api/v1/query", json=QUESTION, timeout=120) as r:
        text = r.read().decode()
    events, _ = read_stream(httpx.Response(200, content=text.encode()))
    return text, events


def assert_nothing_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} leaked: {text[:3000]}"
        # A JSON-escaped copy would leak it just the same.
        assert json.dumps(secret)[1:-1] not in text


@pytest.mark.parametrize("key", [OPENROUTER_KEY, PLAIN_KEY])
@pytest.mark.parametrize("environment", ["production", "development"])
def test_a_provider_quoting_the_key_in_a_refusal_leaks_it_nowhere(
    demo_path: Path,
    server_factory: Any,
    fake_openai: FakeOpenAI,
    key: str,
    environment: str,
) -> None:
    fake_openai.responder = lambda body: HttpError(
        401,
        f"Incorrect API key provided: {AUTHORIZATION}; the key {key} is not valid. "
        f"Also seen: {STRAY_OPENROUTER_KEY} and {STRAY_BEARER}",
    )
    env = {**model_env(fake_openai), "OPENROUTER_API_KEY": key, "ENVIRONMENT": environment}
    server: Server = server_factory(demo_path, **env)
    lines, reader = drained(server)
    text, events = ask(server)
    assert [e["event_type"] for e in events][-1] == "complete"
    assert any(e["event_type"] == "expert_error" for e in events)
    assert server.stop() == 0
    reader.join(timeout=30)
    log = "".join(lines)
    assert fake_openai.requests, "the model API was never asked"
    assert_nothing_secret(text, key, STRAY_OPENROUTER_KEY, STRAY_BEARER)
    assert_nothing_secret(log, key, STRAY_OPENROUTER_KEY, STRAY_BEARER)
    # The provider's words are still in the log, less the secrets.
    assert "Incorrect API key provided" in log and REDACTED in log


def test_a_provider_quoting_the_key_in_its_answers_leaks_it_nowhere(
    demo_path: Path, server_factory: Any, fake_openai: FakeOpenAI
) -> None:
    def quoting(body: dict[str, Any]) -> Any:
        answer = json.loads(phase_answer(body))
        if body["model"] == "test/reduce":
            answer["answer"] += f" (sent with {AUTHORIZATION}, {STRAY_OPENROUTER_KEY})"
        if body["model"] == "test/synthesis":
            answer["synthesis"] += f"\n- {AUTHORIZATION}"
        return Reply(json.dumps(answer))

    fake_openai.responder = quoting
    env = {**model_env(fake_openai), "OPENROUTER_API_KEY": OPENROUTER_KEY}
    server: Server = server_factory(demo_path, **env)
    lines, reader = drained(server)
    text, events = ask(server)
    complete = events[-1]
    assert complete["event_type"] == "complete"
    [answer] = complete["data"]["response"]["expert_responses"]
    assert REDACTED in answer["answer"] and REDACTED in answer["comment_groups_synthesis"]
    assert server.stop() == 0
    reader.join(timeout=30)
    assert_nothing_secret(text, OPENROUTER_KEY, STRAY_OPENROUTER_KEY)
    assert_nothing_secret("".join(lines), OPENROUTER_KEY, STRAY_OPENROUTER_KEY)


def test_what_the_redactor_finds() -> None:
    redact = Redactor.of(['quo"ted-key-1', None, "abc"])
    assert redact('{"error": "quo\\"ted-key-1"}') == '{"error": "[REDACTED]"}'  # JSON-escaped
    assert redact("a key cut short: sk-or-v1-0a1b…") == "a key cut short: [REDACTED]…"
    assert redact("authorization: bearer abc.def-ghi_jkl/mno=") == "authorization: [REDACTED]"
    assert redact("sk-proj-" + "A" * 40) == REDACTED
    # Too short to look for without wrecking every line; ordinary words stay.
    for prose in ("abc sk-learn task-or-skip", "the bearer of bad news", "Bearer bonds"):
        assert redact(prose) == prose
