"""`experts-panel sync` against Telethon's own objects (tests/support/telethon_fake.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from telethon import errors
from telethon.tl import types

from experts_panel.db.database import Database
from experts_panel.experts import create_expert, get_expert
from experts_panel.importing.comments import import_comments
from experts_panel.importing.posts import import_posts
from experts_panel.telegram_sync.failures import FloodWaitTooLong, SessionInvalid, SyncFailed
from experts_panel.telegram_sync.sync import SyncOptions, SyncSummary, sync_expert
from tests.support import telethon_objects as tl
from tests.support.db import rows
from tests.support.exports import GROUP_ID, at, channel_posts, chat, discussion, write
from tests.support.telethon_fake import Chat, FakeTelegram, fixture_account

POST_SQL = (
    "SELECT telegram_message_id, date, edited_at, text, author_name, author_id, views, "
    "forwards, reply_to_message_id, forwarded_from, forwarded_from_id, media, "
    "external_mentions, reactions FROM posts WHERE expert_id = '{}' ORDER BY 1"
)
COMMENT_SQL = (
    "SELECT telegram_message_id, post_telegram_message_id, parent_comment_id, date, edited_at, "
    "text, author_name, author_id, is_channel_author, media FROM comments "
    "WHERE expert_id = '{}' ORDER BY 1"
)
NOW = at(60 * 24 * 30)  # a month after the fixture's posts: none is in the re-read window


class Slept:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def options(slept: Slept | None = None, **kw: object) -> SyncOptions:
    return SyncOptions(now=lambda: NOW, sleep=slept or Slept(), pace_s=0, **kw)  # type: ignore[arg-type]


async def add_expert(
    database: Database,
    expert_id: str = "demo",
    username: str = "channel",
    channel_id: int | None = tl.CHANNEL_ID,
) -> None:
    async with database.write() as conn:
        await create_expert(
            conn,
            expert_id,
            "Channel",
            channel_username=username,
            channel_id=channel_id,
            chat_type="public_channel",
        )


async def sync(
    database: Database, fake: FakeTelegram, expert_id: str = "demo", opts: SyncOptions | None = None
) -> SyncSummary:
    async with database.read() as conn:
        expert = await get_expert(conn, expert_id)
    assert expert is not None
    return await sync_expert(database, fake, expert, opts or options())


async def import_fixture(database: Database, tmp_path: Path, expert_id: str) -> None:
    """The fixture's channel and discussion group, imported from exports as `expert_id`."""
    posts_file = write(tmp_path / "channel.json", chat(channel_posts()))
    group_file = write(
        tmp_path / "group.json",
        chat(discussion(), name="Channel Chat", chat_type="public_supergroup", chat_id=GROUP_ID),
    )
    async with database.write() as conn:
        await import_posts(conn, posts_file, expert_id, username="channel")
        await import_comments(conn, group_file, expert_id)


