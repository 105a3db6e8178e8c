"""`experts-panel analyze-drift`: find discussions that moved away from their post's topic.

With a model key the model reads each post and its comments. Without one, the embedded way:
comments whose sentence embedding is far from the post's are drift; when enough of them
drift, their most frequent words and their opening phrases describe the new topic.
Results go to `comment_group_drift`, one row per post, marked with what analysed them.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from experts_panel.db.database import Database, fetch_all
from experts_panel.pipeline.types import CommentItem
from experts_panel.retrieval.embedder import Embedder
from experts_panel.retrieval.stemming import words

MIN_COMMENTS = 3
# Comments on a post's topic score about 0.15-0.5 against the post (USE multilingual v3, on
# the demo experts); short replies score low too, so a drift must also hold together: the
# drifting comments must be closer to one another than to the post.
DRIFT_SIMILARITY = 0.12
COHERENCE = 0.25
MIN_DRIFTING = 2
MIN_COMMENT_CHARS = 25

Analyse = Callable[[str, list[CommentItem]], Awaitable[tuple[bool, list[dict[str, Any]]]]]


@dataclass
class DriftReport:
    expert_id: str
    analyzed: int = 0
    drifted: int = 0
    analyzed_by: str = ""


def embedded_analyser(embedder: Embedder) -> Analyse:
    async def analyse(
        post_text: str, comments: list[CommentItem]
    ) -> tuple[bool, list[dict[str, Any]]]:
        usable = [c for c in comments if len(c.text.strip()) >= MIN_COMMENT_CHARS]
        if len(usable) < MIN_DRIFTING or not post_text.strip():
            return False, []
        vectors = await asyncio.to_thread(embedder.encode, [post_text, *(c.text for c in usable)])
        similarity = vectors[1:] @ vectors[0]
        far = [i for i, s in enumerate(similarity) if s < DRIFT_SIMILARITY]
        if len(far) < MIN_DRIFTING:
            return False, []
        among = vectors[1:][far] @ vectors[1:][far].T
        np.fill_diagonal(among, -1.0)
        drifting = [usable[i] for j, i in enumerate(far) if among[j].max() >= COHERENCE]
        if len(drifting) < MIN_DRIFTING:
            return False, []
        post_words = set(words(post_text))
        counts = Counter(
            w for c in drifting for w in words(c.text) if len(w) >= 5 and w not in post_words
        )
        openings = [" ".join(c.text.split()[:8]) for c in drifting[:3]]
        topic = {
            "topic": openings[0],
            "keywords": [w for w, _ in counts.most_common(6)],
            "key_phrases": openings,
            "context": (
                f"{len(drifting)} of {len(usable)} comments talk about something other than "
                f"the post (similarity to it under {DRIFT_SIMILARITY}, mean "
                f"{float(np.mean(similarity)):.2f})"
            ),
        }
        return True, [topic]

    return analyse


async def analyze_expert(
    database: Database,
    expert_id: str,
    analyse: Analyse,
    analyzed_by: str,
    redo: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DriftReport:
    report = DriftReport(expert_id, analyzed_by=analyzed_by)
    async with database.read() as conn:
        posts = await fetch_all(
            conn,
            "SELECT p.telegram_message_id, p.text FROM posts p "
            "WHERE p.expert_id = ? AND (SELECT count(*) FROM comments c WHERE c.expert_id = ? "
            "AND c.post_telegram_message_id = p.telegram_message_id) >= ? "
            "AND (? OR NOT EXISTS (SELECT 1 FROM comment_group_drift d WHERE d.expert_id = ? "
            "AND d.post_telegram_message_id = p.telegram_message_id)) "
            "ORDER BY p.telegram_message_id",
            (expert_id, expert_id, MIN_COMMENTS, redo, expert_id),
        )
    for done, (post_id, post_text) in enumerate(posts, start=1):
        async with database.read() as conn:
            rows = await fetch_all(
                conn,
                "SELECT telegram_message_id, author_name, text, date, is_channel_author "
                "FROM comments WHERE expert_id = ? AND post_telegram_message_id = ? ORDER BY date",
                (expert_id, post_id),
            )
        comments = [
            CommentItem(int(r[0]), int(post_id), r[1], str(r[2]), str(r[3]), bool(r[4]))
            for r in rows
        ]
        has_drift, topics = await analyse(str(post_text), comments)
        async with database.write() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO comment_group_drift (expert_id, post_telegram_message_id, has_drift, "
                "drift_topics, analyzed_at, analyzed_by) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (expert_id, post_telegram_message_id) DO UPDATE SET "
                "has_drift = excluded.has_drift, drift_topics = excluded.drift_topics, "
                "analyzed_at = excluded.analyzed_at, analyzed_by = excluded.analyzed_by",
                (
                    expert_id,
                    post_id,
                    int(has_drift),
                    json.dumps(topics, ensure_ascii=False),
                    datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    analyzed_by,
                ),
            )
        report.analyzed += 1
        report.drifted += int(has_drift)
        if progress is not None:
            progress(done, len(posts))
    return report
