"""`experts-panel index`: bring an expert's full-text index and embeddings up to date.

Only what changed is redone: a post whose `content_hash` differs from the one its index row
was made from, a post with no row yet, and, for embeddings, every row made by another model.
Work is committed batch by batch, so an interrupted run keeps what it finished. With an
embedder, the expert's vocabulary for the language bridge (`vocabulary.py`) is recounted when
any post changed, or when it was never built (a database indexed before it existed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.database import Database, fetch_all
from experts_panel.retrieval.embedder import Embedder, to_blob
from experts_panel.retrieval.stemming import stem_text
from experts_panel.retrieval.vocabulary import has_vocabulary, index_vocabulary

SEARCH_BATCH = 1000
EMBED_BATCH = 64

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IndexReport:
    expert_id: str
    searchable_updated: int = 0
    embedded: int = 0
    model: str | None = None
    words_embedded: int = 0
    vocabulary_rebuilt: bool = False


async def _stale_search_ids(database: Database, expert_id: str, rebuild: bool) -> list[int]:
    async with database.read() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT p.id FROM posts p LEFT JOIN post_search_state s ON s.post_id = p.id "
            "WHERE p.expert_id = ? AND (? OR s.content_hash IS NULL "
            "OR s.content_hash != p.content_hash) ORDER BY p.id",
            (expert_id, rebuild),
        )
        return [row[0] for row in rows]


async def _stale_embedding_ids(
    database: Database, expert_id: str, model: str, rebuild: bool
) -> list[int]:
    async with database.read() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT p.id FROM posts p LEFT JOIN post_embeddings e ON e.post_id = p.id "
            "WHERE p.expert_id = ? AND (? OR e.post_id IS NULL OR e.model != ? "
            "OR e.content_hash != p.content_hash) ORDER BY p.id",
            (expert_id, rebuild, model),
        )
        return [row[0] for row in rows]


def _placeholders(n: int) -> str:
    return ", ".join("?" for _ in range(n))


async def _posts_by_id(conn: AsyncConnection, ids: list[int]) -> list[tuple[Any, ...]]:
    """(id, text, content_hash) of the given posts."""
    query = f"SELECT id, text, content_hash FROM posts WHERE id IN ({_placeholders(len(ids))})"
    return await fetch_all(conn, query, tuple(ids))


async def _index_search(
    database: Database, expert_id: str, ids: list[int], progress: Progress | None
) -> None:
    for start in range(0, len(ids), SEARCH_BATCH):
        chunk = ids[start : start + SEARCH_BATCH]
        async with database.write() as conn:
            rows = await _posts_by_id(conn, chunk)
            await conn.exec_driver_sql(
                f"DELETE FROM post_search WHERE rowid IN ({_placeholders(len(chunk))})",
                tuple(chunk),
            )
            await conn.exec_driver_sql(
                "INSERT INTO post_search (rowid, stems, expert_id) VALUES (?, ?, ?)",
                [(row[0], stem_text(row[1]), expert_id) for row in rows],
            )
            await conn.exec_driver_sql(
                "INSERT INTO post_search_state (post_id, content_hash) VALUES (?, ?) "
                "ON CONFLICT (post_id) DO UPDATE SET content_hash = excluded.content_hash",
                [(row[0], row[2]) for row in rows],
            )
        if progress is not None:
            progress("search", min(start + SEARCH_BATCH, len(ids)), len(ids))


async def _index_embeddings(
    database: Database,
    expert_id: str,
    ids: list[int],
    embedder: Embedder,
    progress: Progress | None,
) -> None:
    for start in range(0, len(ids), EMBED_BATCH):
        chunk = ids[start : start + EMBED_BATCH]
        async with database.read() as conn:
            rows = await _posts_by_id(conn, chunk)
        with_text = [row for row in rows if row[1].strip()]
        # The model runs in a thread: numpy releases the interpreter lock while it works.
        vectors = await asyncio.to_thread(embedder.encode, [row[1] for row in with_text])
        records = [
            (row[0], expert_id, embedder.name, row[2], embedder.dimensions, to_blob(vector))
            for row, vector in zip(with_text, vectors, strict=True)
        ]
        # A post with no text (a photo alone) gets an empty vector, so it is not retried.
        records += [
            (row[0], expert_id, embedder.name, row[2], 0, b"") for row in rows if not row[1].strip()
        ]
        async with database.write() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO post_embeddings "
                "(post_id, expert_id, model, content_hash, dimensions, vector) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (post_id) DO UPDATE SET "
                "model = excluded.model, content_hash = excluded.content_hash, "
                "dimensions = excluded.dimensions, vector = excluded.vector",
                records,
            )
        if progress is not None:
            progress("embeddings", min(start + EMBED_BATCH, len(ids)), len(ids))


async def _bump_generation(database: Database, expert_id: str) -> None:
    async with database.write() as conn:
        await conn.execute(
            text(
                "INSERT INTO search_generation (expert_id, generation) VALUES (:e, 1) "
                "ON CONFLICT (expert_id) DO UPDATE SET generation = generation + 1"
            ),
            {"e": expert_id},
        )


async def index_expert(
    database: Database,
    expert_id: str,
    embedder: Embedder | None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> IndexReport:
    """Update the expert's full-text index and, when an embedder is given, its embeddings."""
    report = IndexReport(expert_id, model=embedder.name if embedder else None)
    search_ids = await _stale_search_ids(database, expert_id, rebuild)
    await _index_search(database, expert_id, search_ids, progress)
    report.searchable_updated = len(search_ids)
    if embedder is not None:
        embed_ids = await _stale_embedding_ids(database, expert_id, embedder.name, rebuild)
        await _index_embeddings(database, expert_id, embed_ids, embedder, progress)
        report.embedded = len(embed_ids)
        changed = bool(report.searchable_updated or report.embedded)
        if changed or rebuild or not await has_vocabulary(database, expert_id):
            report.words_embedded = await index_vocabulary(database, expert_id, embedder, progress)
            report.vocabulary_rebuilt = True
    if report.searchable_updated or report.embedded or report.vocabulary_rebuilt:
        await _bump_generation(database, expert_id)
    return report
