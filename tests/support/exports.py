"""Builders for Telegram Desktop exports in the real shape, for the tests' own fixtures."""

from __future__ import annotations

import json
import random
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


WORDS = (
    *("sqlite", "backup", "wal", "checkpoint", "restore", "podman", "nginx", "deploy"),
    *("budget", "tokens", "model", "answer", "бэкап", "модель", "ответ", "поиск"),
    *("индекс", "сервер", "копия", "запрос", "данные", "контекст"),
)


def large_channel(
    folder: Path, posts: int, comments_per_post: int, seed: int = 11
) -> tuple[Path, Path]:
    """A channel of `posts` posts and its discussion group, with every post's automatic copy
    and `comments_per_post` comments under it: exports big enough that importing them takes
    seconds, written without holding both whole in memory."""
    rng = random.Random(seed)
    channel_messages: list[dict[str, Any]] = []
    group_messages: list[dict[str, Any]] = []
    group_id = 0
    for i in range(1, posts + 1):
        text = f"Post {i}: " + " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 60)))
        post = message(i, at(i * 30), text)
        channel_messages.append(post)
        group_id += 1
        copy_id = group_id
        group_messages.append(
            message(
                copy_id,
                at(i * 30) + timedelta(seconds=2),
                text,
                forwarded_from="Channel",
                forwarded_from_id="channel1000000001",
            )
        )
        for k in range(comments_per_post):
            group_id += 1
            group_messages.append(
                message(
                    group_id,
                    at(i * 30 + k + 1),
                    " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 20))),
                    author=f"Reader {k}",
                    author_id=f"user{k}",
                    reply_to_message_id=copy_id,
                )
            )
    channel = write(folder / "channel.json", chat(channel_messages))
    group = write(
        folder / "group.json",
        chat(
            group_messages, name="Channel Chat", chat_type="public_supergroup", chat_id=1500000005
        ),
    )
    return channel, group


# A channel and its discussion group, with copies of its posts and comments under them.

CHANNEL = "Channel"
CHANNEL_KEY = "channel1000000001"
GROUP_ID = 1500000005


def channel_posts() -> list[dict[str, Any]]:
    return [
        message(10, at(0), "Why retrieval beats fine-tuning for a small team."),
        message(
            11,
            at(10),
            ["Backups: ", {"type": "code", "text": ".backup"}, " every night"],
            edited=at(50),
        ),
        message(12, at(20), "", photo="(File not included.)", width=10, height=10),
        message(13, at(30), "Costs of model APIs, measured over one month of traffic."),
    ]


def copy(
    message_id: int, post: dict[str, Any], delay_s: int = 2, with_id: bool = True, **kw: Any
) -> dict[str, Any]:
    when = datetime.fromtimestamp(int(post["date_unixtime"]), tz=UTC) + timedelta(seconds=delay_s)
    extra: dict[str, Any] = {"forwarded_from": CHANNEL}
    if with_id:
        extra["forwarded_from_id"] = CHANNEL_KEY
    extra.update(kw)
    return message(message_id, when, post["text"], author=CHANNEL, author_id=CHANNEL_KEY, **extra)


def user(
    message_id: int,
    minutes: float,
    text: str,
    reply_to: int | None,
    name: str = "Ann",
    uid: str = "user1",
) -> dict[str, Any]:
    extra: dict[str, Any] = {} if reply_to is None else {"reply_to_message_id": reply_to}
    return message(message_id, at(minutes), text, author=name, author_id=uid, **extra)


def discussion() -> list[dict[str, Any]]:
    posts = channel_posts()
    edited_11 = dict(posts[1])  # the copy carries the edited text, same as the post
    deleted = message(14, at(40), "A post the channel deleted later")
    return [
        service(400, at(-5), "join_group_by_link"),
        copy(501, posts[0]),
        copy(502, edited_11, with_id=False),  # older exports: the channel's name only
        copy(503, posts[2], photo="(File not included.)"),
        copy(504, posts[3], delay_s=3),
        copy(505, deleted),
        user(601, 1, "But fine-tuning wins on style.", 501),
        user(602, 2, "Style is a prompt problem.", 601, name="Bob", uid="user2"),
        message(
            603,
            at(3),
            "Both are right; see my next post.",
            author=CHANNEL,
            author_id=CHANNEL_KEY,
            reply_to_message_id=602,
        ),
        user(604, 11, "We restore monthly to test them.", 502),
        user(605, 21, "Nice picture", 503),
        user(606, 41, "Comment under the deleted post", 505),
        user(607, 42, "Anyone here use Podman?", None),
        user(608, 31, "Which provider was that?", 504, name="Cid", uid="user3"),
    ]
