"""The OpenAI-compatible client, against a real HTTP server that plays OpenAI and OpenRouter."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pydantic import BaseModel
from structlog.testing import capture_logs

from experts_panel.llm.openai_client import OpenAICompatibleClient
from experts_panel.llm.types import ChatMessage, ChatResult
from experts_panel.pipeline.model import ModelError, Usage
from tests.support.fake_openai import (
    Delay,
    FakeOpenAI,
    HttpError,
    MidStreamError,
    Reply,
    fake_openai_fixture,  # noqa: F401  (pytest finds fixtures by name in the module)
    fenced_json,
)
from tests.support.server import free_port

MODEL = "vendor/model-1"
QUESTION: list[ChatMessage] = [
    {"role": "system", "content": "You answer in one sentence."},
    {"role": "user", "content": "Is SQLite enough for this?"},
]


class Verdict(BaseModel):
    verdict: str
    confidence: float


def connect(server: FakeOpenAI | str, **options: Any) -> OpenAICompatibleClient:
    """A client with test-sized waits: retries take milliseconds unless a test says otherwise."""
    settings: dict[str, Any] = {
        "api_key": "sk-test-key",
        "timeout_s": 5.0,
        "max_in_flight": 4,
        "max_attempts": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 2.0,
    }
    settings.update(options)
    base_url = server if isinstance(server, str) else server.base_url
    return OpenAICompatibleClient(base_url, **settings)


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatibleClient]:
    async with connect(fake_openai) as opened:
        yield opened


def gap_s(server: FakeOpenAI, first: int, second: int) -> float:
    return server.requests[second].arrived_at - server.requests[first].arrived_at


# What is sent


async def test_sends_the_model_the_messages_and_the_key(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    await client.chat(QUESTION, MODEL)

    [request] = fake_openai.requests
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": MODEL,
        "messages": QUESTION,
        "temperature": 0.2,
        "stream": False,
    }
    assert request.headers["authorization"] == "Bearer sk-test-key"


async def test_sends_options_and_openrouter_attribution(fake_openai: FakeOpenAI) -> None:
    async with connect(
        fake_openai, api_key=None, app_title="Experts Panel", app_url="https://example.org"
    ) as client:
        await client.chat(QUESTION, MODEL, temperature=0.7, max_tokens=100, json_mode=True)

    [request] = fake_openai.requests
    assert request.body["temperature"] == 0.7
    assert request.body["max_tokens"] == 100
    assert request.body["response_format"] == {"type": "json_object"}
    assert request.headers["x-title"] == "Experts Panel"
    assert request.headers["http-referer"] == "https://example.org"
    assert "authorization" not in request.headers


# What is read


async def test_reads_a_completion(fake_openai: FakeOpenAI, client: OpenAICompatibleClient) -> None:
    fake_openai.script(Reply("Yes, for one writer.", prompt_tokens=12, completion_tokens=5))

    result = await client.chat(QUESTION, MODEL)

    assert result == ChatResult(
        text="Yes, for one writer.",
        usage=Usage(model_calls=1, prompt_tokens=12, completion_tokens=5),
        model=MODEL,
        finish_reason="stop",
    )


async def test_reads_a_stream_and_its_usage(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(
        Reply("Yes, for one writer.", prompt_tokens=12, completion_tokens=5, finish_reason="length")
    )

    result = await client.chat(QUESTION, MODEL, stream=True)

    assert result == ChatResult(
        text="Yes, for one writer.",
        usage=Usage(model_calls=1, prompt_tokens=12, completion_tokens=5),
        model=MODEL,
        finish_reason="length",
    )
    [request] = fake_openai.requests
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


async def test_stream_ignores_openrouter_processing_comments(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(Reply("Still here.", comments=3))

    result = await client.chat(QUESTION, MODEL, stream=True)

    assert result.text == "Still here."


async def test_the_fake_streams_comments_chunks_and_done_on_the_wire(
    fake_openai: FakeOpenAI,
) -> None:
    # Guards the test above: the comments really are on the wire, before the first chunk.
    fake_openai.script(Reply("Still here.", comments=2))
    body = {"model": MODEL, "messages": QUESTION, "stream": True}
    async with (
        httpx.AsyncClient() as http,
        http.stream("POST", f"{fake_openai.base_url}/chat/completions", json=body) as response,
    ):
        lines = [line async for line in response.aiter_lines() if line]

    assert response.headers["content-type"].startswith("text/event-stream")
    assert lines[:2] == [": OPENROUTER PROCESSING"] * 2
    assert '"object": "chat.completion.chunk"' in lines[2]
    assert lines[-1] == "data: [DONE]"


# Retries


async def test_429_waits_as_long_as_retry_after_says(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(HttpError(429, "Rate limit reached", retry_after="1"), "Done.")

    result = await client.chat(QUESTION, MODEL)

    assert result.text == "Done."
    assert result.usage.model_calls == 1
    assert len(fake_openai.requests) == 2
    assert gap_s(fake_openai, 0, 1) >= 0.9


async def test_retry_after_may_be_an_http_date(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    # HTTP dates have whole seconds: two seconds from now is at least one from the next second.
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    fake_openai.script(HttpError(503, retry_after=later), "Done.")

    assert (await client.chat(QUESTION, MODEL)).text == "Done."
    assert gap_s(fake_openai, 0, 1) >= 0.9


async def test_retry_after_is_capped_by_the_longest_backoff(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(HttpError(429, retry_after="120"), "Done.")

    async with connect(fake_openai, backoff_max_s=0.2) as client:
        assert (await client.chat(QUESTION, MODEL)).text == "Done."
    assert 0.1 <= gap_s(fake_openai, 0, 1) < 1.0


async def test_a_server_error_is_retried(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(HttpError(500), "Done.")

    result = await client.chat(QUESTION, MODEL)

    assert result.text == "Done."
    assert len(fake_openai.requests) == 2


async def test_a_lasting_outage_fails_after_max_attempts(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.responder = lambda _body: HttpError(503, "No instances available")

    with pytest.raises(ModelError) as failure:
        await client.chat(QUESTION, MODEL)

    assert len(fake_openai.requests) == 3
    message = str(failure.value)
    assert "\n" not in message
    for part in (MODEL, "3 attempts", "HTTP 503", "No instances available"):
        assert part in message


@pytest.mark.parametrize("status", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, status: int
) -> None:
    fake_openai.script(HttpError(status, "You cannot do that"))

    with pytest.raises(ModelError, match=f"HTTP {status}: You cannot do that") as failure:
        await client.chat(QUESTION, MODEL)

    assert MODEL in str(failure.value)
    assert len(fake_openai.requests) == 1


async def test_a_wrong_key_fails_at_once(fake_openai: FakeOpenAI) -> None:
    fake_openai.required_api_key = "sk-the-right-key"

    async with connect(fake_openai, api_key="sk-a-wrong-key") as client:
        with pytest.raises(ModelError, match="HTTP 401: Incorrect API key provided") as failure:
            await client.chat(QUESTION, MODEL)

    assert "sk-a-wrong-key" not in str(failure.value)
    assert len(fake_openai.requests) == 1


async def test_a_slow_answer_times_out_each_attempt(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Delay(5), Delay(5))

    started = time.monotonic()
    async with connect(fake_openai, timeout_s=0.3, max_attempts=2) as client:
        with pytest.raises(ModelError, match=r"2 attempts; last error: timed out after 0\.3 s"):
            await client.chat(QUESTION, MODEL)

    assert time.monotonic() - started < 2
    assert len(fake_openai.requests) == 2


async def test_a_slow_answer_is_retried(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Delay(5), "Quick this time.")

    async with connect(fake_openai, timeout_s=0.3) as client:
        assert (await client.chat(QUESTION, MODEL)).text == "Quick this time."


@pytest.mark.parametrize("stream", [True, False])
async def test_an_error_after_the_answer_started_is_retried(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, stream: bool
) -> None:
    fake_openai.script(MidStreamError("Provider disconnected"), Reply("The whole answer."))

    result = await client.chat(QUESTION, MODEL, stream=stream)

    assert result.text == "The whole answer."
    assert len(fake_openai.requests) == 2


async def test_a_lasting_mid_stream_error_is_named(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.responder = lambda _body: MidStreamError("Provider disconnected")

    with pytest.raises(ModelError, match="error mid-stream: Provider disconnected"):
        await client.chat(QUESTION, MODEL, stream=True)

    assert len(fake_openai.requests) == 3


async def test_a_refused_connection_is_retried_then_named() -> None:
    async with connect(f"http://127.0.0.1:{free_port()}/v1", max_attempts=2) as client:
        with pytest.raises(ModelError, match="2 attempts; last error: connection error"):
            await client.chat(QUESTION, MODEL)


async def test_a_cancelled_call_is_not_retried(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(Delay(5))
    call = asyncio.create_task(client.chat(QUESTION, MODEL))
    while not fake_openai.requests:
        await asyncio.sleep(0.01)

    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.1)
    assert len(fake_openai.requests) == 1


# Concurrency


async def test_max_in_flight_bounds_concurrent_calls(fake_openai: FakeOpenAI) -> None:
    fake_openai.latency_s = 0.2

    async with connect(fake_openai, max_in_flight=2) as client:
        results = await asyncio.gather(*(client.chat(QUESTION, MODEL) for _ in range(6)))

    assert [r.text for r in results] == ["OK"] * 6
    assert len(fake_openai.requests) == 6
    assert fake_openai.max_in_flight == 2


# JSON answers


@pytest.mark.parametrize(
    "answer",
    [
        fenced_json({"verdict": "yes", "confidence": 0.9}),
        Reply('```\n{"verdict": "yes", "confidence": 0.9}\n```'),
        Reply('Sure! {"verdict": "yes", "confidence": 0.9} Hope that helps.'),
    ],
    ids=["json fence", "bare fence", "prose around"],
)
async def test_json_is_found_inside_the_usual_wrapping(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient, answer: Reply
) -> None:
    fake_openai.script(answer)

    verdict, usage = await client.chat_json(QUESTION, MODEL, Verdict)

    assert verdict == Verdict(verdict="yes", confidence=0.9)
    assert usage.model_calls == 1
    [request] = fake_openai.requests
    assert request.body["response_format"] == {"type": "json_object"}


async def test_an_invalid_answer_gets_one_correction_naming_the_problem(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    bad = '{"verdict": "yes"}'
    fake_openai.script(
        Reply(bad, prompt_tokens=10, completion_tokens=4),
        Reply('{"verdict": "yes", "confidence": 0.8}', prompt_tokens=20, completion_tokens=6),
    )

    verdict, usage = await client.chat_json(QUESTION, MODEL, Verdict)

    assert verdict == Verdict(verdict="yes", confidence=0.8)
    assert usage == Usage(model_calls=2, prompt_tokens=30, completion_tokens=10)
    first, correction = fake_openai.requests
    assert correction.messages[:-1] == [*first.messages, {"role": "assistant", "content": bad}]
    last = correction.messages[-1]
    assert last["role"] == "user"
    assert "confidence: Field required" in last["content"]
    assert "only the JSON" in last["content"]
    assert correction.body["response_format"] == {"type": "json_object"}


async def test_a_second_invalid_answer_fails(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(
        Reply("I think the answer is yes.", prompt_tokens=10, completion_tokens=7),
        Reply("Yes.", prompt_tokens=25, completion_tokens=2),
    )

    with pytest.raises(
        ModelError, match="not a valid Verdict even after a correction: Invalid"
    ) as e:
        await client.chat_json(QUESTION, MODEL, Verdict)

    assert len(fake_openai.requests) == 2
    # The two unusable answers were still paid for: the error carries their tokens.
    assert e.value.spent == Usage(model_calls=2, prompt_tokens=35, completion_tokens=9)


# Logging


async def test_each_call_is_logged_once_without_the_key(
    fake_openai: FakeOpenAI, client: OpenAICompatibleClient
) -> None:
    fake_openai.script(HttpError(429), Reply("Done.", prompt_tokens=12, completion_tokens=1))

    with capture_logs() as logged:
        await client.chat(QUESTION, MODEL)

    [call] = [entry for entry in logged if entry["log_level"] == "info"]
    assert call["model"] == MODEL
    assert (call["attempts"], call["prompt_tokens"], call["completion_tokens"]) == (2, 12, 1)
    assert call["duration_s"] >= 0
    assert "sk-test-key" not in repr(logged)
