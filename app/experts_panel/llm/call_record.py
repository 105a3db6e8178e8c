"""What one model call came to, as its metrics count it: handed to an observer, if any."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

# ok: the first attempt answered; retried: a later one did; timed_out: the last attempt ran out
# of time; failed: any other end without an answer.
CallOutcome = Literal["ok", "retried", "failed", "timed_out"]


@dataclass(frozen=True)
class CallRecord:
    model: str
    phase: str
    outcome: CallOutcome
    duration_s: float
    prompt_tokens: int
    completion_tokens: int


CallObserver = Callable[[CallRecord], None]
