"""What every model call returns and counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class Usage:
    """Token usage, added up per call, per expert and per query."""

    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.model_calls += other.model_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass(frozen=True)
class ChatResult:
    text: str
    usage: Usage
    model: str
    finish_reason: str | None


# Why a model call failed, as a reader is told: the provider could not be reached or kept
# failing, it refused the request, or its answer could not be used.
ModelErrorKind = Literal["unavailable", "refused", "bad_answer"]


class ModelError(Exception):
    """A model call failed for good (after its retries); the message says how, in one line.

    The message may quote the provider, so it goes to the log, never to a reader; `kind` is
    what a reader may be told. `spent` holds what the failed call still cost (answers that
    came back but could not be used), so budgets and usage figures count it.
    """

    def __init__(
        self,
        message: str,
        spent: Usage | None = None,
        kind: ModelErrorKind = "unavailable",
    ) -> None:
        super().__init__(message)
        self.spent = spent or Usage()
        self.kind: ModelErrorKind = kind
