"""A client for any OpenAI-compatible chat-completions API: OpenRouter, llama.cpp's server, vLLM.

One `httpx.AsyncClient` per client; a semaphore bounds the calls in flight, so a query that fans
out to many experts cannot open more connections than the provider tolerates. Failures that a
later attempt may not see (rate limits, overloaded upstreams, dropped connections, time-outs,
errors in the middle of a stream) are retried with backoff; the rest fail at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from httpx_sse import aconnect_sse
from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from experts_panel.cancellation import cancel_once
from experts_panel.llm.call_record import CallObserver, CallOutcome, CallRecord
from experts_panel.llm.call_watch import Attempt, CallWatch, FailureKind
from experts_panel.llm.types import ChatMessage, ChatResult
from experts_panel.logs import get_logger
from experts_panel.pipeline.call_phase import current_phase
from experts_panel.pipeline.model import ModelError, Usage
from experts_panel.redaction import Redactor
from experts_panel.settings import Settings

T = TypeVar("T", bound=BaseModel)

# 408 is the provider saying it timed out, which is as transient as our own time-out.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Long provider messages (OpenRouter quotes the upstream's whole body) would drown the log line.
_MAX_MESSAGE_CHARS = 300

log = get_logger(__name__)


class _AttemptFailed(Exception):
    """An attempt failed in a way the next one may not."""

    def __init__(self, reason: str, kind: FailureKind, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.retry_after_s = retry_after_s


# The wire format, as far as it is read. Fields are optional because the servers differ: llama.cpp
# and vLLM leave out what OpenRouter sends, and chunks carry only the part that changed.
class _WireUsage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _WireText(BaseModel):
    content: str | None = None


class _WireChoice(BaseModel):
    message: _WireText | None = None
    delta: _WireText | None = None
    finish_reason: str | None = None


class _WireCompletion(BaseModel):
    """A `chat.completion` object, or one `chat.completion.chunk` of a stream."""

    model: str | None = None
    choices: list[_WireChoice] | None = None
    usage: _WireUsage | None = None


class OpenAICompatibleClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        timeout_s: float,
        max_in_flight: int,
        *,
        max_attempts: int = 4,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        app_title: str | None = None,
        app_url: str | None = None,
        observer: CallObserver | None = None,
    ) -> None:
        if max_in_flight < 1 or max_attempts < 1:
            raise ValueError("max_in_flight and max_attempts must be at least 1")
        self._url = base_url.rstrip("/") + "/chat/completions"
        # A mistyped base URL is a configuration error, better said at start-up than per call.
        if httpx.URL(self._url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        # Told of every call's end (the metrics); nothing is kept here.
        self._observer = observer
        # Slots, progress and the provider's recent answers, for /health.
        self.calls = CallWatch(
            max_in_flight,
            stall_after_s=max_attempts * timeout_s + (max_attempts - 1) * backoff_max_s,
        )
        # The key lives only in the HTTP client's headers, so no repr or log line can show it;
        # what the provider sends back (errors, answers) is redacted before it goes further,
        # in case the provider quotes it.
        self._redact = Redactor.of([api_key])
        headers: dict[str, str] = {}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        if app_title:
            headers["X-Title"] = app_title
        if app_url:
            headers["HTTP-Referer"] = app_url
        if not all(value.isascii() for value in headers.values()):
            # httpx would fail with a bare UnicodeEncodeError; a Cyrillic title is the likely cause.
            raise ValueError("api_key, app_title and app_url must be ASCII: they are HTTP headers")
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            # The semaphore already bounds the calls; the pool must not queue them a second time.
            limits=httpx.Limits(
                max_connections=max_in_flight, max_keepalive_connections=max_in_flight
            ),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def chat(
        self,
        messages: Sequence[ChatMessage],
        model: str,
        *,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        json_mode: bool = False,
        stream: bool = False,
    ) -> ChatResult:
        body: dict[str, Any] = {
            "model": model,
            "messages": list(messages),
            "temperature": temperature,
            "stream": stream,
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if json_mode:
            body["response_format"] = {"type": "json_object"}
        if stream:
            body["stream_options"] = {"include_usage": True}

        started = time.monotonic()
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_AttemptFailed),
            before_sleep=partial(_log_retry, model),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    result = await self._attempt(body, model, stream)
        except _AttemptFailed as exc:
            _log_failure(model, attempts, started, exc.reason)
            self._observe(model, "timed_out" if exc.kind == "timeout" else "failed", started)
            raise ModelError(
                f"{model}: failed after {attempts} attempts; last error: {exc.reason}",
                kind="refused" if exc.kind == "refused" else "unavailable",
            ) from exc
        except ModelError as exc:
            _log_failure(model, attempts, started, str(exc))
            self._observe(model, "failed", started, exc.spent)
            raise
        self._observe(model, "ok" if attempts == 1 else "retried", started, result.usage)
        log.info(
            "model call",
            model=model,
            attempts=attempts,
            prompt_tokens=result.usage.prompt_tokens,
            completion_tokens=result.usage.completion_tokens,
            duration_s=round(time.monotonic() - started, 3),
            stream=stream,
            finish_reason=result.finish_reason,
        )
        return result

    def _observe(
        self, model: str, outcome: CallOutcome, started: float, usage: Usage | None = None
    ) -> None:
        if self._observer is None:
            return
        spent = usage or Usage()
        self._observer(
            CallRecord(
                model=model,
                phase=current_phase.get(),
                outcome=outcome,
                duration_s=time.monotonic() - started,
                prompt_tokens=spent.prompt_tokens,
                completion_tokens=spent.completion_tokens,
            )
        )

    async def chat_json(
        self,
        messages: Sequence[ChatMessage],
        model: str,
        schema: type[T],
        *,
        temperature: float = 0.2,
        max_tokens: int | None = None,
        stream: bool = False,
    ) -> tuple[T, Usage]:
        """Ask for JSON and validate it; a bad answer gets one correction, shown its error."""
        usage = Usage()
        first = await self.chat(
            messages,
            model,
            temperature=temperature,
            max_tokens=max_tokens,
            json_mode=True,
            stream=stream,
        )
        usage.add(first.usage)
        try:
            return parse_json_answer(first.text, schema), usage
        except ValidationError as exc:
            problem = describe_validation_error(exc)
        log.info("model answer rejected, asking for a correction", model=model, problem=problem)
        corrected: list[ChatMessage] = [
            *messages,
            {"role": "assistant", "content": first.text},
            {
                "role": "user",
                "content": (
                    f"Your answer could not be used: {problem}. Reply again with only the JSON "
                    "object, as asked, and no other text."
                ),
            },
        ]
        second = await self.chat(
            corrected,
            model,
            temperature=temperature,
            max_tokens=max_tokens,
            json_mode=True,
            stream=stream,
        )
        usage.add(second.usage)
        try:
            return parse_json_answer(second.text, schema), usage
        except ValidationError as exc:
            raise ModelError(
                f"{model}: answer is not a valid {schema.__name__} even after a correction: "
                f"{describe_validation_error(exc)}",
                spent=usage,
                kind="bad_answer",
            ) from exc

    def _wait(self, state: RetryCallState) -> float:
        # Jitter spreads the retries of calls that failed together (one 429 for a whole fan-out).
        ceiling = min(
            self._backoff_max_s, self._backoff_base_s * 2 ** min(state.attempt_number - 1, 30)
        )
        wait = random.uniform(ceiling / 2, ceiling)
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _AttemptFailed) and failure.retry_after_s is not None:
            wait = max(wait, min(failure.retry_after_s, self._backoff_max_s))
        return wait

    async def _attempt(self, body: dict[str, Any], model: str, stream: bool) -> ChatResult:
        # A slot is held for one attempt only: a call waiting out its backoff leaves it to others.
        async with self.calls.attempt() as attempt:
            try:
                # httpx's time-out applies to each read, so a stream that trickles could last for
                # ever; this one bounds the whole attempt. The exchange is cancelled once, so
                # httpx always finishes closing or handing back its connection.
                async with asyncio.timeout(self._timeout_s):
                    result = await cancel_once(self._exchange(body, model, stream, attempt))
            except (TimeoutError, httpx.TimeoutException) as exc:
                attempt.failed("timeout")
                raise _AttemptFailed(f"timed out after {self._timeout_s:g} s", "timeout") from exc
            except (httpx.NetworkError, httpx.RemoteProtocolError, httpx.ProxyError) as exc:
                attempt.failed("connection")
                raise _AttemptFailed(
                    f"connection error: {self._redact(_exception_text(exc))}", "connection"
                ) from exc
            except httpx.HTTPError as exc:
                attempt.failed("connection")
                raise ModelError(
                    f"{model}: request failed: {self._redact(_exception_text(exc))}",
                    kind="unavailable",
                ) from exc
            except _AttemptFailed as exc:
                attempt.failed(exc.kind)
                raise
            except ModelError:
                attempt.failed("refused")
                raise
            attempt.succeeded()
            return result

    async def _exchange(
        self, body: dict[str, Any], model: str, stream: bool, attempt: Attempt
    ) -> ChatResult:
        extensions = {"trace": attempt.trace}
        if stream:
            return await self._streamed(body, model, extensions)
        return await self._posted(body, model, extensions)

    async def _posted(
        self, body: dict[str, Any], model: str, extensions: dict[str, Any]
    ) -> ChatResult:
        response = await self._http.post(self._url, json=body, extensions=extensions)
        if not response.is_success:
            raise _status_failure(response, model, self._redact)
        try:
            payload = response.json()
        except ValueError as exc:
            raise _AttemptFailed(
                f"response is not JSON: {_one_line(self._redact(response.text))}", "bad_answer"
            ) from exc
        # OpenRouter answers 200 with an error object when the upstream fails after it started.
        error = _error_message(payload)
        if error is not None:
            raise _AttemptFailed(f"provider error: {self._redact(error)}", "server_error")
        completion = _completion(payload)
        choice = completion.choices[0] if completion.choices else None
        if choice is None or choice.message is None:
            raise _AttemptFailed("response has no message", "bad_answer")
        if choice.finish_reason == "error":
            raise _AttemptFailed("provider error: finish_reason is error", "server_error")
        return ChatResult(
            text=self._redact(choice.message.content or ""),
            usage=_usage(completion.usage),
            model=completion.model or model,
            finish_reason=choice.finish_reason,
        )

    async def _streamed(
        self, body: dict[str, Any], model: str, extensions: dict[str, Any]
    ) -> ChatResult:
        async with aconnect_sse(
            self._http, "POST", self._url, json=body, extensions=extensions
        ) as source:
            response = source.response
            if not response.is_success:
                await response.aread()
                raise _status_failure(response, model, self._redact)
            content_type = response.headers.get("content-type", "")
            if "text/event-stream" not in content_type:
                got = _one_line(self._redact(content_type)) or "no type"
                raise ModelError(f"{model}: asked for a stream, got {got}", kind="refused")
            parts: list[str] = []
            usage: _WireUsage | None = None
            served_model: str | None = None
            finish_reason: str | None = None
            done = False
            # Closed here, while the response is still open, rather than later by the collector.
            async with aclosing(source.aiter_sse()) as events:
                async for event in events:
                    if event.data == "[DONE]":
                        done = True
                        break
                    try:
                        payload = json.loads(event.data)
                    except ValueError as exc:
                        chunk_text = _one_line(self._redact(event.data))
                        raise _AttemptFailed(
                            f"stream chunk is not JSON: {chunk_text!r}", "bad_answer"
                        ) from exc
                    error = _error_message(payload)
                    if error is not None:
                        raise _AttemptFailed(
                            f"error mid-stream: {self._redact(error)}", "server_error"
                        )
                    chunk = _completion(payload)
                    served_model = chunk.model or served_model
                    usage = chunk.usage or usage
                    if chunk.choices:
                        choice = chunk.choices[0]
                        if choice.delta is not None and choice.delta.content:
                            parts.append(choice.delta.content)
                        finish_reason = choice.finish_reason or finish_reason
                    if finish_reason == "error":
                        raise _AttemptFailed(
                            "error mid-stream: finish_reason is error", "server_error"
                        )
        if not done and finish_reason is None:
            raise _AttemptFailed("stream ended before the answer did", "connection")
        return ChatResult(
            text=self._redact("".join(parts)),
            usage=_usage(usage),
            model=served_model or model,
            finish_reason=finish_reason,
        )


def parse_json_answer(text: str, schema: type[T]) -> T:
    """Validate a model's answer, forgiving the usual wrapping: code fences, a sentence around it.

    Raises pydantic's `ValidationError`, also when there is no JSON at all.
    """
    return schema.model_validate_json(extract_json_object(text))


_FENCE = re.compile(r"```[\w-]*[ \t]*\n?(.*?)```", re.DOTALL)


def extract_json_object(text: str) -> str:
    candidate = text.strip()
    # An answer that already is an object may hold ``` inside its strings; only look for a fence
    # when something else comes first.
    if not candidate.startswith("{"):
        fenced = _FENCE.search(candidate)
        if fenced is not None:
            candidate = fenced.group(1).strip()
    start, end = candidate.find("{"), candidate.rfind("}")
    if start != -1 and end > start:
        return candidate[start : end + 1]
    return candidate


def describe_validation_error(exc: ValidationError) -> str:
    """One line a model can act on: where and what, without pydantic's links."""
    problems = []
    for error in exc.errors(include_url=False)[:5]:
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(problems)


