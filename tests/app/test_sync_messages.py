"""Each kind of Telegram message, as Telethon hands it over, and the `posts` row it gives.

The objects are written from Telegram's constructors (core.telegram.org/constructor/message,
messageEntity*, messageMedia*, messageFwdHeader, messageReplyHeader, messageReactions) and
served through the fake client, so senders and forwards are resolved as Telethon resolves them
(tl/custom/message.py, Message._finish_init); the expected rows are what a Telegram Desktop
export of the same message gives (telegram/message.py, telegram/text.py).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import orjson
from telethon.tl import types

from experts_panel.importing.rows import POST_COLUMNS, ChannelIdentity, PostRows
from experts_panel.telegram_sync.convert import kind_of, to_message
from tests.support import telethon_objects as tl
from tests.support.exports import at
from tests.support.telethon_fake import Chat, FakeTelegram

WHEN = at(0)
STAMP = "2024-06-01T00:00:00Z"


def served(*messages: Any, users: list[Any] | None = None, chat: Any = None) -> list[Any]:
    entity = chat or tl.channel()
    fake = FakeTelegram(users or [])
    fake.add_chat(Chat(entity, {m.id: m for m in messages}))
    fake.add_chat(Chat(tl.channel(777, "Other channel", "other")))

    async def read() -> list[Any]:
        return [m async for m in fake.iter_messages(entity, reverse=True)]

    return asyncio.run(read())


def row(message: Any) -> dict[str, Any]:
    rows = PostRows(ChannelIdentity("demo", "channel", tl.CHANNEL_ID, STAMP))
    rows.add(to_message(message))
    batch = rows.take()
    (found,) = batch.rows
    out = dict(zip(POST_COLUMNS, found, strict=True))
    out["links"] = batch.links
    return out


def one(message: Any, **kw: Any) -> dict[str, Any]:
    (served_message,) = served(message, **kw)
    return row(served_message)


def test_a_plain_post_is_the_channels() -> None:
    found = one(tl.post(5, WHEN, "Hello", views=120, forwards=3))
    assert found["date"] == "2024-05-01T09:00:00Z"
    assert (found["author_name"], found["author_id"]) == ("Channel", "channel1000000001")
    assert (found["views"], found["forwards"], found["edited_at"]) == (120, 3, None)
    assert found["text"] == "Hello"
    assert found["media"] is None and found["reactions"] is None


def test_every_entity_type_with_offsets_in_utf16_units() -> None:
    # The emoji before each piece takes two UTF-16 units: offsets count those, not characters.
    pieces = [
        ("@someone", types.MessageEntityMention),
        ("#tag", types.MessageEntityHashtag),
        ("/start", types.MessageEntityBotCommand),
        ("https://e.org", types.MessageEntityUrl),
        ("a@e.org", types.MessageEntityEmail),
        ("bold", types.MessageEntityBold),
        ("italic", types.MessageEntityItalic),
        ("x = 1", types.MessageEntityCode),
        ("print()", types.MessageEntityPre),
        ("the docs", types.MessageEntityTextUrl),
        ("Ann", types.MessageEntityMentionName),
        ("+100", types.MessageEntityPhone),
        ("$USD", types.MessageEntityCashtag),
        ("under", types.MessageEntityUnderline),
        ("gone", types.MessageEntityStrike),
        ("4111", types.MessageEntityBankCard),
        ("secret", types.MessageEntitySpoiler),
        ("🙂", types.MessageEntityCustomEmoji),
        ("quoted", types.MessageEntityBlockquote),
    ]
    text = ""
    entities = []
    for body, kind in pieces:
        text += "👍 "
        offset = len(text.encode("utf-16-le")) // 2
        extra: dict[str, Any] = {}
        if kind is types.MessageEntityPre:
            extra["language"] = "python"
        elif kind is types.MessageEntityTextUrl:
            extra["url"] = "https://t.me/channel/3"
        elif kind is types.MessageEntityMentionName:
            extra["user_id"] = 1
        elif kind is types.MessageEntityCustomEmoji:
            extra["document_id"] = 9
        entities.append(kind(offset=offset, length=len(body.encode("utf-16-le")) // 2, **extra))
        text += body + " "
    found = one(tl.post(6, WHEN, text, entities=entities))
    assert found["text"] == (
        "👍 @someone 👍 #tag 👍 /start 👍 https://e.org 👍 a@e.org 👍 bold 👍 italic 👍 `x = 1` "
        "👍 \n```python\nprint()\n```\n 👍 [the docs](https://t.me/channel/3) 👍 Ann 👍 +100 "
        "👍 $USD 👍 under 👍 gone 👍 4111 👍 secret 👍 🙂 👍 quoted "
    )
    # The mention is another channel's: kept as metadata; the text link is to this channel's
    # post 3: a link, as an export's text_link gives.
    assert orjson.loads(found["external_mentions"]) == [{"mention": "@someone"}]
    assert found["links"] == [(6, 3, "mention")]


def test_media_metadata_under_the_exports_keys() -> None:
    def document(*attributes: Any, mime: str = "video/mp4") -> types.MessageMediaDocument:
        return types.MessageMediaDocument(
            document=types.Document(
                id=1,
                access_hash=1,
                file_reference=b"",
                date=WHEN,
                mime_type=mime,
                size=2048,
                dc_id=2,
                attributes=list(attributes),
            )
        )

    sticker_set = types.InputStickerSetEmpty()
    cases = [
        (
            tl.photo(1280, 720, 99_000),
            {"width": 1280, "height": 720, "photo_file_size": 99_000, "media_type": "photo"},
        ),
        (
            document(types.DocumentAttributeFilename(file_name="a.pdf"), mime="application/pdf"),
            {"mime_type": "application/pdf", "file_name": "a.pdf", "file_size": 2048},
        ),
        (
            document(
                types.DocumentAttributeVideo(duration=12.5, w=640, h=360),
                types.DocumentAttributeFilename(file_name="v.mp4"),
            ),
            {
                "media_type": "video_file",
                "mime_type": "video/mp4",
                "file_name": "v.mp4",
                "file_size": 2048,
                "duration_seconds": 12,
                "width": 640,
                "height": 360,
            },
        ),
        (
            document(types.DocumentAttributeVideo(duration=5, w=240, h=240, round_message=True)),
            {
                "media_type": "video_message",
                "mime_type": "video/mp4",
                "file_size": 2048,
                "duration_seconds": 5,
                "width": 240,
                "height": 240,
            },
        ),
        (
            document(types.DocumentAttributeAudio(duration=7, voice=True), mime="audio/ogg"),
            {
                "media_type": "voice_message",
                "mime_type": "audio/ogg",
                "file_size": 2048,
                "duration_seconds": 7,
            },
        ),
        (
            document(
                types.DocumentAttributeAudio(duration=200, title="Song", performer="Band"),
                mime="audio/mpeg",
            ),
            {
                "media_type": "audio_file",
                "mime_type": "audio/mpeg",
                "file_size": 2048,
                "duration_seconds": 200,
                "performer": "Band",
                "title": "Song",
            },
        ),
        (
            document(
                types.DocumentAttributeSticker(alt="😀", stickerset=sticker_set), mime="image/webp"
            ),
            {
                "media_type": "sticker",
                "mime_type": "image/webp",
                "file_size": 2048,
                "sticker_emoji": "😀",
            },
        ),
        (
            document(
                types.DocumentAttributeAnimated(),
                types.DocumentAttributeVideo(duration=2, w=100, h=100),
            ),
            {
                "media_type": "animation",
                "mime_type": "video/mp4",
                "file_size": 2048,
                "duration_seconds": 2,
                "width": 100,
                "height": 100,
            },
        ),
        (types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=1, url="https://e.org")), None),
    ]
    for media, expected in cases:
        found = one(tl.post(7, WHEN, "caption", media=media))
        stored = found["media"]
        assert (None if stored is None else orjson.loads(stored)) == expected, expected
    # Key order as the parser's, so the stored JSON (and the row's hash) is an import's.
    assert one(tl.post(7, WHEN, "", media=cases[2][0]))["media"].startswith(
        '{"media_type":"video_file","mime_type":'
    )


def test_forwards_from_a_channel_a_user_and_a_hidden_user() -> None:
    other = types.PeerChannel(777)
    from_channel = tl.post(
        8, WHEN, "fwd", fwd_from=types.MessageFwdHeader(date=WHEN, from_id=other, channel_post=55)
    )
    from_user = tl.post(
        9, WHEN, "fwd", fwd_from=types.MessageFwdHeader(date=WHEN, from_id=types.PeerUser(1))
    )
    hidden = tl.post(
        10, WHEN, "fwd", fwd_from=types.MessageFwdHeader(date=WHEN, from_name="Someone Hidden")
    )
    found = [row(m) for m in served(from_channel, from_user, hidden, users=[tl.ANN])]
    assert [(r["forwarded_from"], r["forwarded_from_id"]) for r in found] == [
        ("Other channel", "channel777"),
        ("Ann", "user1"),
        ("Someone Hidden", None),
    ]


def test_replies_edits_and_reactions() -> None:
    edited = WHEN + timedelta(hours=2)
    reply = tl.post(
        12,
        WHEN,
        "Following up",
        reply_to=types.MessageReplyHeader(reply_to_msg_id=11),
        edit_date=edited,
        reactions=types.MessageReactions(
            results=[
                types.ReactionCount(reaction=types.ReactionEmoji(emoticon="👍"), count=5),
                types.ReactionCount(reaction=types.ReactionCustomEmoji(document_id=42), count=2),
            ]
        ),
    )
    elsewhere = tl.post(
        13,
        WHEN,
        "Quoting another chat",
        reply_to=types.MessageReplyHeader(
            reply_to_msg_id=4, reply_to_peer_id=types.PeerChannel(777)
        ),
    )
    first, second = (row(m) for m in served(reply, elsewhere))
    assert first["reply_to_message_id"] == 11
    assert first["links"] == [(12, 11, "reply")]
    assert first["edited_at"] == "2024-05-01T11:00:00Z"
    assert orjson.loads(first["reactions"]) == [
        {"type": "emoji", "count": 5, "emoji": "👍"},
        {"type": "custom_emoji", "count": 2, "document_id": "42"},
    ]
    # A reply to a message of another chat is no reply within this expert.
    assert second["reply_to_message_id"] is None and second["links"] == []


def test_an_edit_changes_the_rows_hash_and_a_view_count_too() -> None:
    base = one(tl.post(14, WHEN, "Text", views=1))
    assert one(tl.post(14, WHEN, "Text", views=1))["content_hash"] == base["content_hash"]
    assert one(tl.post(14, WHEN, "Text", views=2))["content_hash"] != base["content_hash"]
    assert (
        one(tl.post(14, WHEN, "Text!", views=1, edit_date=WHEN))["content_hash"]
        != (base["content_hash"])
    )


def test_group_messages_name_their_senders() -> None:
    group = tl.channel(2000000002, "Talk", "talk", megagroup=True)
    by_user = tl.group_message(1, WHEN, "hi", sender=types.PeerUser(2), chat_id=group.id)
    by_channel = tl.group_message(
        2, WHEN, "hi", sender=types.PeerChannel(group.id), chat_id=group.id
    )
    found = [
        row(m) for m in served(by_user, by_channel, users=[tl.user(2, "Bob", "Lee")], chat=group)
    ]
    assert [(r["author_name"], r["author_id"]) for r in found] == [
        ("Bob Lee", "user2"),
        ("Talk", "channel2000000002"),
    ]


def test_service_messages_are_skipped_as_in_an_export() -> None:
    (service,) = served(tl.service(15, WHEN))
    assert kind_of(service) == "service"
    assert kind_of(types.MessageEmpty(id=16, peer_id=types.PeerChannel(tl.CHANNEL_ID))) == "empty"
