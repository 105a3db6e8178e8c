"""The query's event stream: read as a browser would, and by readers asking on and on."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx


def read_stream(response: httpx.Response) -> tuple[list[dict[str, Any]], list[str]]:
    """Events and comment lines, checking the framing as a browser's reader would."""
    events: list[dict[str, Any]] = []
    comments: list[str] = []
    for line in response.iter_lines():
        if line.startswith(":"):
            comments.append(line)
        elif line.startswith("data: "):
            payload = line[len("data: ") :]
            assert not payload.startswith("data:"), "doubled data: prefix"
            events.append(json.loads(payload))
        else:
            assert line == "", f"unexpected line {line!r}"
    return events, comments


QUESTIONS = ("Как делать бэкапы SQLite?", "How do I back up SQLite safely?")


@dataclass
class Outcome:
    ok: bool
    usage: dict[str, int]
    problem: str = ""


@dataclass
class Streams:
    """Readers asking one question after another until told to stop."""

    url: str
    timeout_s: float  # only a safety net against a hang: every wait ends on a state
    outcomes: list[Outcome] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, count: int) -> None:
        for n in range(count):
            thread = threading.Thread(target=self._read, args=(n,), name=f"stream-{n}")
            thread.start()
            self._threads.append(thread)

    def finished(self) -> int:
        with self._changed:
            return len(self.outcomes)

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(
                lambda: len(self.outcomes) >= count, timeout=self.timeout_s
            )

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout_s)

    def _read(self, n: int) -> None:
        question = QUESTIONS[n % len(QUESTIONS)]
        while not self._stop.is_set():
            outcome = self._ask(question)
            with self._changed:
                self.outcomes.append(outcome)
                self._changed.notify_all()

    def _ask(self, question: str) -> Outcome:
        try:
            with httpx.stream(
                "POST", f"{self.url}/api/v1/query", json={"query": question}, timeout=self.timeout_s
            ) as response:
                if response.status_code != 200:
                    return Outcome(False, {}, f"HTTP {response.status_code}")
                events, _ = read_stream(response)
        except httpx.HTTPError as exc:
            return Outcome(False, {}, f"{type(exc).__name__}: {exc}")
        failed = [e["message"] for e in events if e["event_type"] in ("error", "expert_error")]
        if not events or events[-1]["event_type"] != "complete":
            failed.append(f"the stream ended with {events[-1:]}")
        usage = events[-1]["data"]["response"]["usage"] if not failed else {}
        return Outcome(not failed, usage, "; ".join(line.splitlines()[0] for line in failed))
