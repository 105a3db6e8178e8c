from __future__ import annotations

import json
from pathlib import Path

import pytest

from experts_panel.db.database import Database
from experts_panel.importing.comments import import_comments
from experts_panel.importing.posts import import_posts
from experts_panel.importing.source import ImportFailed
from tests.support.db import rows
from tests.support.exports import (
    CHANNEL,
    GROUP_ID,
    at,
    channel_posts,
    chat,
    copy,
    discussion,
    user,
    write,
)
from tests.support.server import cli_env, run_cli


async def setup(database: Database, tmp_path: Path) -> tuple[Path, Path]:
    posts_file = write(tmp_path / "channel.json", chat(channel_posts()))
    group_file = write(
        tmp_path / "group.json",
        chat(discussion(), name="Channel Chat", chat_type="public_supergroup", chat_id=GROUP_ID),
    )
    async with database.write() as conn:
        await import_posts(conn, posts_file, "demo")
    return posts_file, group_file


async def test_copies_are_matched_and_comments_stored_under_their_posts(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    _, group_file = await setup(database, tmp_path)
    async with database.write() as conn:
        summary = await import_comments(conn, group_file, "demo")
    assert summary.copies_seen == 5
    assert summary.copies_matched == 4
    assert [c["id"] for c in summary.unmatched_copies] == [505]
    assert summary.under_unmatched_copy == 1
    assert summary.not_under_a_post == 1
    assert summary.comments_added == 6
    assert summary.author_comments == 1
    assert dict(summary.skipped) == {"service": 1}
    stored = rows(
        db_path,
        "SELECT telegram_message_id, post_telegram_message_id, parent_comment_id, "
        "is_channel_author, author_name "
        "FROM comments ORDER BY telegram_message_id",
    )
    assert stored == [
        (601, 10, None, 0, "Ann"),
        (602, 10, 601, 0, "Bob"),
        (603, 10, 602, 1, CHANNEL),
        (604, 11, None, 0, "Ann"),
        (605, 12, None, 0, "Ann"),
        (608, 13, None, 0, "Cid"),
    ]
    assert rows(db_path, "SELECT discussion_chat_id, discussion_chat_name FROM experts") == [
        (GROUP_ID, "Channel Chat")
    ]


async def test_a_copy_with_slightly_different_text_is_matched_by_time(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await setup(database, tmp_path)
    post = channel_posts()[3]
    near = copy(520, {**post, "text": post["text"] + " (updated)"})
    group = write(
        tmp_path / "g2.json",
        chat([near, user(521, 31, "ok", 520)], chat_type="public_supergroup", chat_id=GROUP_ID),
    )
    async with database.write() as conn:
        summary = await import_comments(conn, group, "demo")
    assert summary.copies_matched == 1
    assert rows(db_path, "SELECT post_telegram_message_id FROM comments") == [(13,)]


async def test_reimport_of_comments_is_idempotent_and_takes_edits(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    _, group_file = await setup(database, tmp_path)
    async with database.write() as conn:
        await import_comments(conn, group_file, "demo")
    async with database.write() as conn:
        again = await import_comments(conn, group_file, "demo")
    assert (again.comments_added, again.comments_updated, again.comments_unchanged) == (0, 0, 6)
    newer = discussion()
    newer[7] = user(602, 2, "Style is mostly a prompt problem.", 601, name="Bob", uid="user2")
    newer[7]["edited"], newer[7]["edited_unixtime"] = (
        "2024-05-01T10:00:00",
        str(int(at(60).timestamp())),
    )
    newer.append(user(609, 50, "Late comment", 604))
    group2 = write(
        tmp_path / "group2.json",
        chat(newer, name="Channel Chat", chat_type="public_supergroup", chat_id=GROUP_ID),
    )
    async with database.write() as conn:
        summary = await import_comments(conn, group2, "demo")
    assert (summary.comments_added, summary.comments_updated, summary.comments_unchanged) == (
        1,
        1,
        5,
    )
    assert rows(db_path, "SELECT count(*) FROM comments") == [(7,)]
    assert rows(db_path, "SELECT text FROM comments WHERE telegram_message_id=602") == [
        ("Style is mostly a prompt problem.",)
    ]


async def test_comments_need_the_channel_first(database: Database, tmp_path: Path) -> None:
    group = write(
        tmp_path / "g.json", chat(discussion(), chat_type="public_supergroup", chat_id=GROUP_ID)
    )
    async with database.write() as conn:
        with pytest.raises(ImportFailed, match="no expert 'demo'; import its channel first"):
            await import_comments(conn, group, "demo")


async def test_the_channel_export_is_not_taken_as_its_discussion(
    database: Database, tmp_path: Path
) -> None:
    posts_file, _ = await setup(database, tmp_path)
    async with database.write() as conn:
        with pytest.raises(ImportFailed, match="this is the channel's own export"):
            await import_comments(conn, posts_file, "demo")


def test_channel_and_comments_in_one_command_are_all_or_nothing(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    env = cli_env(db)
    posts_file = write(tmp_path / "channel.json", chat(channel_posts()))
    broken = discussion()
    broken[8]["text"] = 3.5
    group = write(
        tmp_path / "group.json", chat(broken, chat_type="public_supergroup", chat_id=GROUP_ID)
    )
    result = run_cli(
        "import", str(posts_file), "--expert", "demo", "--comments", str(group), env=env
    )
    assert result.returncode == 1
    assert f"error: {group}: message 603: text is a number" in result.stderr
    assert rows(db, "SELECT count(*) FROM posts") == [(0,)]
    assert rows(db, "SELECT count(*) FROM experts") == [(0,)]

    group.write_text(
        json.dumps(chat(discussion(), chat_type="public_supergroup", chat_id=GROUP_ID))
    )
    result = run_cli(
        "import", str(posts_file), "--expert", "demo", "--comments", str(group), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "unmatched copy 505" in result.stdout
    assert rows(db, "SELECT count(*) FROM comments") == [(6,)]
