"""A fake OpenAI-compatible chat-completions server: real HTTP on loopback, scripted behaviour.

It speaks the wire format clients meet in production (`chat.completion` objects, event streams of
`chat.completion.chunk` objects ending in `data: [DONE]`, OpenAI-style error bodies, OpenRouter's
`: OPENROUTER PROCESSING` comments and mid-stream errors), so a client is tested through its real
HTTP stack and not through patched functions.

Each request takes the next behaviour from the script; with the script empty, the responder (the
request's JSON in, the answer's text out) answers. Every request is recorded. `AUTHORIZATION` in
an answer's text or an error's message is replaced by the request's Authorization header, as a
provider that quotes it back would.

    fake_openai.script(HttpError(429, retry_after="1"), "the answer")
    fake_openai.responder = lambda body: "yes" if "cats" in str(body["messages"]) else "no"
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

PROCESSING_COMMENT = b": OPENROUTER PROCESSING\n\n"
# Stands for the request's Authorization header in what the fake answers.
AUTHORIZATION = "<<authorization>>"


@dataclass(frozen=True)
class Reply:
    """Answer `text`, as one object or as a stream, whichever the request asked for."""

    text: str
    # None: one token per word, of the request's messages and of the answer.
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str = "stop"
    # `: OPENROUTER PROCESSING` lines sent before the first chunk of a stream.
    comments: int = 0
    model: str | None = None  # None: the model the request named


@dataclass(frozen=True)
class HttpError:
    """Answer with an HTTP error status and an OpenAI-style error body."""

    status: int
    message: str = "The fake says no"
    retry_after: str | None = None  # the Retry-After header: seconds, or an HTTP date


@dataclass(frozen=True)
class Delay:
    """Wait, then answer with `then` (None: the responder's answer)."""

    seconds: float
    then: Behaviour | None = None


@dataclass(frozen=True)
class MidStreamError:
    """Start answering, then fail the way OpenRouter does once the status line is sent.

    In a stream: some content, then a chunk with an `error` object and `finish_reason: "error"`,
    and the stream ends without `[DONE]`. Not streaming: status 200 with an error body.
    """

    message: str = "Provider disconnected unexpectedly"
    partial_text: str = "The answer is"


Behaviour = Reply | HttpError | Delay | MidStreamError
Responder = Callable[[dict[str, Any]], str | Behaviour]


def fenced_json(payload: Any, prose: str = "Here is the JSON:") -> Reply:
    """JSON the way chatty models send it in spite of json_mode: in a ```json fence, with prose."""
    return Reply(f"{prose}\n```json\n{json.dumps(payload)}\n```\n")


def answer_ok(_body: dict[str, Any]) -> str:
    return "OK"


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]
    arrived_at: float  # time.monotonic()

    @property
    def model(self) -> str:
        return str(self.body["model"])

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(self.body["messages"])

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream", False))


