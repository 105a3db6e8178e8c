"""The bundled demo experts, imported and indexed once per test session, copied per test."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

from experts_panel.demo import build_demo
from experts_panel.settings import load_settings


def build(folder: Path) -> Path:
    path = folder / "demo.db"
    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{path}"})
    asyncio.run(build_demo(settings))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def copy(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "demo.db"
    shutil.copyfile(source, target)
    return target


def demo_counts(db: Path) -> dict[str, tuple[int, int]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT e.id, (SELECT count(*) FROM posts p WHERE p.expert_id = e.id), "
            "(SELECT count(*) FROM comments c WHERE c.expert_id = e.id) FROM experts e"
        ).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}
    finally:
        conn.close()


def break_retrieval(path: Path, expert_id: str) -> None:
    """A corrupt index row (a vector of the wrong size): the expert's retrieval fails."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(
            "UPDATE post_embeddings SET dimensions = 7, vector = x'00' "
            "WHERE expert_id = ? AND post_id = (SELECT min(post_id) "
            "FROM post_embeddings WHERE expert_id = ? AND dimensions > 0)",
            (expert_id, expert_id),
        )
        conn.execute("UPDATE search_generation SET generation = generation + 1")
        conn.commit()
    finally:
        conn.close()
