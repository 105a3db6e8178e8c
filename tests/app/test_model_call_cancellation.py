"""A model call cancelled at any point hands its connection back to the pool.

httpcore's clean-up after a response (marking the connection idle, or closing it) has await
points of its own; a plain asyncio cancellation landing on one of them used to leave the
connection marked busy for ever. With one connection in the pool, the next call then waited
for it until its time-out, and after as many such cancellations as the pool has connections
every call of the service did: readers hanging up one after another wedged the panel.

The fake answers at once, so a cancellation after n turns of the event loop lands in every
part of an exchange: queued for a connection, connecting, sending, reading the answer, and
closing it.
"""

from __future__ import annotations

import asyncio

import pytest

from experts_panel.llm.openai_client import OpenAICompatibleClient
from experts_panel.llm.types import ChatMessage
from tests.support.fake_openai import FakeOpenAI

MODEL = "vendor/model-1"
QUESTION: list[ChatMessage] = [{"role": "user", "content": "Is SQLite enough for this?"}]

# Enough turns for a whole exchange against a fake on loopback, a few times over: on a quiet
# machine an exchange takes 20-60, and the clean-up near its end is hit many times. The fake
# serves from its own thread, so on a busy machine an exchange can take more turns of this
# loop (over 119 in one CI run, when no call finished and the sweep proved nothing): the sweep
# then goes on until some calls have finished before their cancellation, at most this far.
MIN_TURNS = 120
FINISHED_CALLS = 5
MAX_TURNS = 3000


@pytest.mark.parametrize("stream", [False, True], ids=["posted", "streamed"])
async def test_a_call_cancelled_anywhere_leaves_the_pool_usable(
    fake_openai: FakeOpenAI, stream: bool
) -> None:
    fake_openai.responder = lambda _body: "a short answer of a few words"
    # One connection: a single one lost shows at the next call.
    client = OpenAICompatibleClient(
        fake_openai.base_url, api_key="sk-test", timeout_s=3.0, max_in_flight=1, max_attempts=1
    )
    async with client:
        finished = cancelled = turns = 0
        while turns < MIN_TURNS or (finished < FINISHED_CALLS and turns < MAX_TURNS):
            call = asyncio.create_task(client.chat(QUESTION, MODEL, stream=stream))
            for _ in range(turns):
                await asyncio.sleep(0)
            call.cancel()
            try:
                await call
                finished += 1
            except asyncio.CancelledError:
                cancelled += 1
            # The next call gets the connection back, or a fresh one, at once.
            try:
                answer = await asyncio.wait_for(client.chat(QUESTION, MODEL, stream=stream), 2.0)
            except TimeoutError:
                pytest.fail(f"cancelled after {turns} turns, the next call waited 2 s in vain")
            assert answer.text == "a short answer of a few words", turns
            turns += 1
        # Cancellations landed before the answer as well as after it.
        assert cancelled > 0, "no call was cancelled before its answer"
        assert finished >= FINISHED_CALLS, f"{finished} calls finished within {turns} turns"
