"""Streaming reader for Telegram Desktop JSON exports ("Export chat history" and full account).

The file is never loaded whole: one pass reads the chat's name, type and id (it stops early in
the usual single-chat layout, where they precede `messages`), a second pass yields the messages
one at a time, so memory stays flat however large the file. Every read is checked by
`guard.ShapeGuard` (depth, a message's size, a string's size) before the parser sees it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from experts_panel.telegram.guard import LimitExceeded, ShapeGuard

_FULL_PREFIX = "chats.list.item"
# The depth of the list holding the messages: `messages` in a single chat's export,
# `chats.list.item.messages` in a full-account one.
_SINGLE_LEVEL = 2
_FULL_LEVEL = 5
# Numbers as int or float: yajl then reads integers itself and refuses one beyond 64 bits,
# where ijson's own conversion of a number over 4,300 digits crashes the process.
_NUMBERS = {"use_float": True}
_FILE_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFDIR: "a directory",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class ExportError(Exception):
    """The file cannot be imported; the message names the file and, when known, the message."""


@dataclass(frozen=True)
class ChatInfo:
    name: str
    type: str
    id: int | None
    index: int | None = None  # position in a full-account export's chats.list


class _GuardedReader:
    """A binary file whose reads are checked by a `ShapeGuard` and counted for a progress bar."""

    def __init__(
        self, raw: BinaryIO, guard: ShapeGuard, on_read: Callable[[int], None] | None = None
    ) -> None:
        self._raw = raw
        self._guard = guard
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._guard.check(chunk)
        if self._on_read is not None and chunk:
            self._on_read(len(chunk))
        return chunk


def _first_line(exc: Exception) -> str:
    """yajl's messages span several lines with a caret; the first says what went wrong."""
    first = (str(exc).strip().splitlines() or ["unreadable"])[0].strip()
    if first.endswith("integer overflow"):  # yajl's words for a number it will not read
        return f"{first}: a number beyond 64-bit integers"
    return first


def _text_or_empty(value: Any) -> str:
    """A name or type as the export has it; "" for none (absent, null, blank, not text)."""
    return value if isinstance(value, str) and value.strip() else ""


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return int(value)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