class FakeOpenAI:
    """The server; `base_url` ends in /v1, as a client's configuration would.

    `responder`, `latency_s` and `required_api_key` may be changed while it runs.
    """

    def __init__(
        self,
        responder: Responder = answer_ok,
        latency_s: float = 0.0,
        required_api_key: str | None = None,
        keep_alive_s: float | None = None,
    ) -> None:
        self.responder = responder
        self.latency_s = latency_s  # added to every request before its behaviour
        self.required_api_key = required_api_key  # when set, other keys get OpenAI's 401
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self._script: deque[Behaviour] = deque()
        # The test's thread scripts and reads; the server's thread consumes and counts.
        self._lock = threading.Lock()
        self._in_flight = 0
        self._max_in_flight = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        # How long an idle connection is kept open (None: hypercorn's default, 5 s).
        self._keep_alive_s = keep_alive_s

    def script(self, *behaviours: Behaviour | str) -> None:
        """Queue behaviours, one per request in arrival order; a string is a `Reply`."""
        with self._lock:
            self._script.extend(Reply(b) if isinstance(b, str) else b for b in behaviours)

    @property
    def max_in_flight(self) -> int:
        """The most requests the server was handling at one time (streams until their end)."""
        with self._lock:
            return self._max_in_flight

    @property
    def pending_script(self) -> int:
        with self._lock:
            return len(self._script)

    def start(self) -> None:
        # Bound and listening before the thread starts: connections made before hypercorn
        # accepts wait in the backlog instead of being refused.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn takes it over and closes it
        config.graceful_timeout = 2.0
        if self._keep_alive_s is not None:
            config.keep_alive_timeout = self._keep_alive_s
        config.accesslog = None
        config.errorlog = logging.getLogger("tests.fake_openai")
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(config, started), name="fake-openai", daemon=True
        )
        self._thread.start()
        if not started.wait(timeout=10):
            raise RuntimeError("the fake OpenAI server's loop did not start")

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=15)
        if self._thread.is_alive():
            raise RuntimeError("the fake OpenAI server did not stop within 15 s")
        self._thread = None
        if self._failure is not None:
            raise RuntimeError("the fake OpenAI server failed") from self._failure

    def __enter__(self) -> FakeOpenAI:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, config: Config, started: threading.Event) -> None:
        try:
            asyncio.run(self._serve(config, started))
        except BaseException as exc:
            self._failure = exc
            started.set()

    async def _serve(self, config: Config, started: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        # One event both stops the server and wakes delayed answers, so stopping never waits
        # for a delay whose client has long given up.
        self._stopping = asyncio.Event()
        started.set()
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        counted = _InFlight(app, self._enter, self._leave)
        await serve(counted, config, shutdown_trigger=self._stopping.wait)  # type: ignore[arg-type]

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    async def _chat(self, request: Request) -> Response:
        arrived_at = time.monotonic()
        try:
            body = await request.json()
        except ValueError:
            return _error_response(HttpError(400, "We could not parse the JSON body"))
        except ClientDisconnect:
            return Response(status_code=499)  # the client gave up before sending it all
        self.requests.append(
            RecordedRequest(
                path=request.url.path,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                arrived_at=arrived_at,
            )
        )
        key = self.required_api_key
        if key is not None and request.headers.get("authorization") != f"Bearer {key}":
            return _error_response(HttpError(401, "Incorrect API key provided"))
        if not isinstance(body, dict) or "model" not in body or "messages" not in body:
            return _error_response(HttpError(400, "'model' and 'messages' are required"))
        if self.latency_s:
            await self._pause(self.latency_s)
        behaviour = _quoting(self._next(body), request.headers.get("authorization", ""))
        return await self._play(behaviour, body)

    def _next(self, body: dict[str, Any]) -> Behaviour:
        with self._lock:
            if self._script:
                return self._script.popleft()
        answer = self.responder(body)
        return Reply(answer) if isinstance(answer, str) else answer

    async def _play(self, behaviour: Behaviour, body: dict[str, Any]) -> Response:
        if isinstance(behaviour, Delay):
            await self._pause(behaviour.seconds)
            then = behaviour.then
            if then is None:
                answer = self.responder(body)
                then = Reply(answer) if isinstance(answer, str) else answer
            return await self._play(then, body)
        if isinstance(behaviour, HttpError):
            return _error_response(behaviour)
        stream = bool(body.get("stream", False))
        if isinstance(behaviour, MidStreamError):
            if stream:
                return _event_stream(_failing_stream(behaviour, body))
            return JSONResponse(_mid_stream_error(behaviour, body))
        if stream:
            return _event_stream(_answer_stream(behaviour, body))
        return JSONResponse(_completion(behaviour, body))

    async def _pause(self, seconds: float) -> None:
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _quoting(behaviour: Behaviour, authorization: str) -> Behaviour:
    if isinstance(behaviour, Reply):
        return replace(behaviour, text=behaviour.text.replace(AUTHORIZATION, authorization))
    if isinstance(behaviour, HttpError):
        return replace(behaviour, message=behaviour.message.replace(AUTHORIZATION, authorization))
    if isinstance(behaviour, MidStreamError):
        return replace(behaviour, message=behaviour.message.replace(AUTHORIZATION, authorization))
    if isinstance(behaviour, Delay) and behaviour.then is not None:
        return replace(behaviour, then=_quoting(behaviour.then, authorization))
    return behaviour


class _InFlight:
    """Counts a request until its response has been sent in full, streams included."""

    def __init__(self, app: ASGIApp, enter: Callable[[], None], leave: Callable[[], None]) -> None:
        self._app = app
        self._enter = enter
        self._leave = leave

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        self._enter()
        try:
            await self._app(scope, receive, send)
        finally:
            self._leave()


def _words(text: str) -> int:
    return len(text.split())


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    prompt = reply.prompt_tokens
    if prompt is None:
        prompt = sum(_words(str(m.get("content", ""))) for m in body["messages"])
    completion = reply.completion_tokens
    if completion is None:
        completion = _words(reply.text)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _envelope(kind: str, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_fake",
    }


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    return {
        **_envelope("chat.completion", reply.model or body["model"]),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text, "refusal": None},
                "logprobs": None,
                "finish_reason": reply.finish_reason,
            }
        ],
        "usage": _usage(reply, body),
    }


