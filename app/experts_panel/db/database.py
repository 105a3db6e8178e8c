"""Opening the database: migrate (with a backup first) then hand out the async engine."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from experts_panel.db.engine import BEGIN_IMMEDIATE, BUSY_TIMEOUT_MS, create_engine
from experts_panel.db.migrations import MigrationReport, migrate
from experts_panel.settings import Settings


class Database:
    """The service's one handle on SQLite; every query goes through its connections."""

    def __init__(self, engine: AsyncEngine, path: Path) -> None:
        self.engine = engine
        self.path = path
        self._watch: sqlite3.Connection | None = None

    @classmethod
    async def open(
        cls, settings: Settings, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> tuple[Database, MigrationReport]:
        """Migrate the file named by `DATABASE_URL` (raises `MigrationError`), then connect.

        `busy_timeout_ms`: how long a write waits for another process's to end before failing.
        """
        report = await asyncio.to_thread(migrate, settings.database_path, settings.backup_dir)
        engine = create_engine(settings.DATABASE_URL, busy_timeout_ms)
        return cls(engine, settings.database_path), report

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One transaction: committed when the block ends, rolled back if it raises.

        It takes SQLite's write lock at its start, waiting up to the busy timeout while
        another connection or process holds it, so nothing it reads can change under it.
        """
        async with self.engine.connect() as conn:
            await conn.execution_options(**{BEGIN_IMMEDIATE: True})
            async with conn.begin():
                yield conn

    async def ping(self) -> None:
        """Raise unless the database file can be opened and read right now.

        Pooled connections keep working on a file that was deleted or made unreadable, so the
        check opens a fresh one (without creating anything) beside a query on the pool.
        """
        await asyncio.to_thread(self._probe_file)
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM schema_migrations"))

    def data_version(self) -> int | None:
        """A number that changes whenever another connection commits to the file.

        SQLite's `PRAGMA data_version`, read on a connection kept for nothing else: in WAL
        mode a look at the shared-memory index, a few microseconds with no disk read, so it
        may be called on the event loop. It lets small tables be kept in memory and re-read
        only after a commit, which takes a database round trip off every greeting. None
        (treat as changed) when the file cannot be read at this instant.
        """
        try:
            if self._watch is None:
                self._watch = sqlite3.connect(
                    self._file_uri(),
                    uri=True,
                    timeout=0,
                    check_same_thread=False,
                )
            version: int = self._watch.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return None
        return version

    def _file_uri(self) -> str:
        """The file, opened read-write but never created (a missing file is an error)."""
        return f"{self.path.resolve().as_uri()}?mode=rw"

    def _probe_file(self) -> None:
        conn = sqlite3.connect(self._file_uri(), uri=True, timeout=5)
        try:
            conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
        finally:
            conn.close()

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        await self.engine.dispose()


def is_locked(exc: BaseException) -> bool:
    """Whether `exc` is SQLite's "another writer holds the lock" (after the busy timeout)."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, sqlite3.OperationalError) and (
        "locked" in str(orig) or "busy" in str(orig)
    )


async def fetch_all(
    conn: AsyncConnection, sql: str, params: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """Rows of a plain SQL query as tuples: the bulk paths use SQL directly, for speed."""
    result = await conn.exec_driver_sql(sql, params)
    return [tuple(row) for row in result]
