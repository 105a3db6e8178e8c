"""Telethon's messages as the export parser's `Message`: one shape, so the importer's row code
makes the same rows from either.

Each field is read the way Telegram Desktop writes it into an export (`telegram/message.py`
reads that): dates in UTC as `...Z`, senders as `user<id>` / `channel<id>` with their display
names, the text flattened with links and code kept (`telegram/text.py`), and the media's
metadata under the export's key names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from telethon import utils
from telethon.tl import types

from experts_panel.telegram.message import MEDIA_KEYS, Message
from experts_panel.telegram.text import find_post_references


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # Telethon's are aware; a naive one is taken as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def peer_key(peer: Any) -> str | None:
    """A peer as an export names a sender: `user<id>`, `channel<id>` or `chat<id>`."""
    if isinstance(peer, types.PeerUser):
        return f"user{peer.user_id}"
    if isinstance(peer, types.PeerChannel):
        return f"channel{peer.channel_id}"
    if isinstance(peer, types.PeerChat):
        return f"chat{peer.chat_id}"
    return None


def entity_key(entity: Any) -> str | None:
    if isinstance(entity, types.User):
        return f"user{entity.id}"
    if isinstance(entity, types.Channel):
        return f"channel{entity.id}"
    if isinstance(entity, types.Chat):
        return f"chat{entity.id}"
    return None


def _utf16_slice(encoded: bytes, offset: int, length: int) -> str:
    # Telegram's offsets and lengths count UTF-16 code units (core.telegram.org/api/entities).
    return encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


# The entities that change the flattened text or are collected, as `flatten_text` treats the
# export's `text_link`, `code`, `pre` and `mention` pieces; every other kind (bold, hashtag,
# plain URL, ...) keeps its text as it is, as there.
_SHAPING = (
    types.MessageEntityTextUrl,
    types.MessageEntityCode,
    types.MessageEntityPre,
    types.MessageEntityMention,
)


def flatten(text: str, entities: list[Any] | None) -> tuple[str, list[str]]:
    """The text as `flatten_text` gives an export's, and its @mentions."""
    shaping = sorted((e for e in entities or () if isinstance(e, _SHAPING)), key=lambda e: e.offset)
    if not shaping:
        return text, []
    encoded = text.encode("utf-16-le")
    units = len(encoded) // 2
    parts: list[str] = []
    mentions: list[str] = []
    cursor = 0
    for entity in shaping:
        if entity.offset < cursor or entity.length <= 0:
            continue  # nested in or overlapping the one before: that one shaped the text
        parts.append(_utf16_slice(encoded, cursor, entity.offset - cursor))
        body = _utf16_slice(encoded, entity.offset, entity.length)
        if isinstance(entity, types.MessageEntityTextUrl):
            parts.append(f"[{body}]({entity.url})")
        elif isinstance(entity, types.MessageEntityCode):
            parts.append(f"`{body}`")
        elif isinstance(entity, types.MessageEntityPre):
            parts.append(f"\n```{entity.language or ''}\n{body}\n```\n")
        else:
            mentions.append(body)
            parts.append(body)
        cursor = entity.offset + entity.length
    parts.append(_utf16_slice(encoded, cursor, units - cursor))
    return "".join(parts), mentions


def _largest_photo_size(photo: Any) -> tuple[int | None, int | None, int | None]:
    best: tuple[int, int, int] | None = None
    for size in getattr(photo, "sizes", None) or ():
        if isinstance(size, types.PhotoSize):
            candidate = (size.w, size.h, size.size)
        elif isinstance(size, types.PhotoSizeProgressive):
            candidate = (size.w, size.h, max(size.sizes or [0]))
        else:
            continue
        if best is None or candidate[0] * candidate[1] > best[0] * best[1]:
            best = candidate
    return best if best is not None else (None, None, None)


def _in_export_order(found: dict[str, Any]) -> dict[str, Any]:
    # The parser takes the keys in MEDIA_KEYS' order, and a photo's media_type after them:
    # the stored JSON, and so the row's hash, is then the same as an import's.
    ordered = {key: found[key] for key in MEDIA_KEYS if key in found and key != "media_type"}
    if "media_type" in found:
        if found["media_type"] == "photo":
            ordered["media_type"] = "photo"
        else:
            ordered = {"media_type": found["media_type"], **ordered}
    return ordered


def media_of(media: Any) -> dict[str, Any] | None:
    found = _media_fields(media)
    return _in_export_order(found) if found is not None else None


