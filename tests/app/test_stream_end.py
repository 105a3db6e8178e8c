"""A query's work ends with its stream, however the stream ends.

When the socket is gone, a server's `send` may fail (or hang) in the middle of an event. The
response is then abandoned at that point, with the stream's generator suspended where it last
yielded: its clean-up runs only when the generator is collected, and the failed send's
exception, which a server logs and keeps for a while, holds it (and the generator) alive.
The work must not wait for that: the response itself stops it when its ASGI call ends.
In-process, with the real fake model API on loopback; `asyncio_mode = auto` runs these.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from starlette.types import Message

from experts_panel.api.app import create_app
from experts_panel.settings import load_settings
from tests.support.fake_openai import Delay, FakeOpenAI, Reply, model_env
from tests.support.fake_openai import phase_answer as responder

QUESTION = "Как делать бэкапы SQLite?"


class SocketGone(OSError):
    pass


def _scope(body: bytes) -> dict[str, object]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v1/query",
        "raw_path": b"/api/v1/query",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def test_work_stops_when_a_send_fails_mid_stream(
    demo_path: Path, fake_openai: FakeOpenAI
) -> None:
    fake_openai.responder = lambda body: Delay(1.0, then=Reply(responder(body)))
    settings = load_settings(
        {"DATABASE_URL": f"sqlite+aiosqlite:///{demo_path}", **model_env(fake_openai)}
    )
    app = create_app(settings)
    body = json.dumps({"query": QUESTION}).encode()
    gone = asyncio.Event()
    bodies: list[bytes] = []

    async def receive() -> Message:
        if not bodies:
            bodies.append(b"")
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] != "http.response.body":
            return
        if any(b'"event_type":"phase_start"' in chunk for chunk in bodies):
            gone.set()
            raise SocketGone("the reader's socket is gone")
        bodies.append(message.get("body", b""))

    async with app.router.lifespan_context(app):
        with pytest.raises(BaseException) as failed:  # kept, as a server's error log keeps it
            await app(_scope(body), receive, send)
        assert gone.is_set(), bodies
        seen = len(fake_openai.requests)
        # Long enough for the later phases' 1 s calls, had the work gone on.
        await asyncio.sleep(3.0)
        after = len(fake_openai.requests)
        assert after <= seen + 3, (seen, after)  # only calls already on their way may arrive
        assert app.state.services.runs.running == 0
        del failed
