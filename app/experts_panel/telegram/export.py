"""Streaming reader for Telegram Desktop JSON exports ("Export chat history" and full account).

The file is never loaded whole: one pass reads the chat's name, type and id (it stops early in
the usual single-chat layout, where they precede `messages`), a second pass yields the messages
one at a time, so memory stays flat however large the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import ijson

_FULL_PREFIX = "chats.list.item"


class ExportError(Exception):
    """The file cannot be imported; the message names the file and, when known, the message."""


@dataclass(frozen=True)
class ChatInfo:
    name: str
    type: str
    id: int | None
    index: int | None = None  # position in a full-account export's chats.list


class _CountingReader:
    """A binary file that counts the bytes read, for a progress bar."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None] | None) -> None:
        self._raw = raw
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if self._on_read is not None and chunk:
            self._on_read(len(chunk))
        return chunk


def _first_line(exc: Exception) -> str:
    """yajl's messages span several lines with a caret; the first says what went wrong."""
    return (str(exc).strip().splitlines() or ["unreadable"])[0].strip()


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
        try:
            size = self.path.stat().st_size
            with self.path.open("rb"):
                pass
        except OSError as exc:
            raise ExportError(f"{self.path}: cannot read the file: {exc.strerror}") from exc
        if size == 0:
            raise ExportError(f"{self.path}: the file is empty, not a Telegram export")
        return size

    def _fail(self, what: str) -> ExportError:
        return ExportError(f"{self.path}: {what}")

    def _events(self, raw: BinaryIO) -> Iterator[tuple[str, str, Any]]:
        try:
            yield from ijson.parse(raw)
        except ijson.JSONError as exc:
            raise self._fail(f"not valid JSON ({_first_line(exc)})") from exc

    def _read_chat_info(self) -> ChatInfo:
        top: dict[str, Any] = {}
        chats: list[ChatInfo] = []
        current: dict[str, Any] = {}
        first_event = True
        with self.path.open("rb") as raw:
            for prefix, event, value in self._events(raw):
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
                        name=str(current.get("name") or ""),
                        type=str(current.get("type") or ""),
                        id=_int_or_none(current.get("id")),
                        index=len(chats),
                    )
                    chats.append(chat)
                    if self._chat_selector is not None and self._matches(chat):
                        return chat
                elif prefix in (
                    f"{_FULL_PREFIX}.name",
                    f"{_FULL_PREFIX}.type",
                    f"{_FULL_PREFIX}.id",
                ):
                    current[prefix.rsplit(".", 1)[1]] = value
        if self.full_account:
            return self._choose(chats)
        if self._chat_selector is not None:
            raise self._fail("--chat applies to full-account exports; this is a single chat")
        if "type" not in top or "name" not in top:
            raise self._fail(
                "not a Telegram Desktop export: expected {name, type, id, messages} "
                "or a full-account export with chats.list"
            )
        return ChatInfo(
            name=str(top["name"]), type=str(top["type"]), id=_int_or_none(top.get("id"))
        )

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
        with self.path.open("rb") as raw:
            source = _CountingReader(raw, on_read)
            try:
                if self.full_account:
                    items = ijson.items(self._chat_events(source), "messages.item")
                else:
                    items = ijson.items(source, "messages.item")
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

    def _chat_events(self, source: _CountingReader) -> Iterator[tuple[str, str, Any]]:
        """The events of the chosen chat only, re-rooted so `messages.item` addresses them."""
        wanted = self.chat.index
        index = -1
        inside = f"{_FULL_PREFIX}."
        for prefix, event, value in ijson.parse(source):
            if prefix == _FULL_PREFIX:
                if event == "start_map":
                    index += 1
                elif event == "end_map" and index == wanted:
                    return
                continue
            if index == wanted and prefix.startswith(inside):
                yield prefix[len(inside) :], event, value
