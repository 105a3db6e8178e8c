"""Telethon TL objects built by hand, as Telegram sends them (core.telegram.org/constructor/*):
channels, groups, users and their messages, for the fake client and the tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telethon.tl import types

from tests.support.exports import CHANNEL, GROUP_ID, at, channel_posts, discussion

CHANNEL_ID = 1000000001


def channel(
    channel_id: int = CHANNEL_ID,
    title: str = CHANNEL,
    username: str | None = "channel",
    megagroup: bool = False,
) -> types.Channel:
    return types.Channel(
        id=channel_id,
        title=title,
        photo=types.ChatPhotoEmpty(),
        date=at(-60 * 24),
        broadcast=not megagroup,
        megagroup=megagroup,
        access_hash=channel_id * 7,
        username=username,
    )


def user(user_id: int, first: str, last: str | None = None) -> types.User:
    return types.User(id=user_id, access_hash=user_id * 3, first_name=first, last_name=last)


def post(
    message_id: int,
    when: datetime,
    text: str = "",
    *,
    chat_id: int = CHANNEL_ID,
    comments: int = 0,
    **extra: Any,
) -> types.Message:
    """A channel post: no `from_id`, `post` set (the channel is its sender)."""
    replies = (
        types.MessageReplies(replies=comments, replies_pts=1, comments=True, channel_id=GROUP_ID)
        if comments
        else None
    )
    return types.Message(
        id=message_id,
        peer_id=types.PeerChannel(chat_id),
        date=when,
        message=text,
        post=True,
        replies=replies,
        **extra,
    )


def group_message(
    message_id: int,
    when: datetime,
    text: str,
    *,
    sender: Any,
    chat_id: int = GROUP_ID,
    reply_to: int | None = None,
    top: int | None = None,
    **extra: Any,
) -> types.Message:
    header = (
        types.MessageReplyHeader(reply_to_msg_id=reply_to, reply_to_top_id=top)
        if reply_to is not None
        else None
    )
    return types.Message(
        id=message_id,
        peer_id=types.PeerChannel(chat_id),
        date=when,
        message=text,
        from_id=sender,
        reply_to=header,
        **extra,
    )


def service(message_id: int, when: datetime, chat_id: int = CHANNEL_ID) -> types.MessageService:
    return types.MessageService(
        id=message_id,
        peer_id=types.PeerChannel(chat_id),
        date=when,
        action=types.MessageActionPinMessage(),
    )


def photo(width: int, height: int, size: int = 1234) -> types.MessageMediaPhoto:
    return types.MessageMediaPhoto(
        photo=types.Photo(
            id=77,
            access_hash=1,
            file_reference=b"",
            date=at(0),
            sizes=[
                types.PhotoSize(type="s", w=width // 4 or 1, h=height // 4 or 1, size=size // 8),
                types.PhotoSize(type="x", w=width, h=height, size=size),
            ],
            dc_id=2,
        )
    )


# The project's own fixture (tests/support/exports.py: channel_posts and discussion) as
# Telegram's API serves it. Post 14 was deleted: the channel's history leaves it out, its
# copy 505 stays in the group.

ANN = user(1, "Ann")
BOB = user(2, "Bob")
CID = user(3, "Cid")
GROUP_TITLE = "Channel Chat"
COPY_OF_POST = {10: 501, 11: 502, 12: 503, 13: 504}


def fixture_posts() -> list[Any]:
    exported = {p["id"]: p for p in channel_posts()}
    return [
        post(10, at(0), exported[10]["text"], comments=3),
        post(
            11,
            at(10),
            "Backups: .backup every night",
            entities=[types.MessageEntityCode(offset=9, length=7)],
            edit_date=at(50),
            comments=1,
        ),
        post(12, at(20), "", media=photo(10, 10), comments=1),
        post(13, at(30), exported[13]["text"], comments=1),
    ]


def fixture_group() -> list[Any]:
    """The discussion group: the automatic copies (forwards from the channel, with the post's
    id in `channel_post`) and the comments, replies to a copy or to another comment."""
    exported = {m["id"]: m for m in discussion()}
    posts = {p.id: p for p in fixture_posts()}
    as_channel = types.PeerChannel(CHANNEL_ID)
    messages: list[Any] = []
    for post_id, copy_id in [*COPY_OF_POST.items(), (14, 505)]:
        original = posts.get(post_id)
        when = datetime.fromtimestamp(int(exported[copy_id]["date_unixtime"]), tz=at(0).tzinfo)
        messages.append(
            group_message(
                copy_id,
                when,
                original.message if original else "A post the channel deleted later",
                sender=as_channel,
                fwd_from=types.MessageFwdHeader(
                    date=when, from_id=as_channel, channel_post=post_id
                ),
            )
        )
    for message_id, sender, parent, top in [
        (601, types.PeerUser(1), 501, None),
        (602, types.PeerUser(2), 601, 501),
        (603, as_channel, 602, 501),
        (604, types.PeerUser(1), 502, None),
        (605, types.PeerUser(1), 503, None),
        (606, types.PeerUser(1), 505, None),
        (607, types.PeerUser(1), None, None),
        (608, types.PeerUser(3), 504, None),
    ]:
        raw = exported[message_id]
        when = datetime.fromtimestamp(int(raw["date_unixtime"]), tz=at(0).tzinfo)
        messages.append(
            group_message(message_id, when, raw["text"], sender=sender, reply_to=parent, top=top)
        )
    return messages
