"""The window's start, and the retrieval that keeps within it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from experts_panel.db.database import Database
from experts_panel.importing.posts import import_posts
from experts_panel.pipeline.recency import months_back, window_start
from experts_panel.retrieval.dense import ExpertVectors, nearest
from experts_panel.retrieval.indexer import index_expert
from experts_panel.retrieval.lexical import stems_search
from experts_panel.retrieval.stemming import stems
from tests.support.exports import chat, message, write


@pytest.mark.parametrize(
    ("now", "months", "start"),
    [
        (datetime(2026, 12, 6, 9, 30, tzinfo=UTC), 3, datetime(2026, 9, 6, 9, 30, tzinfo=UTC)),
        (datetime(2026, 2, 15, tzinfo=UTC), 3, datetime(2025, 11, 15, tzinfo=UTC)),
        (datetime(2026, 1, 1, tzinfo=UTC), 1, datetime(2025, 12, 1, tzinfo=UTC)),
        (datetime(2026, 12, 31, tzinfo=UTC), 12, datetime(2025, 12, 31, tzinfo=UTC)),
        # A day the earlier month lacks: its last day, never the next month's first.
        (datetime(2026, 5, 31, tzinfo=UTC), 3, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 5, 31, tzinfo=UTC), 3, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2026, 12, 6, tzinfo=UTC), 120, datetime(2016, 12, 6, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months(now: datetime, months: int, start: datetime) -> None:
    assert months_back(now, months) == start


def test_the_start_is_written_as_post_dates_are_in_utc() -> None:
    # 01:00 on 1 March in UTC+3 is 22:00 on 28 February in UTC: the window counts from UTC.
    moscow = datetime(2026, 3, 1, 1, 0, 0, 700_000, tzinfo=timezone(timedelta(hours=3)))
    assert window_start(3, moscow) == "2025-11-28T22:00:00"
    assert window_start(None, moscow) is None


def test_the_boundary_second_is_inside_with_or_without_a_zone_letter() -> None:
    start = window_start(3, datetime(2026, 12, 6, 9, 30, 0, 999_999, tzinfo=UTC))
    assert start == "2026-09-06T09:30:00"
    # Stored dates are compared as text, the way the index serves them.
    inside = ["2026-09-06T09:30:00Z", "2026-09-06T09:30:00", "2026-12-06T09:30:00Z"]
    outside = ["2026-09-06T09:29:59Z", "2026-09-05T23:59:59Z", "2025-12-06T09:30:00Z"]
    assert [date >= start for date in inside + outside] == [True] * 3 + [False] * 3


def test_nearest_within_a_window_gives_the_windows_best_not_the_archives_leftovers() -> None:
    matrix = np.array([[1.0, 0.0], [0.9, 0.436], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    ids = np.array([10, 11, 12, 13], dtype=np.int64)
    vectors = ExpertVectors(1, ids, ids + 100, matrix)
    query = np.array([1.0, 0.0], dtype=np.float32)
    # Without a window the two nearest are old posts 10 and 11; within it, 13 then 12.
    assert [h.post_id for h in nearest(vectors, query, 2)] == [10, 11]
    within = nearest(vectors, query, 2, among=[12, 13, 99])
    assert [(h.post_id, h.telegram_message_id) for h in within] == [(13, 113), (12, 112)]
    assert nearest(vectors, query, 2, among=[]) == []


async def test_full_text_counts_its_limit_within_the_window(
    database: Database, tmp_path: Path
) -> None:
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    posts = [
        message(i, now - timedelta(days=400 + i), f"Бэкапы, бэкапы и снова бэкапы {i}.")
        for i in range(1, 6)
    ] + [message(9, now - timedelta(days=10), "Про бэкапы: свежая, длинная заметка о сервере.")]
    source = write(tmp_path / "ops.json", chat(posts, name="Ops", chat_id=11))
    async with database.write() as conn:
        await import_posts(conn, source, "ops")
    await index_expert(database, "ops", None)
    since = window_start(3, now)
    async with database.read() as conn:
        everything = await stems_search(conn, "ops", stems("бэкапы"), 3)
        recent = await stems_search(conn, "ops", stems("бэкапы"), 3, since)
    # The recent post ranks below the old ones: filtered after the LIMIT, it would be lost.
    assert len(everything) == 3 and 9 not in [h.telegram_message_id for h in everything]
    assert [h.telegram_message_id for h in recent] == [9]
