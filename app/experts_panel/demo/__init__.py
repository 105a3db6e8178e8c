"""The demo panel: three fictional experts bundled with the package, imported afresh each run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from experts_panel.db.database import Database
from experts_panel.db.migrations import read_state
from experts_panel.importing.comments import CommentImportSummary, import_comments
from experts_panel.importing.posts import PostImportSummary, import_posts
from experts_panel.in_use import recreating
from experts_panel.retrieval.embedder import UniversalSentenceEncoder
from experts_panel.retrieval.indexer import index_expert
from experts_panel.settings import Settings

DEMO_DATABASE_URL = "sqlite+aiosqlite:///./data/demo.db"


class DemoError(Exception):
    """The demo cannot run; the message says why."""


@dataclass(frozen=True)
class DemoExpert:
    expert_id: str
    username: str
    export: Path
    comments: Path


def demo_experts() -> list[DemoExpert]:
    root = Path(str(resources.files("experts_panel.demo") / "data"))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    return [
        DemoExpert(e["expert_id"], e["username"], root / e["export"], root / e["comments"])
        for e in manifest
    ]


def _refuse_foreign_database(path: Path, demo_ids: set[str]) -> None:
    """The demo recreates its database; never delete one that holds other experts."""
    import sqlite3

    if not path.exists():
        return
    state = read_state(path)
    if not state.exists or state.version == 0:
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ids = {row[0] for row in conn.execute("SELECT id FROM experts")}
    finally:
        conn.close()
    if others := ids - demo_ids:
        raise DemoError(
            f"{path} holds experts that are not the demo's ({', '.join(sorted(others))}); "
            "the demo recreates its database, so point DATABASE_URL elsewhere"
        )


async def build_demo(
    settings: Settings,
) -> list[tuple[PostImportSummary, CommentImportSummary]]:
    """Delete the database file and make it again from the bundled experts. Refused (raises
    `InUseError`) while a service is using the file: it would go on reading the deleted one."""
    experts = demo_experts()
    path = settings.database_path
    with recreating(path):
        _refuse_foreign_database(path, {e.expert_id for e in experts})
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        database, _ = await Database.open(settings)
        summaries = []
        try:
            async with database.write() as conn:
                for expert in experts:
                    posts = await import_posts(
                        conn, expert.export, expert.expert_id, expert.username
                    )
                    found = await import_comments(conn, expert.comments, expert.expert_id)
                    summaries.append((posts, found))
            embedder = UniversalSentenceEncoder()
            for expert in experts:
                await index_expert(database, expert.expert_id, embedder)
        finally:
            await database.close()
    return summaries
