"""A Telegram account served from Telethon's own TL objects, offline.

No Telegram server can be reached from the test machines, so the boundary is Telethon's: the
fake answers the calls of `telegram_sync.client.TelegramSource` with `telethon.tl.types`
objects built by hand, as Telethon's client would hand them over. Each behaviour mirrors
Telethon's source (telethon 1.4x), cited where it is implemented.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from telethon import errors, utils
from telethon._updates import EntityCache
from telethon.tl import types

from tests.support.exports import GROUP_ID

# Telethon's GetHistoryRequest pages (client/messages.py, _MAX_CHUNK_SIZE).
PAGE = 100


@dataclass
class Chat:
    """One chat's history as the server holds it: messages by id, and who is in them."""

    entity: Any
    messages: dict[int, Any] = field(default_factory=dict)
    linked: Any | None = None  # the discussion group of a broadcast channel
    # post id in the channel -> id of its automatic copy in the discussion group
    copies: dict[int, int] = field(default_factory=dict)


@dataclass
class Failure:
    """Raise `error` on the `after`-th message served from now (1: before the first), counting
    a chat's history, or with `in_threads` the comments under posts."""

    error: BaseException
    after: int = 1
    times: int = 1
    in_threads: bool = False


class FakeTelegram:
    """`TelegramSource` over chats of Telethon objects, with Telethon's paging semantics."""

    def __init__(self, users: list[Any] | None = None) -> None:
        self.chats: dict[str, Chat] = {}  # by username, lower case
        self.by_id: dict[int, Chat] = {}
        self.users = {u.id: u for u in users or []}
        self.failures: list[Failure] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.entity_error: BaseException | None = None
        self.history_error: BaseException | None = None
        # What Message._finish_init reads from a client (tl/custom/message.py).
        self._self_id = 1
        self._mb_entity_cache = EntityCache()

    def add_chat(self, chat: Chat) -> Chat:
        if chat.entity.username:
            self.chats[chat.entity.username.lower()] = chat
        self.by_id[chat.entity.id] = chat
        return chat

    def fail(
        self, error: BaseException, after: int = 1, times: int = 1, in_threads: bool = False
    ) -> None:
        self.failures.append(Failure(error, after, times, in_threads))

    async def get_entity(self, username: str) -> Any:
        self.requests.append(("get_entity", {"username": username}))
        if self.entity_error is not None:
            raise self.entity_error
        chat = self.chats.get(username.lstrip("@").lower())
        if chat is None:
            # client/users.py, _get_entity_from_string: UsernameNotOccupiedError from
            # ResolveUsernameRequest becomes this ValueError.
            raise ValueError(f'No user has "{username}" as username')
        return chat.entity

    async def linked_chat(self, channel: Any) -> Any | None:
        self.requests.append(("linked_chat", {"channel": channel.id}))
        chat = self.by_id[channel.id]
        return chat.linked.entity if isinstance(chat.linked, Chat) else None

    def _entities(self) -> dict[int, Any]:
        # Each response's users and chats, keyed by marked peer id, as _MessagesIter builds
        # them (client/messages.py, _load_next_chunk).
        everyone = itertools.chain(self.users.values(), (c.entity for c in self.by_id.values()))
        return {utils.get_peer_id(e): e for e in everyone}

    def _tick(self, in_thread: bool) -> None:
        for failure in list(self.failures):
            if failure.in_threads != in_thread:
                continue
            failure.after -= 1
            if failure.after <= 0:
                failure.times -= 1
                if failure.times <= 0:
                    self.failures.remove(failure)
                raise failure.error

    def _selection(self, entity: Any, reply_to: int | None) -> tuple[Chat, list[Any]]:
        chat = self.by_id[entity.id]
        if reply_to is None:
            return chat, sorted(chat.messages.values(), key=lambda m: m.id)
        # GetRepliesRequest (used by iter_messages when reply_to is set, client/messages.py
        # _MessagesIter._init): the discussion group's messages in the thread of the post's
        # copy, the copy itself left out.
        group = chat.linked
        if not isinstance(group, Chat) or reply_to not in chat.copies:
            raise errors.MsgIdInvalidError(request=None)
        top = chat.copies[reply_to]
        thread: list[Any] = []
        for message in sorted(group.messages.values(), key=lambda m: m.id):
            header = getattr(message, "reply_to", None)
            if not isinstance(header, types.MessageReplyHeader) or message.id == top:
                continue
            if header.reply_to_msg_id == top or header.reply_to_top_id == top:
                thread.append(message)
        return group, thread

    def iter_messages(
        self,
        entity: Any,
        *,
        min_id: int = 0,
        reverse: bool = False,
        reply_to: int | None = None,
    ) -> AsyncIterator[Any]:
        self.requests.append(
            (
                "iter_messages",
                {"chat": entity.id, "min_id": min_id, "reverse": reverse, "reply_to": reply_to},
            )
        )
        return self._iterate(entity, min_id, reverse, reply_to)

    async def _iterate(
        self, entity: Any, min_id: int, reverse: bool, reply_to: int | None
    ) -> AsyncIterator[Any]:
        if self.history_error is not None:
            raise self.history_error
        chat, selected = self._selection(entity, reply_to)
        # client/messages.py, iter_messages' docstring and _message_in_range: min_id is
        # exclusive; newest first unless reverse, which returns oldest first and makes min_id
        # the exclusive lower bound (offset_id = max(offset_id, min_id); offset_id += 1).
        selected = [m for m in selected if m.id > min_id]
        if not reverse:
            selected.reverse()
        entities = self._entities()
        input_chat = utils.get_input_peer(chat.entity)
        for start in range(0, len(selected), PAGE):
            for message in selected[start : start + PAGE]:
                self._tick(reply_to is not None)
                # What _MessagesIter does with each message it yields: senders, the chat and
                # a forward's origin resolved from the response's entities.
                message._finish_init(self, entities, input_chat)
                yield message


def fixture_account() -> FakeTelegram:
    """The project's channel and its discussion group (tests/support/telethon_objects.py)."""
    from tests.support import telethon_objects as tl

    fake = FakeTelegram([tl.ANN, tl.BOB, tl.CID])
    group = Chat(tl.channel(GROUP_ID, tl.GROUP_TITLE, None, megagroup=True))
    group.messages = {m.id: m for m in tl.fixture_group()}
    main = Chat(tl.channel(), {m.id: m for m in tl.fixture_posts()}, linked=group)
    main.copies = dict(tl.COPY_OF_POST)
    fake.add_chat(main)
    fake.add_chat(group)
    return fake
