from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from experts_panel.db.database import Database
from experts_panel.importing.posts import PostImportSummary, import_posts
from experts_panel.importing.rows import SeenIds
from experts_panel.importing.source import ImportFailed
from tests.support.exports import at, chat, message, service, write
from tests.support.server import cli_env, run_cli

USERNAME = "demo_channel"


def channel(
    tmp_path: Path, messages: list[dict[str, Any]], name: str = "ch.json", **kw: Any
) -> Path:
    return write(tmp_path / name, chat(messages, **kw))


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def basic_messages() -> list[dict[str, Any]]:
    return [
        service(1, at(0), "create_channel"),
        message(2, at(1), "Plain text post about retrieval."),
        message(
            3,
            at(2),
            [
                "Rich ",
                {"type": "bold", "text": "bold"},
                " see ",
                {"type": "text_link", "text": "the docs", "href": "https://example.org/docs"},
                " and ",
                {"type": "code", "text": "PRAGMA foreign_keys=ON"},
                " ",
                {"type": "pre", "text": "SELECT 1;", "language": "sql"},
                {"type": "hashtag", "text": "#sqlite"},
            ],
        ),
        message(4, at(3), "A reply to the first post", reply_to_message_id=2),
        message(
            5,
            at(4),
            ["Earlier I wrote ", {"type": "link", "text": f"https://t.me/{USERNAME}/2"}],
        ),
        message(
            6,
            at(5),
            [
                "As I said ",
                {"type": "text_link", "text": "here", "href": f"https://t.me/{USERNAME}/3"},
                ", and see ",
                {"type": "link", "text": "https://t.me/other_channel/77"},
                " by ",
                {"type": "mention", "text": "@other_channel"},
            ],
        ),
        message(7, at(6), f"Plain mention t.me/{USERNAME}/4 in a string, and t.me/c/1000000001/5"),
        message(
            8,
            at(7),
            "Forwarded wisdom",
            forwarded_from="Someone Else",
            forwarded_from_id="channel2000000002",
        ),
        message(
            9,
            at(8),
            "",
            photo="(File not included. Change data exporting settings to download.)",
            photo_file_size=1234,
            width=800,
            height=600,
        ),
        message(10, at(9), "Edited post, final words", edited=at(30)),
        message(11, at(10), "Reply to a deleted post", reply_to_message_id=999),
        {
            "id": 12,
            "type": "unsupported",
            "date": "2024-05-01T09:11:00",
            "date_unixtime": "1714554660",
        },
    ]


async def do_import(
    database: Database, path: Path, expert: str = "demo", **kw: Any
) -> PostImportSummary:
    async with database.write() as conn:
        return await import_posts(conn, path, expert, **kw)


async def test_import_stores_posts_and_skips_service_messages(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    summary = await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    assert summary.expert_created
    assert summary.messages_seen == 12
    assert summary.posts_added == 10
    assert dict(summary.skipped) == {"service": 1, "unsupported": 1}
    expert = rows(
        db_path, "SELECT display_name, channel_username, channel_id, chat_type FROM experts"
    )
    assert expert == [("Channel", USERNAME, 1000000001, "public_channel")]
    ids = [r[0] for r in rows(db_path, "SELECT telegram_message_id FROM posts ORDER BY 1")]
    assert ids == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]


