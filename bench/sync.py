"""Sync speed and memory: a synthetic channel of 100,000 messages through the fake client.

The channel is bench/import.py's generated export, message for message, served as Telethon
objects by the tests' fake client (tests/support/telethon_fake.py: Telethon's paging and
`Message._finish_init` for each message), built one at a time as it is read, so the figures are
the sync's, not the fake server's. Each run is a process of its own on a fresh database: a
first sync (every message new), then a second that re-reads the whole channel (every post
unchanged). Beside it, `experts-panel import` of the same messages as an export, as
bench/import.py runs it. Targets: no slower than the importer, under 250 MB peak RSS.

    .venv/bin/python bench/sync.py [--sizes 100000] [--runs 1] [--stages]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from telethon import utils
from telethon.extensions import BinaryReader
from telethon.tl import types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.telethon_fake import Chat, FakeTelegram  # noqa: E402
from tests.support.telethon_objects import channel, photo  # noqa: E402


def _bench_import() -> ModuleType:
    # bench/import.py: its name is a keyword, so it is loaded by path.
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench_import()
OTHER_ID = 1111111111
_ENTITY_KINDS: dict[str, Any] = {
    "bold": types.MessageEntityBold,
    "link": types.MessageEntityUrl,
    "code": types.MessageEntityCode,
    "hashtag": types.MessageEntityHashtag,
    "text_link": types.MessageEntityTextUrl,
}


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def as_telethon(raw: dict[str, Any]) -> Any:
    """One exported message as Telegram's API would serve it."""
    when = datetime.fromtimestamp(int(raw["date_unixtime"]), tz=UTC)
    peer = types.PeerChannel(BENCH.CHANNEL_ID)
    if raw["type"] == "service":
        return types.MessageService(
            id=raw["id"], peer_id=peer, date=when, action=types.MessageActionPinMessage()
        )
    text = ""
    entities: list[Any] = []
    for piece in raw["text"] if isinstance(raw["text"], list) else [raw["text"]]:
        if isinstance(piece, str):
            text += piece
            continue
        kind = _ENTITY_KINDS[piece["type"]]
        url = {"url": piece["href"]} if piece["type"] == "text_link" else {}
        entities.append(kind(offset=_units(text), length=_units(piece["text"]), **url))
        text += piece["text"]
    extra: dict[str, Any] = {}
    if "edited_unixtime" in raw:
        extra["edit_date"] = datetime.fromtimestamp(int(raw["edited_unixtime"]), tz=UTC)
    if "forwarded_from_id" in raw:
        extra["fwd_from"] = types.MessageFwdHeader(date=when, from_id=types.PeerChannel(OTHER_ID))
    if "reply_to_message_id" in raw:
        extra["reply_to"] = types.MessageReplyHeader(reply_to_msg_id=raw["reply_to_message_id"])
    if "photo" in raw:
        extra["media"] = photo(raw["width"], raw["height"], raw["photo_file_size"])
    if "reactions" in raw:
        (reaction,) = raw["reactions"]
        extra["reactions"] = types.MessageReactions(
            results=[
                types.ReactionCount(
                    reaction=types.ReactionEmoji(emoticon=reaction["emoji"]),
                    count=reaction["count"],
                )
            ]
        )
    return types.Message(
        id=raw["id"],
        peer_id=peer,
        date=when,
        message=text,
        post=True,
        entities=entities or None,
        **extra,
    )