async def test_the_fixture_gives_the_rows_its_export_gives(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    # The same channel and group, once as Telegram Desktop exports them, once as Telethon
    # serves them: every field both carry is the same in the rows.
    await import_fixture(database, tmp_path, "exported")
    await add_expert(database, "synced")
    summary = await sync(database, fixture_account(), "synced")
    exported = rows(db_path, POST_SQL.format("exported"))
    synced = rows(db_path, POST_SQL.format("synced"))
    assert [r[0] for r in synced] == [10, 11, 12, 13]
    for left, right in zip(exported, synced, strict=True):
        # The export names no photo's file size; the API does. Everything else is equal.
        assert left[:11] == right[:11]
        assert left[12:] == right[12:]
    assert exported[2][11] == '{"width":10,"height":10,"media_type":"photo"}'
    assert synced[2][11] == '{"width":10,"height":10,"photo_file_size":1234,"media_type":"photo"}'
    assert rows(db_path, COMMENT_SQL.format("exported")) == rows(
        db_path, COMMENT_SQL.format("synced")
    )
    assert [r[:3] for r in rows(db_path, COMMENT_SQL.format("synced"))] == [
        (601, 10, None),
        (602, 10, 601),
        (603, 10, 602),
        (604, 11, None),
        (605, 12, None),
        (608, 13, None),
    ]
    assert (summary.posts_added, summary.comments_added, summary.author_comments) == (4, 6, 1)
    assert rows(
        db_path, "SELECT discussion_chat_id, discussion_chat_name FROM experts WHERE id = 'synced'"
    ) == [(GROUP_ID, "Channel Chat")]


async def test_a_second_sync_changes_nothing(database: Database, db_path: Path) -> None:
    await add_expert(database)
    fake = fixture_account()
    await sync(database, fake)
    before = rows(db_path, "SELECT * FROM posts") + rows(db_path, "SELECT * FROM comments")
    again = await sync(database, fake, opts=options(reread_days=365))
    assert (again.posts_added, again.posts_updated, again.posts_unchanged) == (0, 0, 4)
    assert (again.comments_added, again.comments_updated, again.comments_unchanged) == (0, 0, 6)
    after = rows(db_path, "SELECT * FROM posts") + rows(db_path, "SELECT * FROM comments")
    assert before == after


async def test_new_posts_edits_and_new_comments_come_in(database: Database, db_path: Path) -> None:
    await add_expert(database)
    fake = fixture_account()
    await sync(database, fake)
    main = fake.by_id[tl.CHANNEL_ID]
    group = fake.by_id[GROUP_ID]
    # Later: post 13 edited, post 15 new (replying to 13 and linking to 10), a comment under 13.
    main.messages[13] = tl.post(
        13,
        at(30),
        "Costs of model APIs, remeasured.",
        edit_date=NOW - timedelta(days=1),
        comments=2,
    )
    main.messages[15] = tl.post(
        15,
        NOW - timedelta(hours=1),
        "More on t.me/channel/10",
        reply_to=types.MessageReplyHeader(reply_to_msg_id=13),
    )
    group.messages[609] = tl.group_message(
        609, NOW, "And now?", sender=types.PeerUser(2), reply_to=504
    )
    # Post 13 is older than the window: only a re-read that reaches it sees the edit.
    summary = await sync(database, fake, opts=options(reread_days=40))
    assert (summary.posts_added, summary.posts_updated) == (1, 1)
    assert summary.comments_added == 1
    assert rows(db_path, "SELECT text, edited_at FROM posts WHERE telegram_message_id = 13") == [
        (
            "Costs of model APIs, remeasured.",
            (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    ]
    assert rows(
        db_path, "SELECT source_message_id, target_message_id, link_type FROM links ORDER BY 1, 2"
    ) == [(15, 10, "mention"), (15, 13, "reply")]


async def test_only_what_is_newer_is_read_outside_the_window(database: Database) -> None:
    await add_expert(database)
    fake = fixture_account()
    await sync(database, fake)
    fake.requests.clear()
    fake.by_id[tl.CHANNEL_ID].messages[16] = tl.post(16, NOW, "New")
    summary = await sync(database, fake)
    history = [r for k, r in fake.requests if k == "iter_messages" and r["reply_to"] is None]
    # The newest post older than the window is 13: the history is read from there, oldest first.
    assert history == [{"chat": tl.CHANNEL_ID, "min_id": 13, "reverse": True, "reply_to": None}]
    assert (summary.messages_seen, summary.posts_added) == (1, 1)


async def test_a_crash_mid_batch_keeps_the_batches_before_and_the_next_run_resumes(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    main = fake.by_id[tl.CHANNEL_ID]
    for i in range(20, 45):
        main.messages[i] = tl.post(i, at(100 + i), f"Post {i}")
    fake.fail(ConnectionError("connection lost"), after=12)  # the 12th message served
    with pytest.raises(ConnectionError):
        await sync(database, fake, opts=options(batch=5))
    # Two batches of five were committed; the third was lost with the connection.
    assert rows(db_path, "SELECT count(*) FROM posts") == [(10,)]
    fake.requests.clear()
    summary = await sync(database, fake, opts=options(batch=5))
    history = [r for k, r in fake.requests if k == "iter_messages" and r["reply_to"] is None]
    assert history[0]["min_id"] == 25  # the newest committed post: 10-13, 20-25 were stored
    assert summary.posts_added == 29 - 10
    assert rows(db_path, "SELECT count(*) FROM posts") == [(29,)]


async def test_a_short_flood_wait_is_slept_and_the_read_goes_on(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    # As Telethon raises it (errors/rpcerrorlist.py, FloodWaitError: `capture` becomes
    # `seconds`) from inside iter_messages when the wait is over the client's
    # flood_sleep_threshold, which the real client sets to 0 (telegram_sync/client.py).
    fake.fail(errors.FloodWaitError(request=None, capture=42), after=3)
    slept = Slept()
    summary = await sync(database, fake, opts=options(slept))
    assert slept.waits == [42]
    assert (summary.flood_waits, summary.flood_wait_s) == (1, 42)
    assert rows(db_path, "SELECT count(*) FROM posts") == [(4,)]
    # Resumed after the last message handed out, not from the start.
    history = [
        r["min_id"] for k, r in fake.requests if k == "iter_messages" and r["reply_to"] is None
    ]
    assert history == [0, 11]


async def test_a_too_long_flood_wait_ends_the_run_keeping_what_was_stored(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    fake.fail(errors.FloodWaitError(request=None, capture=3600), after=3)
    slept = Slept()
    with pytest.raises(FloodWaitTooLong, match=r"wait 3600 s, more than SYNC_MAX_FLOOD_WAIT"):
        await sync(database, fake, opts=options(slept, batch=2))
    assert slept.waits == []
    assert rows(db_path, "SELECT telegram_message_id FROM posts") == [(10,), (11,)]


async def test_a_revoked_session_is_one_line_and_changes_nothing(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    fake.entity_error = errors.AuthKeyUnregisteredError(request=None)
    with pytest.raises(SessionInvalid, match=r"AuthKeyUnregisteredError.*telegram login"):
        await sync(database, fake)
    fake.entity_error = None
    fake.history_error = errors.SessionRevokedError(request=None)
    with pytest.raises(SessionInvalid, match="SessionRevokedError"):
        await sync(database, fake)
    assert rows(db_path, "SELECT count(*) FROM posts") == [(0,)]


async def test_a_username_that_does_not_exist_and_a_private_channel(
    database: Database, db_path: Path
) -> None:
    await add_expert(database, "gone", "nobody_here")
    with pytest.raises(SyncFailed, match="@nobody_here: no channel or group has this username"):
        await sync(database, fixture_account(), "gone")
    await add_expert(database)
    fake = fixture_account()
    fake.history_error = errors.ChannelPrivateError(request=None)
    with pytest.raises(SyncFailed, match="@channel: the chat is private"):
        await sync(database, fake)
    assert rows(db_path, "SELECT count(*) FROM posts") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM import_runs") == [(0,)]


async def test_a_supergroup_syncs_its_messages_as_posts_with_reply_links(
    database: Database, db_path: Path
) -> None:
    group = tl.channel(2000000002, "Talk", "talkgroup", megagroup=True)
    chat_ = Chat(group)
    chat_.messages = {
        1: tl.group_message(1, at(0), "Question?", sender=types.PeerUser(1), chat_id=group.id),
        2: tl.group_message(
            2, at(1), "Answer.", sender=types.PeerUser(2), chat_id=group.id, reply_to=1
        ),
        3: tl.service(3, at(2), chat_id=group.id),
    }
    fake = FakeTelegram([tl.ANN, tl.BOB])
    fake.add_chat(chat_)
    await add_expert(database, "talk", "talkgroup", None)
    summary = await sync(database, fake, "talk")
    assert rows(
        db_path,
        "SELECT telegram_message_id, author_name, author_id, "
        "reply_to_message_id FROM posts ORDER BY 1",
    ) == [(1, "Ann", "user1", None), (2, "Bob", "user2", 1)]
    assert dict(summary.skipped) == {"service": 1}
    assert summary.reply_links == 1
    assert not [k for k, _ in fake.requests if k == "linked_chat"]  # no comments to look for
    assert rows(db_path, "SELECT channel_id, chat_type FROM experts WHERE id = 'talk'") == [
        (2000000002, "public_supergroup")
    ]


async def test_a_username_now_on_another_chat_is_refused(database: Database) -> None:
    await add_expert(database, channel_id=999)
    with pytest.raises(SyncFailed, match="holds chat 999"):
        await sync(database, fixture_account())


async def test_an_expert_imported_from_an_export_is_synced_from_where_it_stands(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await import_fixture(database, tmp_path, "demo")
    summary = await sync(database, fixture_account(), opts=options(reread_days=365))
    # The same rows: only the photo's row changes, as the API names its file size.
    assert (summary.posts_added, summary.posts_updated, summary.posts_unchanged) == (0, 1, 3)
    assert (summary.comments_added, summary.comments_updated) == (0, 0)
    assert summary.comments_unchanged == 6


async def test_a_flood_wait_inside_a_comment_thread_is_slept_and_the_thread_resumed(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    fake.fail(errors.FloodWaitError(request=None, capture=5), after=2, in_threads=True)
    slept = Slept()
    summary = await sync(database, fake, opts=options(slept))
    assert slept.waits == [5]
    assert summary.comments_added == 6
    threads = [
        r["min_id"] for k, r in fake.requests if k == "iter_messages" and r["reply_to"] == 10
    ]
    assert threads == [0, 601]  # resumed after the first comment, which was handed out


async def test_a_crash_while_reading_comments_loses_only_that_batch(
    database: Database, db_path: Path
) -> None:
    await add_expert(database)
    fake = fixture_account()
    main = fake.by_id[tl.CHANNEL_ID]
    for i in range(20, 23):
        main.messages[i] = tl.post(i, at(100 + i), f"Post {i}")
    fake.fail(ConnectionError("connection lost"), after=6, in_threads=True)
    with pytest.raises(ConnectionError):
        await sync(database, fake, opts=options(batch=3))
    # Batch 10-12 had its five comments and was written; batch 13, 20, 21 failed on the
    # comment under 13, the sixth served.
    assert rows(db_path, "SELECT telegram_message_id FROM posts") == [(10,), (11,), (12,)]
    assert rows(db_path, "SELECT count(*) FROM comments") == [(5,)]
    summary = await sync(database, fake, opts=options(batch=3))
    assert rows(db_path, "SELECT count(*) FROM posts") == [(7,)]
    assert summary.comments_added == 1
