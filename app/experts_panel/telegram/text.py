"""Telegram message text: flattening the export's `text` field and finding t.me references."""

from __future__ import annotations

import re
from typing import NamedTuple

# t.me/<username>/<id>, t.me/s/<username>/<id> and the private form t.me/c/<channel id>/<id>.
# The pattern starts at the literal ".me/" so the scan is fast; what precedes it is checked
# apart (t.me, telegram.me, www.t.me; not e.g. "chat.me/").
# (IGNORECASE would turn off that scan; hosts are lower case in practice.)
# Ids are at most 18 digits (a 64-bit integer holds every one): a longer number is no post.
_POST_LINK = re.compile(
    r"\.me/(?:c/(\d{1,18})|(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31}))/(\d{1,18})(?!\d)"
)
_HOST_BEFORE = re.compile(r"(?:^|[^\w.]|www\.)(?:t|telegram)$", re.IGNORECASE)


class TextShapeError(ValueError):
    """`text` is neither a string nor a list of strings and entity objects."""


def json_kind(value: object) -> str:
    """How JSON would name the value's type, for messages about export files."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)) or type(value).__name__ == "Decimal":
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def flatten_text(text: object) -> tuple[str, list[str]]:
    """Flatten an export's `text` into one string that keeps links and code.

    Returns the text (`text_link` entities become Markdown links, code stays marked as code)
    and the `@mentions` in it.
    """
    if isinstance(text, str):
        return text, []
    if not isinstance(text, list):
        raise TextShapeError(f"text is {json_kind(text)}, expected a string or a list")
    parts: list[str] = []
    mentions: list[str] = []
    for piece in text:
        if isinstance(piece, str):
            parts.append(piece)
            continue
        if not isinstance(piece, dict):
            raise TextShapeError(
                f"text holds {json_kind(piece)}, expected strings and entity objects"
            )
        body = piece.get("text", "")
        if not isinstance(body, str):
            raise TextShapeError(f"a {piece.get('type')!r} entity's text is not a string")
        kind = piece.get("type")
        if kind == "text_link" and isinstance(piece.get("href"), str):
            parts.append(f"[{body}]({piece['href']})")
        elif kind == "code":
            parts.append(f"`{body}`")
        elif kind == "pre":
            language = piece.get("language") or ""
            parts.append(f"\n```{language}\n{body}\n```\n")
        else:
            if kind == "mention":
                mentions.append(body)
            parts.append(body)
    return "".join(parts), mentions


class PostReference(NamedTuple):
    """A reference to a channel post: by public username, or by numeric channel id.

    A named tuple rather than a frozen dataclass: one is made for every link in every post.
    """

    message_id: int
    username: str | None = None
    channel_id: int | None = None

    def is_of(self, username: str | None, channel_id: int | None) -> bool:
        if self.username is not None:
            return username is not None and self.username.lower() == username.lower()
        return channel_id is not None and self.channel_id == channel_id

    def as_metadata(self) -> dict[str, object]:
        where: dict[str, object] = (
            {"channel": self.username} if self.username else {"channel_id": self.channel_id}
        )
        return {**where, "message_id": self.message_id}


def find_post_references(text: str) -> list[PostReference]:
    """Every t.me post reference in a flattened text, first occurrence first.

    `flatten_text` keeps link targets in the text, so the text alone has them all.
    """
    seen: dict[tuple[object, ...], PostReference] = {}
    for source in (text,):
        if ".me/" not in source:
            continue
        for match in _POST_LINK.finditer(source):
            if not _HOST_BEFORE.search(source, max(0, match.start() - 13), match.start()):
                continue
            private_id, username, message_id = match.groups()
            if private_id is not None:
                ref = PostReference(int(message_id), channel_id=int(private_id))
                seen.setdefault(("c", ref.channel_id, ref.message_id), ref)
            else:
                ref = PostReference(int(message_id), username=username)
                seen.setdefault(("u", username.lower(), ref.message_id), ref)
    return list(seen.values())


def normalise_for_matching(text: str) -> str:
    """Case- and space-insensitive form used to match a discussion copy to its post."""
    return " ".join(text.casefold().replace("\u0451", "\u0435").split())  # yo -> ye