class TelegramExport:
    """One chat of a Telegram Desktop export file."""

    def __init__(self, path: Path, chat: str | None = None) -> None:
        self.path = path
        self._chat_selector = chat
        self.size = self._check_readable()
        self.full_account = False
        self.chat = self._read_chat_info()

    def _check_readable(self) -> int:
        with self._open() as raw:
            size = os.fstat(raw.fileno()).st_size
        if size == 0:
            raise ExportError(f"{self.path}: the file is empty, not a Telegram export")
        return size

    def _open(self) -> BinaryIO:
        """Open the export for reading; anything but a regular file is refused. Non-blocking,
        so a FIFO without a writer is refused at once rather than waited on for ever."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise self._fail(f"cannot read the file: {exc.strerror}") from exc
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a file")
                raise self._fail(f"not a regular file ({kind})")
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def _fail(self, what: str) -> ExportError:
        return ExportError(f"{self.path}: {what}")

    def _limit(self, exc: LimitExceeded, after: object = None) -> ExportError:
        where = f"at byte {exc.offset}" + (f" (after message {after})" if after is not None else "")
        return self._fail(f"{where}: {exc.what}")

    def _events(self, raw: _GuardedReader) -> Iterator[tuple[str, str, Any]]:
        try:
            yield from ijson.parse(raw, **_NUMBERS)
        except ijson.JSONError as exc:
            raise self._fail(f"not valid JSON ({_first_line(exc)})") from exc
        except LimitExceeded as exc:
            raise self._limit(exc) from None

    def _read_chat_info(self) -> ChatInfo:
        top: dict[str, Any] = {}
        chats: list[ChatInfo] = []
        current: dict[str, Any] = {}
        first_event = True
        # The layout is not known yet: the deeper level, where a full account's messages are
        # (this pass keeps no message, so it only needs to stop what would grow).
        with self._open() as raw:
            for prefix, event, value in self._events(_GuardedReader(raw, ShapeGuard(_FULL_LEVEL))):
                if first_event:
                    first_event = False
                    if event != "start_map":
                        raise self._fail("not a Telegram Desktop export (expected a JSON object)")
                if prefix == "" and event == "map_key":
                    if value == "messages" and {"name", "type"} <= top.keys():
                        break  # the usual layout: everything needed comes first
                    if value == "chats":
                        self.full_account = True
                elif prefix in ("name", "type", "id"):
                    top[prefix] = value
                elif prefix == _FULL_PREFIX and event == "start_map":
                    current = {}
                elif prefix == _FULL_PREFIX and event == "end_map":
                    chat = ChatInfo(
                        name=_text_or_empty(current.get("name")),
                        type=_text_or_empty(current.get("type")),
                        id=_int_or_none(current.get("id")),
                        index=len(chats),
                    )
                    chats.append(chat)
                    if self._chat_selector is not None and self._matches(chat):
                        return self._named(chat)
                elif prefix in (
                    f"{_FULL_PREFIX}.name",
                    f"{_FULL_PREFIX}.type",
                    f"{_FULL_PREFIX}.id",
                ):
                    current[prefix.rsplit(".", 1)[1]] = value
        if self.full_account:
            return self._named(self._choose(chats))
        if self._chat_selector is not None:
            raise self._fail("--chat applies to full-account exports; this is a single chat")
        if not top.keys() & {"name", "type", "id"}:
            raise self._fail(
                "not a Telegram Desktop export: expected {name, type, id, messages} "
                "or a full-account export with chats.list"
            )
        return self._named(
            ChatInfo(
                name=_text_or_empty(top.get("name")),
                type=_text_or_empty(top.get("type")),
                id=_int_or_none(top.get("id")),
            )
        )

    def _named(self, chat: ChatInfo) -> ChatInfo:
        """The chat, if it has what an expert is made from: a name, a type and an id."""
        missing = [
            what
            for what, present in (("name", chat.name), ("type", chat.type), ("id", chat.id))
            if not present and present != 0
        ]
        if missing:
            listed = " or ".join([", ".join(missing[:-1]), missing[-1]] if missing[1:] else missing)
            raise self._fail(f"the chat has no {listed}")
        return chat

    def _matches(self, chat: ChatInfo) -> bool:
        wanted = self._chat_selector or ""
        return wanted == chat.name or (chat.id is not None and wanted == str(chat.id))

    def _choose(self, chats: list[ChatInfo]) -> ChatInfo:
        listing = "; ".join(f"{c.id} ({c.name or 'unnamed'}, {c.type})" for c in chats[:20])
        if self._chat_selector is None:
            if len(chats) == 1:
                return chats[0]
            raise self._fail(
                f"a full-account export with {len(chats)} chats: choose one with --chat "
                f"NAME_OR_ID: {listing or 'none'}"
            )
        raise self._fail(f"no chat named or numbered {self._chat_selector!r}: {listing or 'none'}")

    def messages(self, on_read: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
        """Yield the chat's messages as dicts, in file order."""
        last_id: object = None
        level = _FULL_LEVEL if self.full_account else _SINGLE_LEVEL
        with self._open() as raw:
            source = _GuardedReader(raw, ShapeGuard(level), on_read)
            try:
                if self.full_account:
                    items = ijson.items(self._chat_events(source), "messages.item")
                else:
                    items = ijson.items(source, "messages.item", **_NUMBERS)
                for item in items:
                    if not isinstance(item, dict):
                        raise ExportError(
                            f"{self.path}: a message after message {last_id} is not an object"
                        )
                    last_id = item.get("id")
                    yield item
            except ijson.JSONError as exc:
                where = "at the first message" if last_id is None else f"after message {last_id}"
                raise ExportError(
                    f"{self.path}: invalid JSON {where} ({_first_line(exc)})"
                ) from exc
            except LimitExceeded as exc:
                raise self._limit(exc, last_id) from None

    def _chat_events(self, source: _GuardedReader) -> Iterator[tuple[str, str, Any]]:
        """The events of the chosen chat only, re-rooted so `messages.item` addresses them."""
        wanted = self.chat.index
        index = -1
        inside = f"{_FULL_PREFIX}."
        for prefix, event, value in ijson.parse(source, **_NUMBERS):
            if prefix == _FULL_PREFIX:
                if event == "start_map":
                    index += 1
                elif event == "end_map" and index == wanted:
                    return
                continue
            if index == wanted and prefix.startswith(inside):
                yield prefix[len(inside) :], event, value