def _completion(payload: Any) -> _WireCompletion:
    try:
        return _WireCompletion.model_validate(payload)
    except ValidationError as exc:
        raise _AttemptFailed(
            f"malformed response: {describe_validation_error(exc)}", "bad_answer"
        ) from exc


def _usage(wire: _WireUsage | None) -> Usage:
    if wire is None:
        return Usage(model_calls=1)
    return Usage(
        model_calls=1,
        prompt_tokens=wire.prompt_tokens or 0,
        completion_tokens=wire.completion_tokens or 0,
    )


def _status_failure(response: httpx.Response, model: str, redact: Redactor) -> Exception:
    try:
        message = _error_message(response.json()) or response.text
    except ValueError:
        message = response.text
    message = redact(message)  # before it is cut short, which could leave half a key
    reason = f"HTTP {response.status_code}"
    if message:
        reason += f": {_one_line(message)}"
    if response.status_code in RETRY_STATUSES:
        kind: FailureKind = "rate_limited" if response.status_code == 429 else "server_error"
        return _AttemptFailed(reason, kind, _retry_after_s(response.headers.get("retry-after")))
    return ModelError(f"{model}: {reason} (not retried)", kind="refused")


def _error_message(payload: Any) -> str | None:
    """The provider's message from an error body; `None` when the body is not an error."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        message = str(error.get("message") or error.get("code") or "unknown error")
        metadata = error.get("metadata")
        # OpenRouter's own message is often just "Provider returned error"; the upstream's is here.
        if isinstance(metadata, dict) and isinstance(metadata.get("raw"), str):
            message += f" ({metadata['raw']})"
        return message
    # vLLM's older servers and FastAPI-based ones put the message at the top level.
    if payload.get("object") == "error" and isinstance(payload.get("message"), str):
        return str(payload["message"])
    if isinstance(payload.get("detail"), str):
        return str(payload["detail"])
    return None


def _retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds to wait: it may be a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE_CHARS else flat[: _MAX_MESSAGE_CHARS - 1] + "…"


def _exception_text(exc: BaseException) -> str:
    detail = _one_line(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _log_retry(model: str, state: RetryCallState) -> None:
    failure = state.outcome.exception() if state.outcome is not None else None
    log.debug(
        "model call attempt failed, retrying",
        model=model,
        attempt=state.attempt_number,
        error=failure.reason if isinstance(failure, _AttemptFailed) else repr(failure),
        wait_s=round(state.upcoming_sleep, 3),
    )


def _log_failure(model: str, attempts: int, started: float, error: str) -> None:
    log.warning(
        "model call failed",
        model=model,
        attempts=attempts,
        error=error,
        duration_s=round(time.monotonic() - started, 3),
    )


def client_from_settings(
    settings: Settings, observer: CallObserver | None = None
) -> OpenAICompatibleClient | None:
    """The model API client the settings describe, or None when no key is set."""
    key = settings.OPENROUTER_API_KEY
    if key is None or not settings.openrouter_configured:
        return None
    return OpenAICompatibleClient(
        str(settings.OPENROUTER_BASE_URL).rstrip("/"),
        key.get_secret_value(),
        timeout_s=settings.MODEL_TIMEOUT,
        max_in_flight=settings.MAX_CONCURRENT_MODEL_CALLS,
        max_attempts=settings.MODEL_MAX_ATTEMPTS,
        app_title="Experts Panel",
        observer=observer,
    )
