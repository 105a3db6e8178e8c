"""The export an import reads: opening it, reporting progress and duplicated ids, and the one
error an import fails with, naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from experts_panel.telegram.export import ExportError, TelegramExport

# The summary lists this many duplicated ids at most (it counts them all).
LISTED_DUPLICATES = 20
ProgressCallback = Callable[[int], None]


class ImportFailed(Exception):
    """An import failed; nothing was written. The message names the file and the message."""


def note_duplicates(listed: list[int], found: list[int]) -> None:
    """Add to `listed` the ids in `found` it lacks, up to `LISTED_DUPLICATES`."""
    for message_id in found:
        if len(listed) >= LISTED_DUPLICATES:
            return
        if message_id not in listed:
            listed.append(message_id)


def open_export(path: Path, chat: str | None = None) -> TelegramExport:
    """Open an export and read its chat's identity; raises `ImportFailed` naming the file."""
    try:
        return TelegramExport(path, chat=chat)
    except ExportError as exc:
        raise ImportFailed(str(exc)) from exc
