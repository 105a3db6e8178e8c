"""Telegram message text: flattening the export's `text` field and finding t.me references."""

from __future__ import annotations

import re
from dataclasses import dataclass

# t.me/<username>/<id>, t.me/s/<username>/<id> and the private form t.me/c/<channel id>/<id>.
_PUBLIC_POST = re.compile(
    r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?([A-Za-z][A-Za-z0-9_]{3,31})/(\d+)",
    re.IGNORECASE,
)
_PRIVATE_POST = re.compile(r"(?:https?://)?(?:www\.)?(?:t|telegram)\.me/c/(\d+)/(\d+)", re.I)


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

    Returns the text and the targets of every link in it (hrefs of `text_link` entities, which
    the flat text keeps as Markdown links, and the text of `link` entities).
    """
    if isinstance(text, str):
        return text, []
    if not isinstance(text, list):
        raise TextShapeError(f"text is {json_kind(text)}, expected a string or a list")
    parts: list[str] = []
    hrefs: list[str] = []
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
            hrefs.append(piece["href"])
            parts.append(f"[{body}]({piece['href']})")
        elif kind == "link":
            hrefs.append(body)
            parts.append(body)
        elif kind == "code":
            parts.append(f"`{body}`")
        elif kind == "pre":
            language = piece.get("language") or ""
            parts.append(f"\n```{language}\n{body}\n```\n")
        else:
            parts.append(body)
    return "".join(parts), hrefs


@dataclass(frozen=True, slots=True)
class PostReference:
    """A reference to a channel post: by public username, or by numeric channel id."""

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


def find_post_references(text: str, hrefs: list[str]) -> list[PostReference]:
    """Every t.me post reference in the text and in link targets, first occurrence first."""
    seen: dict[tuple[object, ...], PostReference] = {}
    for source in [text, *hrefs]:
        for match in _PUBLIC_POST.finditer(source):
            ref = PostReference(int(match.group(2)), username=match.group(1))
            seen.setdefault(("u", ref.username.lower() if ref.username else "", ref.message_id), ref)
        for match in _PRIVATE_POST.finditer(source):
            ref = PostReference(int(match.group(2)), channel_id=int(match.group(1)))
            seen.setdefault(("c", ref.channel_id, ref.message_id), ref)
    return list(seen.values())


def normalise_for_matching(text: str) -> str:
    """Case- and space-insensitive form used to match a discussion copy to its post."""
    return " ".join(text.casefold().replace("ё", "е").split())