def _media_fields(media: Any) -> dict[str, Any] | None:
    """The media's metadata under the export's keys (`MEDIA_KEYS` in telegram/message.py);
    None for what an export keeps no metadata of (link previews, polls, places)."""
    if isinstance(media, types.MessageMediaPhoto):
        width, height, size = _largest_photo_size(media.photo)
        found: dict[str, Any] = {"media_type": "photo"}
        if width is not None:
            found.update(width=width, height=height, photo_file_size=size)
        return found
    if not isinstance(media, types.MessageMediaDocument):
        return None
    document = media.document
    if not isinstance(document, types.Document):
        return None
    found = {"mime_type": document.mime_type, "file_size": document.size}
    for attribute in document.attributes:
        if isinstance(attribute, types.DocumentAttributeFilename):
            found["file_name"] = attribute.file_name
        elif isinstance(attribute, types.DocumentAttributeSticker):
            found["media_type"] = "sticker"
            found["sticker_emoji"] = attribute.alt
        elif isinstance(attribute, types.DocumentAttributeAnimated):
            found["media_type"] = "animation"
        elif isinstance(attribute, types.DocumentAttributeVideo):
            found.setdefault(
                "media_type", "video_message" if attribute.round_message else "video_file"
            )
            found["duration_seconds"] = int(attribute.duration)
            found["width"], found["height"] = attribute.w, attribute.h
        elif isinstance(attribute, types.DocumentAttributeAudio):
            found["media_type"] = "voice_message" if attribute.voice else "audio_file"
            found["duration_seconds"] = int(attribute.duration)
            if attribute.performer:
                found["performer"] = attribute.performer
            if attribute.title:
                found["title"] = attribute.title
    return found


def reactions_of(reactions: Any) -> list[dict[str, Any]] | None:
    """Counted reactions as an export lists them: `{type, count, emoji | document_id}`."""
    if not isinstance(reactions, types.MessageReactions) or not reactions.results:
        return None
    found: list[dict[str, Any]] = []
    for result in reactions.results:
        reaction = result.reaction
        if isinstance(reaction, types.ReactionEmoji):
            found.append({"type": "emoji", "count": result.count, "emoji": reaction.emoticon})
        elif isinstance(reaction, types.ReactionCustomEmoji):
            found.append(
                {
                    "type": "custom_emoji",
                    "count": result.count,
                    "document_id": str(reaction.document_id),
                }
            )
        else:  # paid stars, and kinds newer than this code
            found.append({"type": type(reaction).__name__, "count": result.count})
    return found


def sender_of(message: Any) -> tuple[str | None, str | None]:
    """(display name, key) of who sent the message; a channel's post is the channel's."""
    sender = getattr(message, "sender", None)  # resolved by Telethon from the response
    key = entity_key(sender) if sender is not None else None
    if key is None:
        key = peer_key(message.from_id) or (peer_key(message.peer_id) if message.post else None)
    name = utils.get_display_name(sender) if sender is not None else ""
    return name or None, key


def forward_of(message: Any) -> tuple[str | None, str | None]:
    header = message.fwd_from
    if header is None:
        return None, None
    key = peer_key(header.from_id)
    forward = getattr(message, "forward", None)
    origin = None
    if forward is not None:
        origin = forward.sender or forward.chat
    name = (utils.get_display_name(origin) if origin is not None else "") or header.from_name
    return name or None, key


def reply_target(message: Any) -> int | None:
    header = message.reply_to
    if not isinstance(header, types.MessageReplyHeader) or header.reply_to_peer_id is not None:
        return None  # no reply, a story, or a reply to another chat's message
    target = header.reply_to_msg_id
    return target if isinstance(target, int) and target > 0 else None


def kind_of(message: Any) -> str:
    """ "message", or what an export names the type it skips ("service", "empty")."""
    if isinstance(message, types.Message):
        return "message"
    if isinstance(message, types.MessageService):
        return "service"
    return "empty"


def to_message(message: Any) -> Message:
    """A `types.Message` as the parser's `Message`."""
    text, mentions = flatten(message.message or "", message.entities)
    name, key = sender_of(message)
    forwarded_from, forwarded_from_id = forward_of(message)
    date = iso(message.date)
    assert date is not None  # every message has its date
    return Message(
        id=message.id,
        date=date,
        edited_at=iso(message.edit_date),
        text=text,
        author_name=name,
        author_id=key,
        reply_to_message_id=reply_target(message),
        forwarded_from=forwarded_from,
        forwarded_from_id=forwarded_from_id,
        views=message.views,
        forwards=message.forwards,
        media=media_of(message.media),
        reactions=reactions_of(message.reactions),
        references=find_post_references(text),
        mentions=mentions,
    )