class GeneratedChannel(FakeTelegram):
    """The fake client over a channel generated as it is read, oldest first."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.serving_s = 0.0
        self.entity = channel(BENCH.CHANNEL_ID, "Bench Channel", BENCH.USERNAME)
        self.add_chat(Chat(self.entity))
        self.add_chat(Chat(channel(OTHER_ID, "Other Channel", None)))

    async def _iterate(
        self, entity: Any, min_id: int, reverse: bool, reply_to: int | None
    ) -> AsyncIterator[Any]:
        assert reverse and reply_to is None  # what the sync asks of a channel with no group
        entities = self._entities()
        input_chat = utils.get_input_peer(self.entity)
        messages = _messages(self.count)
        while True:
            # The server's side, left out of the sync's time: generating the message, making
            # its TL object and its bytes.
            clock = time.perf_counter()
            raw = next(messages, None)
            if raw is not None and raw["id"] > min_id:
                data = bytes(as_telethon(raw))
            self.serving_s += time.perf_counter() - clock
            if raw is None:
                break
            if raw["id"] <= min_id:
                continue
            # The client's: Telethon reads the TL object from the bytes (BinaryReader, as its
            # connection does for each response) and resolves its entities.
            message = BinaryReader(data).tgread_object()
            self._tick(False)
            message._finish_init(self, entities, input_chat)
            yield message


def _messages(count: int) -> Iterator[dict[str, Any]]:
    messages: Iterator[dict[str, Any]] = BENCH.generate_messages(count)
    return messages


async def _sync_once(database_path: Path, count: int, reread_all: bool) -> dict[str, Any]:
    from experts_panel.db.database import Database
    from experts_panel.experts import create_expert, get_expert
    from experts_panel.settings import load_settings
    from experts_panel.telegram_sync.sync import SyncOptions, sync_expert

    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{database_path}"})
    database, _ = await Database.open(settings)
    try:
        async with database.read() as conn:
            expert = await get_expert(conn, "bench")
        if expert is None:
            async with database.write() as conn:
                expert = await create_expert(
                    conn,
                    "bench",
                    "Bench Channel",
                    BENCH.USERNAME,
                    BENCH.CHANNEL_ID,
                    "public_channel",
                )
        # A first sync reads everything (nothing stored yet); the second re-reads the whole
        # channel: its window reaches back to before the first message.
        window = 365 * 20 if reread_all else 0
        options = SyncOptions(reread_days=window, now=lambda: BENCH.START, pace_s=0)
        source = GeneratedChannel(count)
        started = time.perf_counter()
        summary = await sync_expert(database, source, expert, options)
        seconds = time.perf_counter() - started - source.serving_s
    finally:
        await database.close()
    return {"seconds": seconds, "summary": summary.as_dict()}


def stages(count: int) -> dict[str, float]:
    """Microseconds a message for each step the sync takes in its one process, timed apart on
    the generated channel in pages of 100: Telethon reading a response's TL bytes, resolving
    each message from the response's entities, the sync converting it to the parser's
    `Message`, and the importer's row code making its row."""
    from experts_panel.importing.rows import ChannelIdentity, PostRows
    from experts_panel.telegram_sync.convert import to_message

    source = GeneratedChannel(count)
    entities = source._entities()
    input_chat = utils.get_input_peer(source.entity)
    made = [as_telethon(raw) for raw in _messages(count)]
    pages = [
        bytes(
            types.messages.ChannelMessages(
                pts=1,
                count=count,
                messages=made[i : i + 100],
                topics=[],
                chats=[source.entity],
                users=[],
            )
        )
        for i in range(0, count, 100)
    ]
    del made
    clock = time.perf_counter()
    read = [m for page in pages for m in BinaryReader(page).tgread_object().messages]
    figures = {"Telethon reads the TL bytes": time.perf_counter() - clock}
    clock = time.perf_counter()
    for message in read:
        message._finish_init(source, entities, input_chat)
    figures["Telethon resolves senders (_finish_init)"] = time.perf_counter() - clock
    posts = [m for m in read if isinstance(m, types.Message)]
    clock = time.perf_counter()
    converted = [to_message(m) for m in posts]
    figures["the sync converts (to_message)"] = time.perf_counter() - clock
    rows = PostRows(ChannelIdentity("bench", BENCH.USERNAME, BENCH.CHANNEL_ID, "2026-01-01"))
    clock = time.perf_counter()
    for message in converted:
        rows.add(message)
    rows.take()
    figures["the importer's rows (PostRows.add)"] = time.perf_counter() - clock
    return {name: seconds / count * 1e6 for name, seconds in figures.items()}


def child(database: Path, count: int, reread_all: bool) -> None:
    result = asyncio.run(_sync_once(database, count, reread_all))
    result["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps(result))


def run_child(database: Path, count: int, reread_all: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(database), str(count)]
    if reread_all:
        command.append("--reread-all")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"sync run failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=2, metavar=("DB", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--reread-all", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also time each step of the sync apart, in microseconds a message",
    )
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), args.reread_all)
        return
    cli_path = Path(sys.executable).with_name("experts-panel")
    cli = [str(cli_path)] if cli_path.exists() else [sys.executable, "-m", "experts_panel.cli"]
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        print(f"{'messages':>9} {'run':>10} {'s':>8} {'msg/s':>8} {'RSS MB':>8} {'vs import':>10}")
        for size in args.sizes:
            export = root / f"export-{size}.json"
            BENCH.write_export(export, size)
            imports: list[tuple[float, int, int]] = []
            first: list[tuple[float, int]] = []
            again: list[tuple[float, int]] = []
            for run in range(args.runs):
                _, rss, summary, _ = BENCH.measure(export, root / f"import-{size}-{run}.db", cli)
                imports.append(
                    (summary["posts"]["duration_s"], rss, summary["posts"]["parser_peak_rss_bytes"])
                )
                database = root / f"sync-{size}-{run}.db"
                result = run_child(database, size, reread_all=False)
                assert result["summary"]["messages_seen"] == size, result
                first.append((result["seconds"], result["peak_rss_bytes"]))
                result = run_child(database, size, reread_all=True)
                assert result["summary"]["posts_added"] == 0, result
                again.append((result["seconds"], result["peak_rss_bytes"]))
            import_s = statistics.median(f[0] for f in imports)
            import_rss = max(f[1] + f[2] for f in imports) / 1e6
            print(
                f"{size:>9} {'import':>10} {import_s:>8.2f} {size / import_s:>8.0f} "
                f"{import_rss:>8.1f} {'':>10}"
            )
            for label, figures in (("sync", first), ("re-sync", again)):
                seconds = statistics.median(f[0] for f in figures)
                peak = max(f[1] for f in figures) / 1e6
                print(
                    f"{size:>9} {label:>10} {seconds:>8.2f} {size / seconds:>8.0f} "
                    f"{peak:>8.1f} {import_s / seconds:>9.2f}x"
                )
            if args.stages:
                print(f"{'':>9} {'us/msg':>10}  the import, all of it: {import_s / size * 1e6:.1f}")
                for name, micros in stages(size).items():
                    print(f"{'':>9} {micros:>10.1f}  {name}")
        print(
            "s: the sync as sync_expert runs it (Telethon reading each message from its TL "
            "bytes, converting, storing, linking; the fake server's making of the messages left "
            "out), or the import as it reports itself (duration_s); medians of the runs. "
            "RSS MB: the sync process's peak (fake server included: it builds each message "
            "as it is read), the import's "
            "process and parser together. vs import: the import's seconds over the sync's "
            "(above 1: the sync is faster). re-sync re-reads every message, all unchanged."
            + (
                " us/msg (--stages): each step of the sync alone, in this process, beside the "
                "import's whole time a message."
                if args.stages
                else ""
            )
        )


if __name__ == "__main__":
    main()
