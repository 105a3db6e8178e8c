"""HTTP clients of the query: one JSON answer (httpx), and streams read by httpx or by a lean
h11 client on bare asyncio connections."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from querybench.plan import EMBEDDED_QUESTIONS
from querybench.processes import BenchError


def ask(url: str, payload: dict[str, Any], timeout_s: float) -> tuple[float, dict[str, Any]]:
    """Wall seconds and the JSON answer of one query (`stream_progress: false`)."""
    started = time.perf_counter()
    try:
        response = httpx.post(f"{url}/api/v1/query", json=payload, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise BenchError(f"query {payload['query']!r}: {type(exc).__name__}: {exc}") from exc
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise BenchError(
            f"query {payload['query']!r}: HTTP {response.status_code}: {response.text}"
        )
    return elapsed, response.json()


@dataclass
class StreamResult:
    first_event_s: float | None = None
    done_s: float | None = None
    completed: bool = False
    error: str = ""

    def take(self, line: str, now: float) -> bool:
        """One line of the stream; True once the stream has said its last event."""
        if not line.startswith("data:"):
            return False  # blank separators and keep-alive comments
        if self.first_event_s is None:
            self.first_event_s = now
        event = json.loads(line[len("data:") :])
        if event["event_type"] not in ("complete", "error"):
            return False
        self.done_s = now
        self.completed = event["event_type"] == "complete"
        self.error = "" if self.completed else event["message"]
        return True


def query_body(question: str) -> bytes:
    return json.dumps({"query": question, "stream_progress": True}).encode()


async def httpx_stream(client: httpx.AsyncClient, url: str, question: str) -> StreamResult:
    result = StreamResult()
    started = time.perf_counter()
    try:
        async with client.stream(
            "POST",
            f"{url}/api/v1/query",
            content=query_body(question),
            headers={"Content-Type": "application/json"},
        ) as response:
            if response.status_code != 200:
                result.error = f"HTTP {response.status_code}"
                return result
            async for line in response.aiter_lines():
                if result.take(line, time.perf_counter() - started):
                    break
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


async def h11_stream(host: str, port: int, question: str) -> StreamResult:
    """One stream read through h11 (the HTTP/1.1 state machine under httpx and hypercorn) on
    a bare asyncio connection: on two shared cores httpx's own work for 50 streams at once is
    most of what a client measures, and a reader on another machine would not pay it here."""
    import h11

    result = StreamResult()
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        result.error = f"connect: {exc}"
        return result
    try:
        conn = h11.Connection(h11.CLIENT)
        body = query_body(question)
        head = h11.Request(
            method="POST",
            target="/api/v1/query",
            headers=[
                ("Host", f"{host}:{port}"),
                ("Content-Type", "application/json"),
                ("Accept", "text/event-stream"),
                ("Content-Length", str(len(body))),
            ],
        )
        writer.write(
            conn.send(head) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage())
        )
        pending = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
            elif isinstance(event, h11.Response) and event.status_code != 200:
                result.error = f"HTTP {event.status_code}"
                return result
            elif isinstance(event, h11.Data):
                *lines, pending = (pending + bytes(event.data)).split(b"\n")
                now = time.perf_counter() - started
                if any(result.take(line.decode().rstrip("\r"), now) for line in lines):
                    return result
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                result.error = "the stream ended before its last event"
                return result
    except (OSError, h11.ProtocolError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    finally:
        writer.close()


async def many_streams(
    url: str, streams: int, timeout_s: float, client: str
) -> tuple[list[StreamResult], float]:
    """`streams` concurrent queries, all sent at once, through `client` (h11 or httpx)."""
    questions = [EMBEDDED_QUESTIONS[i % len(EMBEDDED_QUESTIONS)] for i in range(streams)]
    if client == "h11":
        host, port = url.removeprefix("http://").rsplit(":", 1)
        started = time.perf_counter()
        async with asyncio.timeout(timeout_s):
            results = await asyncio.gather(*(h11_stream(host, int(port), q) for q in questions))
        return list(results), time.perf_counter() - started
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    async with httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), limits=limits) as pool:
        started = time.perf_counter()
        async with asyncio.timeout(timeout_s):
            results = await asyncio.gather(*(httpx_stream(pool, url, q) for q in questions))
        return list(results), time.perf_counter() - started


CLIENTS = {
    "h11": "h11 on asyncio streams, the lean client: the figure the target is read on",
    "httpx": "httpx.AsyncClient, as earlier runs measured: its own work on these cores included",
}
