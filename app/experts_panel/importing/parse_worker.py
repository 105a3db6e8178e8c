"""Parsing an export in a second process while the first one stores what it sends.

Reading JSON and building rows is pure Python and holds the interpreter lock, so a thread
cannot run it beside SQLite's writes; a process can, and the machine has two cores. The
worker streams the file and sends batches of finished rows over a pipe with
`multiprocessing.connection` (length-prefixed pickles); the parent stores them in its one
transaction. A bad message ends the worker with an error frame naming the file and the
message, and the parent rolls everything back.

Run by the posts' import as `python -m experts_panel.importing.parse_worker FD JOB_JSON`; not a
user command.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from experts_panel.importing.rows import ChannelIdentity, ParsedBatch, PostRows, SeenIds
from experts_panel.telegram.export import ExportError, TelegramExport
from experts_panel.telegram.message import MessageError, message_id_of, parse_message

BATCH = 500


class ParseFailed(Exception):
    """The export could not be parsed; the message names the file and the message."""


def parse(path: Path, chat: str | None, channel: ChannelIdentity, send: Any) -> None:
    """Parse `path` and call `send(("batch", ParsedBatch))` for every `BATCH` posts.

    A message whose id came earlier in the file is skipped and reported: the first copy is
    kept, since a later one cannot be weighed against it without holding the whole file."""
    export = TelegramExport(path, chat=chat)
    rows = PostRows(channel)
    read = 0

    def count(n: int) -> None:
        nonlocal read
        read += n

    seen = 0
    ids = SeenIds()
    for raw in export.messages(count):
        seen += 1
        try:
            message_id = message_id_of(raw)
            if not ids.add(message_id):
                rows.duplicate(message_id)
                continue
            kind = raw.get("type")
            if kind != "message":
                rows.skip(str(kind))
                continue
            rows.add(parse_message(raw))
        except MessageError as exc:
            raise ParseFailed(f"{path}: {_which(raw, seen)}: {exc}") from exc
        if len(rows.batch.rows) >= BATCH:
            batch = rows.take()
            batch.bytes_read, read = read, 0
            send(("batch", batch))
    batch = rows.take()
    batch.bytes_read = read
    send(("batch", batch))


def _which(raw: dict[str, Any], seen: int) -> str:
    """How an error names a message: by its id when it has a usable one, else by position."""
    value = raw.get("id")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return f"message {value}"
    return f"message #{seen} of the file"


def main() -> None:
    fd, job = int(sys.argv[1]), json.loads(sys.argv[2])
    connection = Connection(fd, readable=False)
    path = job["path"]
    try:
        parse(Path(path), job["chat"], ChannelIdentity(**job["channel"]), connection.send)
        connection.send(("done", _peak_rss_bytes()))
    except (ParseFailed, ExportError) as exc:
        connection.send(("error", str(exc)))
    except BrokenPipeError:
        pass  # the parent gave up; nothing to tell
    except Exception as exc:  # a bug met by some input: one line for the reader, not a trace
        connection.send(("error", f"{path}: the parser failed ({type(exc).__name__}: {exc})"))
    finally:
        connection.close()


@dataclass
class WorkerReport:
    peak_rss_bytes: int = 0


def _peak_rss_bytes() -> int:
    """This process's own peak RSS. Not `ru_maxrss`, which after exec still counts the
    parent's pages from the moment of the fork; the kernel's VmHWM starts anew at exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


async def parse_in_worker(
    path: Path, chat: str | None, channel: ChannelIdentity, report: WorkerReport | None = None
) -> AsyncIterator[ParsedBatch]:
    """Yield the export's batches as the worker process parses them."""
    read_fd, write_fd = os.pipe()
    job = json.dumps({"path": str(path), "chat": chat, "channel": asdict(channel)})
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "experts_panel.importing.parse_worker", str(write_fd), job],
            pass_fds=(write_fd,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # The parent's own path, so the worker imports this very package however the
            # parent was started (a venv, or a Nix wrapper that sets the path at run time).
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
    finally:
        os.close(write_fd)
    connection = Connection(read_fd, writable=False)
    try:
        while True:
            try:
                kind, payload = await asyncio.to_thread(connection.recv)
            except EOFError:
                stderr = await asyncio.to_thread(_finish, process)
                raise ParseFailed(
                    f"{path}: the parser stopped unexpectedly ({_how_it_ended(process)})"
                    + (f": {stderr}" if stderr else "")
                ) from None
            if kind == "batch":
                yield payload
            elif kind == "error":
                raise ParseFailed(payload)
            else:
                if report is not None:
                    report.peak_rss_bytes = int(payload)
                break
    finally:
        connection.close()
        if process.poll() is None:
            process.kill()
        await asyncio.to_thread(_finish, process)


def _finish(process: subprocess.Popen[bytes]) -> str:
    """Reap the worker; the last line it wrote to stderr, if any. Safe to call twice (an
    early end reaps it, then the generator's cleanup does again)."""
    if process.stderr is None or process.stderr.closed:
        process.wait()
        return ""
    _, err = process.communicate()
    lines = err.decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def _how_it_ended(process: subprocess.Popen[bytes]) -> str:
    code = process.returncode
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


if __name__ == "__main__":
    main()
