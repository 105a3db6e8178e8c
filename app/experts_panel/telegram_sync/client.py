"""The client boundary: the few calls the sync makes, and the real one over Telethon.

The tests serve the same calls from Telethon's own TL objects (tests/support/telethon_fake.py);
nothing else in the sync knows it talks to Telegram.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from telethon import TelegramClient
from telethon.sessions import SQLiteSession
from telethon.tl import types
from telethon.tl.functions.channels import GetFullChannelRequest


class TelegramSource(Protocol):
    """What the sync asks Telegram, in Telethon's own terms."""

    async def get_entity(self, username: str) -> Any:
        """The channel, group or user with this username (`TelegramClient.get_entity`)."""

    def iter_messages(
        self,
        entity: Any,
        *,
        min_id: int = 0,
        reverse: bool = False,
        reply_to: int | None = None,
    ) -> AsyncIterator[Any]:
        """A chat's history (`TelegramClient.iter_messages`), or with `reply_to` the comments
        under a channel's post, from its discussion group."""
        ...

    async def linked_chat(self, channel: Any) -> Any | None:
        """The channel's discussion group (`GetFullChannelRequest`'s `linked_chat_id`)."""


def session_path(path: Path) -> Path:
    """The session file, created if absent with mode 0600 and kept so: it is the account's
    access. Telethon adds `.session` to a name without it, so the name always has it."""
    if path.suffix != ".session":
        path = path.with_name(path.name + ".session")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)
    return path


class TelethonSource:
    """`TelegramSource` over a connected, signed-in `TelegramClient`."""

    def __init__(self, client: TelegramClient) -> None:
        self.client = client

    async def get_entity(self, username: str) -> Any:
        return await self.client.get_entity(username)

    def iter_messages(
        self,
        entity: Any,
        *,
        min_id: int = 0,
        reverse: bool = False,
        reply_to: int | None = None,
    ) -> AsyncIterator[Any]:
        iterator: AsyncIterator[Any] = self.client.iter_messages(
            entity, min_id=min_id, reverse=reverse, reply_to=reply_to
        )
        return iterator

    async def linked_chat(self, channel: Any) -> Any | None:
        full = await self.client(GetFullChannelRequest(channel))
        linked = getattr(full.full_chat, "linked_chat_id", None)
        if not linked:
            return None
        for chat in full.chats:
            if isinstance(chat, types.Channel) and chat.id == linked:
                return chat
        return None


def telegram_client(session: Path, api_id: int, api_hash: str) -> TelegramClient:
    """A client on the session file. Flood waits are never slept inside Telethon
    (`flood_sleep_threshold=0`): the sync sleeps them itself, up to SYNC_MAX_FLOOD_WAIT."""
    return TelegramClient(
        SQLiteSession(str(session_path(session))),
        api_id,
        api_hash,
        flood_sleep_threshold=0,
    )
