"""Full-text search leaves out the question's stems that most indexed posts hold: they weigh
almost nothing in BM25 and make SQLite score nearly every post. A small index keeps them all."""

from __future__ import annotations

import math
from pathlib import Path

from experts_panel.db.database import Database
from experts_panel.importing.posts import import_posts
from experts_panel.retrieval.indexer import index_expert
from experts_panel.retrieval.lexical import (
    COMMON_TERM_POSTS,
    COMMON_TERM_SHARE,
    rare_stems,
    stems_search,
)
from experts_panel.retrieval.stemming import stems
from tests.support.exports import at, chat, message, write

RARE_POSTS = 3


async def index_channel(database: Database, tmp_path: Path, count: int) -> None:
    """`count` posts that all say "weather"; the first `RARE_POSTS` also say "glacier"."""
    posts = [
        message(n, at(n), f"weather note {n}" + (" glacier" if n <= RARE_POSTS else ""))
        for n in range(1, count + 1)
    ]
    export = write(tmp_path / "notes.json", chat(posts, name="Notes", chat_id=33))
    async with database.write() as conn:
        await import_posts(conn, export, "notes")
    await index_expert(database, "notes", None)


def large_index() -> int:
    """Posts enough that a stem every post holds is past both bounds."""
    return max(COMMON_TERM_POSTS, math.ceil(RARE_POSTS / COMMON_TERM_SHARE)) + 1


async def test_a_stem_most_posts_hold_is_left_out_of_a_large_index(
    database: Database, tmp_path: Path
) -> None:
    await index_channel(database, tmp_path, large_index())
    async with database.read() as conn:
        assert await rare_stems(conn, ["weather", "glacier"]) == ["glacier"]
        hits = await stems_search(conn, "notes", stems("weather glacier"), 50)
    assert sorted(h.telegram_message_id for h in hits) == list(range(1, RARE_POSTS + 1))


async def test_a_question_of_common_stems_alone_still_finds_posts(
    database: Database, tmp_path: Path
) -> None:
    await index_channel(database, tmp_path, large_index())
    async with database.read() as conn:
        kept = await rare_stems(conn, ["weather", "note"])  # every post holds both
        assert len(kept) == 1 and kept[0] in ("weather", "note")
        hits = await stems_search(conn, "notes", stems("weather"), 5)
    assert len(hits) == 5


async def test_a_small_index_keeps_every_stem(database: Database, tmp_path: Path) -> None:
    await index_channel(database, tmp_path, 20)
    async with database.read() as conn:
        assert await rare_stems(conn, ["weather", "glacier"]) == ["weather", "glacier"]
        hits = await stems_search(conn, "notes", stems("weather glacier"), 50)
    assert len(hits) == 20  # every post holds "weather"
