"""Builders for Telegram Desktop exports in the real shape, for the tests' own fixtures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BASE = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return BASE + timedelta(minutes=minutes)


def _entities(text: str | list[Any]) -> list[dict[str, Any]]:
    if isinstance(text, str):
        return [{"type": "plain", "text": text}] if text else []
    return [{"type": "plain", "text": p} if isinstance(p, str) else dict(p) for p in text]


def message(
    message_id: int,
    when: datetime,
    text: str | list[Any] = "",
    *,
    author: str = "Channel",
    author_id: str = "channel1000000001",
    edited: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(when.timestamp())),
    }
    if edited is not None:
        out["edited"] = edited.strftime("%Y-%m-%dT%H:%M:%S")
        out["edited_unixtime"] = str(int(edited.timestamp()))
    out["from"] = author
    out["from_id"] = author_id
    out.update(extra)
    out["text"] = text
    out["text_entities"] = _entities(text)
    return out


def service(message_id: int, when: datetime, action: str = "pin_message") -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "service",
        "date": when.strftime("%Y-%m-%dT%H:%M:%S"),
        "date_unixtime": str(int(when.timestamp())),
        "actor": "Channel",
        "actor_id": "channel1000000001",
        "action": action,
        "text": "",
        "text_entities": [],
    }


def chat(
    messages: list[dict[str, Any]],
    name: str = "Channel",
    chat_type: str = "public_channel",
    chat_id: int = 1000000001,
) -> dict[str, Any]:
    return {"name": name, "type": chat_type, "id": chat_id, "messages": messages}


def write(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return path
