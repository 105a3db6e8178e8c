"""The signed-in account: the client on the session file, for login, logout and sync."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telethon import TelegramClient
from telethon.sessions import SQLiteSession

from experts_panel.settings import Settings
from experts_panel.telegram_sync.client import TelethonSource, session_path, telegram_client
from experts_panel.telegram_sync.failures import SESSION_ERRORS, SessionInvalid, session_message


class NotConfigured(Exception):
    """TELEGRAM_API_ID or TELEGRAM_API_HASH is unset."""


@dataclass(frozen=True)
class Credentials:
    api_id: int
    api_hash: str
    session: Path

    @classmethod
    def of(cls, settings: Settings) -> Credentials:
        if settings.TELEGRAM_API_ID is None or settings.TELEGRAM_API_HASH is None:
            raise NotConfigured(
                "TELEGRAM_API_ID and TELEGRAM_API_HASH (or TELEGRAM_API_HASH_FILE) must be set: "
                "the api_id and api_hash of a Telegram application (my.telegram.org)"
            )
        return cls(
            settings.TELEGRAM_API_ID,
            settings.TELEGRAM_API_HASH.get_secret_value(),
            settings.telegram_session_file,
        )

    def client(self) -> TelegramClient:
        return telegram_client(self.session, self.api_id, self.api_hash)


def has_key(path: Path) -> bool:
    """Whether the session file holds an authorization key (a login wrote one)."""
    session = SQLiteSession(str(path))
    try:
        return session.auth_key is not None
    finally:
        session.close()


@asynccontextmanager
async def signed_in(credentials: Credentials) -> AsyncIterator[TelethonSource]:
    """The account's client, connected and signed in, disconnected when the block ends."""
    path = session_path(credentials.session)
    if not has_key(path):  # said without a connection: there is nothing to sign in with
        raise SessionInvalid(
            f"no Telegram account is signed in ({path}): run `experts-panel telegram login`"
        )
    client = credentials.client()
    try:
        await client.connect()
        try:
            authorized = await client.is_user_authorized()
        except SESSION_ERRORS as exc:
            raise SessionInvalid(session_message(exc)) from exc
        if not authorized:
            raise SessionInvalid(
                f"no Telegram account is signed in ({session_path(credentials.session)}): "
                "run `experts-panel telegram login`"
            )
        yield TelethonSource(client)
    finally:
        await client.disconnect()


async def login(
    credentials: Credentials,
    phone: Callable[[], str],
    code: Callable[[], str],
    password: Callable[[], str],
) -> str:
    """Sign in interactively (Telethon's `start`: phone, code, two-step password); returns
    who is signed in."""
    client = credentials.client()
    try:
        await client.start(phone=phone, code_callback=code, password=password)
        me = await client.get_me()
    finally:
        await client.disconnect()
    session_path(credentials.session)  # mode 0600 again, whatever SQLite did
    name = " ".join(p for p in (me.first_name, me.last_name) if p)
    return f"{name} (@{me.username})" if me.username else name


async def logout(credentials: Credentials) -> bool:
    """End the session at Telegram and delete the file; False if none was signed in."""
    path = session_path(credentials.session)
    client = credentials.client()
    try:
        await client.connect()
        if await client.is_user_authorized():
            return bool(await client.log_out())  # Telethon deletes the session file
    except SESSION_ERRORS:
        pass  # revoked already: only the file is left to remove
    finally:
        await client.disconnect()
    path.unlink(missing_ok=True)
    return False