def _frame(payload: dict[str, Any] | str) -> bytes:
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"data: {data}\n\n".encode()


def _pieces(text: str) -> list[str]:
    # Word by word, as models stream, so a client must join chunks to get the answer back.
    return re.findall(r"\s*\S+\s*", text) or ([text] if text else [])


def _wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options") or {}
    return bool(options.get("include_usage", False))


def _chunk(
    envelope: dict[str, Any],
    delta: dict[str, Any],
    finish_reason: str | None,
    with_usage_field: bool,
) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        **envelope,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if with_usage_field:
        # OpenAI sends "usage": null on every chunk but the last when usage is asked for.
        chunk["usage"] = None
    return chunk


async def _answer_stream(reply: Reply, body: dict[str, Any]) -> AsyncIterator[bytes]:
    for _ in range(reply.comments):
        yield PROCESSING_COMMENT
        await asyncio.sleep(0.01)
    envelope = _envelope("chat.completion.chunk", reply.model or body["model"])
    usage = _wants_usage(body)
    yield _frame(_chunk(envelope, {"role": "assistant", "content": ""}, None, usage))
    for piece in _pieces(reply.text):
        yield _frame(_chunk(envelope, {"content": piece}, None, usage))
    yield _frame(_chunk(envelope, {}, reply.finish_reason, usage))
    if usage:
        yield _frame({**envelope, "choices": [], "usage": _usage(reply, body)})
    yield _frame("[DONE]")


async def _failing_stream(failure: MidStreamError, body: dict[str, Any]) -> AsyncIterator[bytes]:
    envelope = _envelope("chat.completion.chunk", body["model"])
    yield _frame(_chunk(envelope, {"role": "assistant", "content": ""}, None, False))
    for piece in _pieces(failure.partial_text):
        yield _frame(_chunk(envelope, {"content": piece}, None, False))
    yield _frame(
        {
            **_chunk(envelope, {"content": ""}, "error", False),
            "provider": "fake",
            "error": {"code": "server_error", "message": failure.message},
        }
    )


def _mid_stream_error(failure: MidStreamError, body: dict[str, Any]) -> dict[str, Any]:
    return {
        **_envelope("chat.completion", body["model"]),
        "error": {"code": "server_error", "message": failure.message},
        "choices": [],
    }


