"""The in-memory catalogue of experts: no round trip while nothing changed, and every commit
by another connection (the CLI is another process) seen by the next query."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from experts_panel.db.database import Database
from experts_panel.expert_catalog import ExpertCatalog, UnknownExperts
from experts_panel.experts import create_expert
from tests.support import demo_db
from tests.support.server import cli_env, run_cli, start_server


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """Every SQL statement the engine sends while the block runs (an event listener)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen.append(sql)

    event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", record)


def insert_expert(db_path: Path, expert_id: str) -> None:
    """A commit from outside the service's engine, as `experts-panel import` makes one."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO experts (id, display_name, created_at, updated_at) "
                "VALUES (?, ?, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                (expert_id, expert_id.title()),
            )
    finally:
        conn.close()


async def test_the_table_is_read_once_while_nothing_is_committed(database: Database) -> None:
    async with database.write() as conn:
        await create_expert(conn, "beta", "Beta")
        await create_expert(conn, "alpha", "Alpha")
    catalog = ExpertCatalog(database)
    with statements(database) as first:
        assert [e.id for e in await catalog.all()] == ["alpha", "beta"]
    assert any("FROM experts" in sql for sql in first)
    with statements(database) as later:
        for _ in range(5):
            assert [e.id for e in await catalog.resolve(None)] == ["alpha", "beta"]
            assert [e.id for e in await catalog.resolve(["beta", "alpha"])] == ["beta", "alpha"]
    assert later == []


async def test_a_commit_elsewhere_is_seen_by_the_next_call(
    database: Database, db_path: Path
) -> None:
    async with database.write() as conn:
        await create_expert(conn, "alpha", "Alpha")
    catalog = ExpertCatalog(database)
    with pytest.raises(UnknownExperts, match="'gamma'"):
        await catalog.resolve(["alpha", "gamma"])
    insert_expert(db_path, "gamma")
    assert [e.id for e in await catalog.resolve(["alpha", "gamma"])] == ["alpha", "gamma"]
    # The service's own commits count as well: its pool's connections are other connections.
    async with database.write() as conn:
        await create_expert(conn, "delta", "Delta")
    assert [e.id for e in await catalog.all()] == ["alpha", "delta", "gamma"]


async def test_unknown_ids_are_all_named(database: Database) -> None:
    async with database.write() as conn:
        await create_expert(conn, "alpha", "Alpha")
    with pytest.raises(UnknownExperts) as raised:
        await ExpertCatalog(database).resolve(["nope", "alpha", "other"])
    assert raised.value.ids == ["nope", "other"]
    assert str(raised.value) == "unknown experts: 'nope', 'other'"


def test_a_running_server_sees_an_expert_removed_by_the_cli(
    demo_source: Path, tmp_path: Path
) -> None:
    db_path = demo_db.copy(demo_source, tmp_path / "demo")
    server = start_server(db_path)
    try:
        ask = {"query": "Как делать бэкапы SQLite?", "stream_progress": False}
        before = httpx.post(f"{server.url}/api/v1/query", json=ask, timeout=60)
        assert before.status_code == 200
        answered = {e["expert_id"] for e in before.json()["expert_responses"]}
        assert "product_notes" in answered
        removed = run_cli("experts", "remove", "product_notes", "--yes", env=cli_env(db_path))
        assert removed.returncode == 0, removed.stderr
        after = httpx.post(f"{server.url}/api/v1/query", json=ask, timeout=60)
        assert after.status_code == 200
        assert {e["expert_id"] for e in after.json()["expert_responses"]} == answered - {
            "product_notes"
        }
        named = httpx.post(
            f"{server.url}/api/v1/query",
            json={**ask, "expert_filter": ["product_notes"]},
            timeout=60,
        )
        assert named.status_code == 422
        assert "unknown experts: 'product_notes'" in named.text
    finally:
        server.stop()