async def test_text_shapes_are_flattened_keeping_links_and_code(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    texts = dict(rows(db_path, "SELECT telegram_message_id, text FROM posts"))
    assert texts[2] == "Plain text post about retrieval."
    assert texts[3] == (
        "Rich bold see [the docs](https://example.org/docs) and `PRAGMA foreign_keys=ON` "
        "\n```sql\nSELECT 1;\n```\n#sqlite"
    )
    assert texts[9] == ""


async def test_replies_and_mentions_become_links_within_the_expert(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    summary = await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    found = set(rows(db_path, "SELECT source_message_id, target_message_id, link_type FROM links"))
    assert found == {
        (4, 2, "reply"),
        (5, 2, "mention"),
        (6, 3, "mention"),
        (7, 4, "mention"),
        (7, 5, "mention"),  # t.me/c/<this channel's id>/5
    }
    assert summary.reply_links == 1 and summary.mention_links == 4
    assert summary.dangling_references == 1  # the reply to deleted post 999


async def test_forwards_and_other_channels_stay_metadata(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    forwarded = rows(
        db_path, "SELECT forwarded_from, forwarded_from_id FROM posts WHERE telegram_message_id=8"
    )
    assert forwarded == [("Someone Else", "channel2000000002")]
    mentions = rows(db_path, "SELECT external_mentions FROM posts WHERE telegram_message_id=6")
    assert json.loads(mentions[0][0]) == [
        {"channel": "other_channel", "message_id": 77},
        {"mention": "@other_channel"},
    ]
    assert rows(
        db_path,
        "SELECT count(*) FROM links "
        "WHERE source_message_id IN (6, 8) AND target_message_id NOT IN (3)",
    ) == [(0,)]


async def test_media_and_edit_metadata_are_kept(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    media = rows(db_path, "SELECT media FROM posts WHERE telegram_message_id=9")[0][0]
    assert json.loads(media) == {
        "media_type": "photo",
        "width": 800,
        "height": 600,
        "photo_file_size": 1234,
    }
    edited = rows(db_path, "SELECT date, edited_at FROM posts WHERE telegram_message_id=10")
    assert edited == [("2024-05-01T09:09:00Z", "2024-05-01T09:30:00Z")]


async def test_reimport_is_idempotent_and_takes_edits_and_new_posts(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    path = channel(tmp_path, basic_messages())
    await do_import(database, path, username=USERNAME)
    before = rows(db_path, "SELECT * FROM links ORDER BY id")
    again = await do_import(database, path)
    assert (again.posts_added, again.posts_updated, again.posts_unchanged) == (0, 0, 10)
    assert not again.expert_created
    assert rows(db_path, "SELECT * FROM links ORDER BY id") == before

    newer = basic_messages()
    newer[5] = message(6, at(5), "Rewritten: no more links here", edited=at(60))
    newer.append(message(13, at(61), "A brand new post", reply_to_message_id=10))
    summary = await do_import(database, channel(tmp_path, newer, name="newer.json"))
    assert (summary.posts_added, summary.posts_updated, summary.posts_unchanged) == (1, 1, 9)
    assert rows(db_path, "SELECT count(*) FROM posts") == [(11,)]
    assert rows(db_path, "SELECT text FROM posts WHERE telegram_message_id=6") == [
        ("Rewritten: no more links here",)
    ]
    links = set(rows(db_path, "SELECT source_message_id, target_message_id FROM links"))
    assert (6, 3) not in links  # the edit removed that mention
    assert (13, 10) in links


async def test_a_file_failing_half_way_leaves_the_database_as_it_was(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await do_import(database, channel(tmp_path, basic_messages()), username=USERNAME)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    snapshot = (
        rows(db_path, "SELECT * FROM posts ORDER BY id"),
        rows(db_path, "SELECT * FROM links"),
    )

    many = [message(i, at(i), f"post {i}") for i in range(100, 1400)]
    text = json.dumps(chat(many))
    corrupt = tmp_path / "corrupt.json"
    cut = text.index('"id": 1300')
    corrupt.write_text(text[:cut] + '"id": 1300, "type": "message", "date": ]')
    with pytest.raises(ImportFailed) as caught:
        await do_import(database, corrupt)
    assert str(caught.value).startswith(f"{corrupt}: invalid JSON after message 1299")
    assert (
        rows(db_path, "SELECT * FROM posts ORDER BY id"),
        rows(db_path, "SELECT * FROM links"),
    ) == snapshot


async def test_a_bad_message_names_the_file_and_the_message(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    messages = [message(i, at(i), f"post {i}") for i in range(1, 800)]
    messages[700]["text"] = 42
    path = channel(tmp_path, messages)
    with pytest.raises(
        ImportFailed, match=r"ch\.json: message 701: text is a number, expected a string or a list"
    ):
        await do_import(database, path)
    assert rows(db_path, "SELECT count(*) FROM posts") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM experts") == [(0,)]


async def test_full_account_export_chooses_the_chat(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    payload = {
        "about": "full export",
        "chats": {
            "about": "chats",
            "list": [
                {
                    "name": "Friend",
                    "type": "personal_chat",
                    "id": 11,
                    "messages": [message(1, at(0), "hi")],
                },
                {
                    "name": "My Channel",
                    "type": "public_channel",
                    "id": 22,
                    "messages": [
                        message(5, at(1), "chan post"),
                        message(6, at(2), "second", reply_to_message_id=5),
                    ],
                },
            ],
        },
    }
    path = write(tmp_path / "result.json", payload)
    with pytest.raises(
        ImportFailed,
        match=r"choose one with --chat NAME_OR_ID: 11 \(Friend, personal_chat\); 22 \(My Channel",
    ):
        await do_import(database, path)
    summary = await do_import(database, path, chat="22")
    assert summary.chat.name == "My Channel" and summary.posts_added == 2
    assert rows(db_path, "SELECT telegram_message_id, text FROM posts ORDER BY 1") == [
        (5, "chan post"),
        (6, "second"),
    ]
    assert rows(db_path, "SELECT link_type FROM links") == [("reply",)]
    by_name = await do_import(database, path, expert="friend", chat="Friend")
    assert by_name.posts_added == 1


async def test_a_group_is_an_expert_too(database: Database, db_path: Path, tmp_path: Path) -> None:
    messages = [
        message(1, at(0), "question?", author="Ann", author_id="user1"),
        message(2, at(1), "answer", author="Bob", author_id="user2", reply_to_message_id=1),
    ]
    await do_import(
        database,
        channel(tmp_path, messages, chat_type="public_supergroup", name="g.json"),
        expert="group",
    )
    assert rows(db_path, "SELECT author_name FROM posts ORDER BY telegram_message_id") == [
        ("Ann",),
        ("Bob",),
    ]


async def test_another_chat_cannot_be_imported_into_an_existing_expert(
    database: Database, tmp_path: Path
) -> None:
    await do_import(database, channel(tmp_path, [message(1, at(0), "a")]))
    other = write(tmp_path / "other.json", chat([message(1, at(0), "b")], chat_id=999))
    with pytest.raises(
        ImportFailed, match="expert 'demo' holds chat 1000000001; this export is of chat 999"
    ):
        await do_import(database, other)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("this is { not json", "not valid JSON"),
        ("", "the file is empty, not a Telegram export"),
        ('["a", "list"]', "not a Telegram Desktop export (expected a JSON object)"),
        (
            '{"hello": "world"}',
            "not a Telegram Desktop export: expected {name, type, id, messages}",
        ),
        (
            '{"name": "Empty", "type": "public_channel", "id": 5, "messages": []}',
            "the chat 'Empty' has no messages",
        ),
    ],
)
def test_bad_input_gets_one_line_a_nonzero_exit_and_an_untouched_database(
    tmp_path: Path, content: str, expected: str
) -> None:
    db = tmp_path / "experts.db"
    env = cli_env(db)
    good = write(tmp_path / "good.json", chat([message(1, at(0), "kept")]))
    assert run_cli("import", str(good), "--expert", "demo", env=env).returncode == 0
    checkpoint = sqlite3.connect(db)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    before = digest(db)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = run_cli("import", str(bad), "--expert", "other", env=env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad}: ") and expected in lines[0], lines[0]
    assert digest(db) == before


def test_unexpected_text_type_from_the_cli(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "bad.json",
        chat([message(1, at(0), "ok"), {**message(2, at(1)), "text": {"a": 1}}]),
    )
    result = run_cli("import", str(bad), "--expert", "demo", env=cli_env(tmp_path / "e.db"))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {bad}: message 2: text is an object, expected a string or a list "
        "(nothing was imported)"
    ]
    assert rows(tmp_path / "e.db", "SELECT count(*) FROM posts") == [(0,)]


def test_an_expert_id_that_is_not_a_slug_is_refused(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", chat([message(1, at(0), "kept")]))
    result = run_cli("import", str(good), "--expert", "Not A Slug!", env=cli_env(tmp_path / "e.db"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: expert id 'Not A Slug!' is not a slug")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = run_cli(
        "import", str(tmp_path / "absent.json"), "--expert", "demo", env=cli_env(tmp_path / "e.db")
    )
    assert result.returncode == 1
    assert "absent.json: cannot read the file: No such file or directory" in result.stderr


def test_cli_import_summary(tmp_path: Path) -> None:
    path = channel(tmp_path, basic_messages())
    result = run_cli(
        "import",
        str(path),
        "--expert",
        "demo",
        "--username",
        USERNAME,
        "--json",
        env=cli_env(tmp_path / "e.db"),
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)["posts"]
    assert summary["posts_added"] == 10
    assert summary["skipped"] == {"service": 1, "unsupported": 1}


def test_seen_ids_find_later_copies_in_any_order() -> None:
    seen = SeenIds()
    firsts = [seen.add(i) for i in (5, 9, 12, 7, 9, 5, 7, 12, 3, 13, 3, 1_000_000_000_000)]
    assert firsts == [True, True, True, True, False, False, False, False, True, True, False, True]