def _event_stream(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


_ERROR_TYPES = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


def _error_response(error: HttpError) -> JSONResponse:
    kind, code = _ERROR_TYPES.get(error.status, ("server_error", None))
    headers = {} if error.retry_after is None else {"Retry-After": error.retry_after}
    return JSONResponse(
        {"error": {"message": error.message, "type": kind, "param": None, "code": code}},
        status_code=error.status,
        headers=headers,
    )


@pytest.fixture(name="fake_openai")
def fake_openai_fixture() -> Iterator[FakeOpenAI]:
    """A running fake for one test; import this into a test module or conftest to use it."""
    with FakeOpenAI() as server:
        yield server


PHASE_MODELS = {
    # A model id per phase, so `phase_answer` can tell the phases apart.
    "MODEL_MAP": "test/map",
    "MODEL_MEDIUM_SCORING": "test/medium",
    "MODEL_REDUCE": "test/reduce",
    "MODEL_TRANSLATION": "test/translate",
    "MODEL_COMMENT_GROUPS": "test/groups",
    "MODEL_COMMENT_SYNTHESIS": "test/synthesis",
    "MODEL_MODERATOR": "test/moderator",
}


def model_env(fake: FakeOpenAI, **extra: str) -> dict[str, str]:
    """The settings that point the service at `fake`, a model per phase."""
    return {
        "OPENROUTER_API_KEY": "sk-test-key",
        "OPENROUTER_BASE_URL": fake.base_url,
        **PHASE_MODELS,
        **extra,
    }


def shown_ids(body: dict[str, Any]) -> list[int]:
    prompt = body["messages"][-1]["content"]
    return [int(i) for i in dict.fromkeys(re.findall(r"\[post:(\d+)\]", prompt))]


def qualified_shown(body: dict[str, Any]) -> dict[str, list[int]]:
    """The `[post:EXPERT_ID/ID]` citations of the answers shown to the moderator, by expert."""
    prompt = body["messages"][-1]["content"]
    shown: dict[str, list[int]] = {}
    for expert, post in re.findall(r"\[post:([a-z0-9_-]+)/(\d+)\]", prompt):
        ids = shown.setdefault(expert, [])
        if int(post) not in ids:
            ids.append(int(post))
    return shown


def moderator_synthesis(body: dict[str, Any]) -> str:
    """What the fake moderator writes: agreement citing each expert's first post, then three
    citations the pipeline must remove: a post never shown (`[post:FIRST/999999]`), the first
    expert's post named as the second's, and a bare `[post:ID]`."""
    shown = qualified_shown(body)
    first, second = list(shown)[:2]
    agree = " ".join(f"[post:{expert}/{ids[0]}]" for expert, ids in shown.items())
    borrowed = shown[first][0]
    return (
        f"**Согласны**\n\n- бэкапы нужны {agree}\n\n**Расходятся**\n\n"
        f"- как часто [post:{first}/999999] [post:{second}/{borrowed}] [post:{borrowed}]"
    )


TRANSLATE_PROMPT = re.compile(r"\ATranslate into (\w+):\n\n(.*)\Z", re.DOTALL)


def fake_translation(body: dict[str, Any]) -> str:
    """A "translation" that keeps what a translation must (markers, links, code), marked with
    the language it was asked for so a reader can tell it from the original:
    `(English) <the source>`."""
    for message in body["messages"]:  # the first user message: a correction comes after it
        found = TRANSLATE_PROMPT.match(str(message["content"]))
        if message["role"] == "user" and found is not None:
            return f"({found.group(1)}) {found.group(2)}"
    raise ValueError("not a translation prompt")


def phase_answer(body: dict[str, Any]) -> str:
    """A plausible JSON answer for each phase of the pipeline, told apart by `PHASE_MODELS`.

    The first two posts shown are HIGH, the next MEDIUM; reduce also cites a post that was
    never shown ([post:999999]), which the pipeline must remove; translation is
    `fake_translation`.
    """
    ids = shown_ids(body)
    model = body["model"]
    if model == "test/map":
        labels = ["HIGH", "HIGH", "MEDIUM"]
        verdicts = [
            {"id": i, "relevance": labels[n] if n < 3 else "LOW", "reason": "по теме"}
            for n, i in enumerate(ids)
        ]
        return json.dumps({"posts": verdicts})
    if model == "test/medium":
        return json.dumps({"scores": [{"id": i, "score": 0.9} for i in ids]})
    if model == "test/reduce":
        cited = " ".join(f"[post:{i}]" for i in ids[:4])
        answer = f"Я делаю бэкапы командой .backup {cited}, как писал [post:999999]."
        return json.dumps(
            {"answer": answer, "main_sources": ids[:1], "confidence": "HIGH", "language": "ru"}
        )
    if model == "test/translate":
        return json.dumps({"text": fake_translation(body)})
    if model == "test/groups" and "has_drift" not in body["messages"][0]["content"]:
        return json.dumps({"post_ids": []})
    if model == "test/moderator":
        return json.dumps({"synthesis": moderator_synthesis(body)}, ensure_ascii=False)
    if model == "test/synthesis":
        return json.dumps({"synthesis": f"**Что добавляет сообщество**\n\n- совет [post:{ids[0]}]"})
    return json.dumps(
        {"has_drift": True, "topics": [{"topic": "ноутбуки", "keywords": ["ноутбук"]}]}
    )
