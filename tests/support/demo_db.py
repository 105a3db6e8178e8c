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
