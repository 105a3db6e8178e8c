from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from experts_panel.db.database import Database
from experts_panel.experts import (
    ExpertError,
    create_expert,
    list_experts,
    remove_expert,
    rename_expert,
)
from experts_panel.importing.comments import import_comments
from experts_panel.importing.posts import import_posts
from tests.support.exports import GROUP_ID, at, channel_posts, chat, discussion, message, write
from tests.support.server import cli_env, run_cli


def counts(db: Path) -> dict[str, dict[str, int]]:
    conn = sqlite3.connect(db)
    try:
        out: dict[str, dict[str, int]] = {}
        for table in ("posts", "links", "comments", "comment_group_drift", "import_runs"):
            out[table] = dict(
                conn.execute(
                    f"SELECT expert_id, count(*) FROM {table} GROUP BY expert_id"
                ).fetchall()
            )
        return out
    finally:
        conn.close()


async def two_experts(database: Database, tmp_path: Path) -> None:
    first = write(tmp_path / "a.json", chat(channel_posts()))
    group = write(
        tmp_path / "ga.json", chat(discussion(), chat_type="public_supergroup", chat_id=GROUP_ID)
    )
    second = write(
        tmp_path / "b.json",
        chat(
            [message(10, at(0), "other ten"), message(11, at(1), "reply", reply_to_message_id=10)],
            name="B",
            chat_id=2000000002,
        ),
    )
    async with database.write() as conn:
        await import_posts(conn, first, "alpha")
        await import_comments(conn, group, "alpha")
        await import_posts(conn, second, "beta")
        for expert in ("alpha", "beta"):
            await conn.exec_driver_sql(
                "INSERT INTO comment_group_drift (expert_id, post_telegram_message_id, has_drift, "
                "drift_topics, analyzed_at, analyzed_by) "
                "VALUES (?, 10, 1, '[]', 'now', 'test')",
                (expert,),
            )


async def test_remove_takes_every_row_of_the_expert_and_nothing_else(
    database: Database, db_path: Path, tmp_path: Path
) -> None:
    await two_experts(database, tmp_path)
    before = counts(db_path)
    assert before["comments"]["alpha"] > 0 and before["links"]["beta"] == 1
    async with database.write() as conn:
        removed = await remove_expert(conn, "alpha")
    assert removed == 4
    after = counts(db_path)
    for table, by_expert in after.items():
        assert "alpha" not in by_expert, table
        assert by_expert.get("beta") == before[table].get("beta"), table


async def test_create_rename_and_list(database: Database) -> None:
    async with database.write() as conn:
        await create_expert(conn, "x-1", "First name", channel_username="some_channel")
        renamed = await rename_expert(conn, "x-1", "  Better name ")
        assert renamed.display_name == "Better name"
        stats = await list_experts(conn)
    assert [(s.expert.id, s.expert.display_name, s.post_count) for s in stats] == [
        ("x-1", "Better name", 0)
    ]


@pytest.mark.parametrize("bad", ["", "UPPER", "has space", "a" * 65, "slash/no", "ünï"])
async def test_expert_ids_are_slugs(database: Database, bad: str) -> None:
    async with database.write() as conn:
        with pytest.raises(ExpertError, match="is not a slug"):
            await create_expert(conn, bad, "x")


async def test_unknown_expert_is_named(database: Database) -> None:
    async with database.write() as conn:
        with pytest.raises(ExpertError, match="no expert 'ghost'"):
            await rename_expert(conn, "ghost", "x")
        with pytest.raises(ExpertError, match="no expert 'ghost'"):
            await remove_expert(conn, "ghost")


def test_experts_cli(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "e.db")
    path = write(tmp_path / "a.json", chat(channel_posts(), name="Alpha Channel"))
    assert (
        run_cli(
            "import", str(path), "--expert", "alpha", "--username", "alpha_ch", env=env
        ).returncode
        == 0
    )
    listed = json.loads(run_cli("experts", "list", "--json", env=env).stdout)
    assert listed == [
        {
            "id": "alpha",
            "name": "Alpha Channel",
            "channel_username": "alpha_ch",
            "posts": 4,
            "comments": 0,
            "first_post_at": "2024-05-01T09:00:00Z",
            "last_post_at": "2024-05-01T09:30:00Z",
        }
    ]
    renamed = run_cli("experts", "rename", "alpha", "The Alpha", env=env)
    assert renamed.returncode == 0 and "The Alpha" in renamed.stdout
    refused = run_cli("experts", "remove", "alpha", env=env)
    assert refused.returncode == 1 and "needs --yes" in refused.stderr
    removed = run_cli("experts", "remove", "alpha", "--yes", env=env)
    assert removed.returncode == 0 and "its 4 posts" in removed.stdout
    missing = run_cli("experts", "remove", "alpha", "--yes", env=env)
    assert missing.returncode == 1 and missing.stderr.strip() == "error: no expert 'alpha'"
    assert json.loads(run_cli("experts", "list", "--json", env=env).stdout) == []
