"""What ends a sync, each one line for the operator, and Telethon's errors mapped onto them."""

from __future__ import annotations

from telethon import errors


class SyncFailed(Exception):
    """This expert was not synced; what earlier batches stored is kept, nothing else changed."""


class SessionInvalid(SyncFailed):
    """The session cannot be used (never signed in, revoked, expired): no expert can sync."""


class FloodWaitTooLong(SyncFailed):
    """Telegram asked for a wait longer than SYNC_MAX_FLOOD_WAIT: the run ends here."""


SESSION_ERRORS = (errors.UnauthorizedError, errors.AuthKeyDuplicatedError)


def session_message(exc: BaseException) -> str:
    return (
        f"the Telegram session is no longer valid ({type(exc).__name__}): sign in again with "
        "`experts-panel telegram login`"
    )


def reading_failed(username: str, exc: BaseException) -> SyncFailed:
    """Telethon's error on reading @username's chat as one line."""
    if isinstance(exc, SESSION_ERRORS):
        return SessionInvalid(session_message(exc))
    if isinstance(exc, (errors.ChannelPrivateError, errors.ChannelInvalidError)):
        return SyncFailed(
            f"@{username}: the chat is private or this account was removed from it, so it "
            "cannot be read"
        )
    if isinstance(exc, (errors.UsernameNotOccupiedError, errors.UsernameInvalidError, ValueError)):
        # get_entity turns an unknown username into ValueError (client/users.py,
        # _get_entity_from_string).
        return SyncFailed(f"@{username}: no channel or group has this username on Telegram")
    return SyncFailed(f"@{username}: {type(exc).__name__}: {exc}")
