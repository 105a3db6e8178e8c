"""Issue 12, item 1: hostile exports get one clear line, a non-zero exit and an untouched
database, in bounded memory. Every import here runs under a 1 GiB address-space cap."""

from __future__ import annotations

import hashlib
import json
import signal
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.support.db import rows
from tests.support.exports import at, chat, message, write
from tests.support.hostile import fifo, nested, raw_channel, raw_message, run_capped, start_capped
from tests.support.server import cli_env

MIB = 1 << 20


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Seeded:
    env: dict[str, str]
    db: Path
    before: str


def settled(db: Path) -> str:
    """The digest of the database file once the WAL is checkpointed into it."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return digest(db)


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    """A database holding one imported expert, checkpointed so its file is the whole state."""
    db = tmp_path / "experts.db"
    env = cli_env(db)
    good = write(tmp_path / "good.json", chat([message(1, at(0), "kept")]))
    result = run_capped("import", str(good), "--expert", "demo", env=env)
    assert result.returncode == 0, result.stderr
    return Seeded(env, db, settled(db))


def refused(seeded: Seeded, path: Path, expected: str, *extra: str) -> str:
    """Import `path` as a new expert; it must fail in one line naming the file, and leave the
    database as it was. Returns the line."""
    result = run_capped("import", str(path), "--expert", "other", *extra, env=seeded.env)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert result.returncode == 1, result.stderr
    line = lines[0]
    assert line.startswith(f"error: {path}: "), line
    assert expected in line, line
    assert line.endswith("(nothing was imported)"), line
    assert digest(seeded.db) == seeded.before
    return line


def imported(seeded: Seeded, path: Path, expert: str = "other") -> dict[str, object]:
    """Import `path` as `expert`; it must succeed. The new state becomes the one to keep."""
    result = run_capped("import", str(path), "--expert", expert, "--json", env=seeded.env)
    assert result.returncode == 0, result.stderr[-3000:]
    seeded.before = settled(seeded.db)
    posts: dict[str, object] = json.loads(result.stdout)["posts"]
    return posts


def test_a_hundred_thousand_nested_brackets_are_refused_in_bounded_memory(
    seeded: Seeded, tmp_path: Path
) -> None:
    # The file: 200 KB that grew the importer past 22 GB.
    path = raw_channel(
        tmp_path / "deep.json", raw_message(1), raw_message(2, nested(100_000, '"x"'))
    )
    text = path.read_text()
    # Levels: the root object, `messages`, the message, then the text's brackets.
    sixty_fifth = text.index("[" * 100) + 61
    line = refused(seeded, path, "nesting deeper than 64 levels")
    assert f": at byte {sixty_fifth}" in line


def test_nesting_of_64_levels_is_taken_and_65_refused(seeded: Seeded, tmp_path: Path) -> None:
    # An unknown field is not stored but is parsed all the same.
    at_limit = raw_channel(tmp_path / "64.json", raw_message(1, extra=f', "x": {nested(61)}'))
    assert imported(seeded, at_limit, "deep")["posts_added"] == 1
    over = raw_channel(tmp_path / "65.json", raw_message(1, extra=f', "x": {nested(62)}'))
    refused(seeded, over, "nesting deeper than 64 levels")


def test_deep_reactions_that_crashed_the_parser_are_refused(seeded: Seeded, tmp_path: Path) -> None:
    # 5,000 levels in a field kept as JSON: the parser died in a recursion and the command
    # printed a 74-line traceback ending in "read of closed file".
    path = raw_channel(
        tmp_path / "reactions.json",
        raw_message(1),
        raw_message(2, extra=f', "reactions": {nested(5_000, "")}'),
    )
    refused(seeded, path, "nesting deeper than 64 levels")


def test_nesting_in_a_comments_export_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    channel = write(tmp_path / "channel.json", chat([message(1, at(0), "a post")]))
    group = raw_channel(
        tmp_path / "group.json",
        raw_message(1),
        raw_message(2, nested(100_000, '"x"')),
        head='{"name": "Chat", "type": "public_supergroup", "id": 1500000005, "messages": [\n',
    )
    result = run_capped(
        "import", str(channel), "--expert", "other", "--comments", str(group), env=seeded.env
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr[-3000:]
    assert lines[0].startswith(f"error: {group}: ") and "nesting deeper than 64" in lines[0]
    assert digest(seeded.db) == seeded.before


def _message_of(size: int) -> str:
    """A message exactly `size` bytes long in the file, from its `{` to its `}`."""
    body = raw_message(2, '""')
    return raw_message(2, '"' + "a" * (size - len(body)) + '"')


def test_a_message_of_one_mib_is_taken_and_one_byte_more_refused(
    seeded: Seeded, tmp_path: Path
) -> None:
    assert len(_message_of(MIB)) == MIB
    exact = raw_channel(tmp_path / "exact.json", raw_message(1), _message_of(MIB))
    assert imported(seeded, exact, "big")["posts_added"] == 2
    over = raw_channel(tmp_path / "over.json", raw_message(1), _message_of(MIB + 1))
    start = over.read_text().index(_message_of(MIB + 1))
    line = refused(seeded, over, "a message over 1 MiB")
    assert f"at byte {start} (after message 1)" in line


def test_a_huge_message_of_many_small_pieces_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    pieces = ", ".join(['{"type": "bold", "text": "word"}'] * 200_000)  # about 6.6 MB
    path = raw_channel(tmp_path / "pieces.json", raw_message(1), raw_message(2, f"[{pieces}]"))
    refused(seeded, path, "a message over 1 MiB")


def test_a_huge_string_outside_the_messages_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    name = "n" * (3 * MIB)
    path = raw_channel(
        tmp_path / "name.json",
        raw_message(1),
        head=f'{{"name": "{name}", "type": "public_channel", "id": 5, "messages": [\n',
    )
    refused(seeded, path, "a single string or number over 1 MiB")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("0", "0"), ("-7", "-7"), ('"12"', "'12'"), ("1.5", "1.5"), ("null", "None")],
)
def test_an_id_that_is_not_a_positive_integer_is_refused(
    seeded: Seeded, tmp_path: Path, value: str, shown: str
) -> None:
    path = raw_channel(tmp_path / "ids.json", raw_message(1), raw_message(value), raw_message(3))
    refused(seeded, path, f"message id {shown} is not a positive integer")


def test_a_reply_to_a_non_positive_id_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    path = raw_channel(
        tmp_path / "reply.json", raw_message(1), raw_message(2, extra=', "reply_to_message_id": 0')
    )
    refused(seeded, path, "reply_to_message_id 0 is not a positive integer")


def test_an_id_of_five_thousand_digits_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    # The JSON parser's C code crashed the whole command on it (SIGSEGV, no message).
    path = raw_channel(tmp_path / "long.json", raw_message(1), raw_message("1" * 5000))
    refused(seeded, path, "invalid JSON after message 1 (parse error: integer overflow")


def test_a_link_to_a_post_number_beyond_64_bits_is_kept_as_text(
    seeded: Seeded, tmp_path: Path
) -> None:
    # It crashed the parser (the number did not fit the JSON column's integers).
    link = "https://t.me/other_channel/123456789012345678901234567890"
    path = raw_channel(tmp_path / "link.json", raw_message(1, json.dumps(f"see {link}")))
    summary = imported(seeded, path)
    assert summary["posts_added"] == 1 and summary["external_mentions"] == 0
    assert rows(seeded.db, "SELECT text FROM posts WHERE expert_id = 'other'") == [(f"see {link}",)]


def test_duplicate_ids_are_reported_and_the_first_copy_kept(seeded: Seeded, tmp_path: Path) -> None:
    messages = [message(i, at(i), f"post {i}") for i in range(1, 701)]
    messages.insert(3, message(2, at(2), "second copy of 2"))
    messages.append(message(5, at(800), "second copy of 5, another batch away"))
    messages.append(message(5, at(801), "third copy of 5"))
    path = write(tmp_path / "dupes.json", chat(messages))
    summary = imported(seeded, path)
    assert summary["messages_seen"] == 703
    assert summary["posts_added"] == 700
    assert summary["duplicates"] == 3
    assert summary["duplicate_ids"] == [2, 5]
    assert rows(
        seeded.db,
        "SELECT telegram_message_id, text FROM posts "
        "WHERE expert_id = 'other' AND telegram_message_id IN (2, 5) ORDER BY 1",
    ) == [(2, "post 2"), (5, "post 5")]
    human = run_capped("import", str(path), "--expert", "again", env=seeded.env)
    assert human.returncode == 0, human.stderr
    assert "duplicate ids: 3 copies of 2 ids skipped, the first copy kept: 2, 5" in human.stdout


def test_duplicate_ids_in_a_comments_export_are_reported(seeded: Seeded, tmp_path: Path) -> None:
    channel = write(tmp_path / "channel.json", chat([message(1, at(0), "a post")]))
    copy = message(
        10,
        at(0.05),
        "a post",
        forwarded_from="Channel",
        forwarded_from_id="channel1000000001",
        author="Channel",
        author_id="channel1000000001",
    )
    comments = [
        copy,
        message(11, at(1), "first", author="Ann", author_id="user1", reply_to_message_id=10),
        message(11, at(2), "again", author="Ann", author_id="user1", reply_to_message_id=10),
    ]
    group = write(
        tmp_path / "group.json",
        chat(comments, name="Chat", chat_type="public_supergroup", chat_id=1500000005),
    )
    result = run_capped(
        "import",
        str(channel),
        "--expert",
        "other",
        "--comments",
        str(group),
        "--json",
        env=seeded.env,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["comments"]
    assert (summary["comments_added"], summary["duplicates"], summary["duplicate_ids"]) == (
        1,
        1,
        [11],
    )
    assert rows(seeded.db, "SELECT text FROM comments WHERE expert_id = 'other'") == [("first",)]


@pytest.mark.parametrize(
    ("head", "missing"),
    [
        ('{"name": null, "type": "public_channel", "id": 5, "messages": [', "no name"),
        ('{"name": "", "type": "public_channel", "id": 5, "messages": [', "no name"),
        ('{"type": "public_channel", "id": 5, "messages": [', "no name"),
        ('{"name": "Channel", "type": "public_channel", "id": null, "messages": [', "no id"),
        ('{"name": "Channel", "type": "public_channel", "messages": [', "no id"),
        ('{"name": null, "type": null, "id": null, "messages": [', "no name, type or id"),
    ],
)
def test_a_chat_without_a_name_or_id_is_refused(
    seeded: Seeded, tmp_path: Path, head: str, missing: str
) -> None:
    path = raw_channel(tmp_path / "chat.json", raw_message(1), head=head)
    refused(seeded, path, f"the chat has {missing}")


def test_a_chosen_chat_without_a_name_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    payload = {
        "chats": {
            "list": [
                {"name": None, "type": "personal_chat", "id": 11, "messages": []},
                {"name": "Mine", "type": "public_channel", "id": 22, "messages": []},
            ]
        }
    }
    path = write(tmp_path / "full.json", payload)
    refused(seeded, path, "the chat has no name", "--chat", "11")


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_what_is_not_a_regular_file_is_refused_at_once(
    seeded: Seeded, tmp_path: Path, kind: str
) -> None:
    # A FIFO with no writer blocked the command for ever.
    path = {
        "fifo": lambda: fifo(tmp_path / "pipe.json"),
        "directory": lambda: tmp_path,
        "device": lambda: Path("/dev/zero"),
    }[kind]()
    started = time.monotonic()
    refused(seeded, path, "not a regular file")
    assert time.monotonic() - started < 60


def test_a_fifo_as_the_comments_export_is_refused(seeded: Seeded, tmp_path: Path) -> None:
    channel = write(tmp_path / "channel.json", chat([message(1, at(0), "a post")]))
    pipe = fifo(tmp_path / "group.json")
    result = run_capped(
        "import", str(channel), "--expert", "other", "--comments", str(pipe), env=seeded.env
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {pipe}: not a regular file (a FIFO) (nothing was imported)"
    ]


def test_a_crash_of_the_parsing_process_is_one_line(seeded: Seeded, tmp_path: Path) -> None:
    # The kernel's OOM killer, or a bug in C code, ends the parser without a word; the
    # command printed 45 lines ending in `ValueError: read of closed file`.
    words = " ".join(["retrieval"] * 40)
    big = write(
        tmp_path / "big.json", chat([message(i, at(i), f"{i} {words}") for i in range(1, 80_001)])
    )
    process = start_capped("import", str(big), "--expert", "other", env=seeded.env)
    deadline = time.monotonic() + 60
    worker = None
    while worker is None and time.monotonic() < deadline and process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            try:
                if "experts_panel.importing.parse_worker" in child.cmdline():
                    worker = child
            except psutil.NoSuchProcess:
                pass
        time.sleep(0.005)
    assert worker is not None, "the parsing process never appeared"
    worker.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr.strip().splitlines() == [
        f"error: {big}: the parser stopped unexpectedly (killed by SIGKILL) (nothing was imported)"
    ]
    assert digest(seeded.db) == seeded.before
