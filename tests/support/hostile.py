"""Hostile Telegram exports, written as raw JSON text (too deep for `json.dumps` to write),
and the command run under a memory cap so a runaway parse fails the test instead of
exhausting the machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# Issue 12: the importer runs under 1 GiB of address space in the tests.
MEMORY_CAP = 1 << 30
CHAT_HEAD = '{"name": "Channel", "type": "public_channel", "id": 1000000001, "messages": [\n'


def raw_message(message_id: Any, text: str = '"a post"', extra: str = "") -> str:
    """One message as JSON text; `text` and `extra` (`, "key": value ...`) are raw JSON."""
    return (
        f'{{"id": {message_id}, "type": "message", "date": "2024-05-01T09:00:00", '
        f'"date_unixtime": "1714554000", "from": "Channel", "from_id": "channel1000000001", '
        f'"text": {text}{extra}}}'
    )


def raw_channel(path: Path, *messages: str, head: str = CHAT_HEAD) -> Path:
    path.write_text(head + ",\n".join(messages) + "\n]}\n", encoding="utf-8")
    return path


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def run_capped(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`experts-panel ARGS` with its address space (and its parser's) capped by prlimit."""
    return subprocess.run(
        ["prlimit", f"--as={MEMORY_CAP}", "--", sys.executable, "-m", "experts_panel.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_capped(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["prlimit", f"--as={MEMORY_CAP}", "--", sys.executable, "-m", "experts_panel.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path
