"""What a call to an OpenAI-compatible API sends and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from experts_panel.pipeline.model import Usage


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class ChatResult:
    text: str
    usage: Usage
    model: str
    finish_reason: str | None
