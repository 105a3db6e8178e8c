"""The async engine: SQLAlchemy over aiosqlite, with the pragmas every connection needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

# How long a statement waits for another connection's write lock before it fails. The service
# keeps it short: its only writes (token usage) are retried by a queue of their own. The
# commands that write in batches wait as long as `WRITE_WAIT_SECONDS` says.
BUSY_TIMEOUT_MS = 10_000

# The execution option that makes a transaction a writer's from its first statement.
BEGIN_IMMEDIATE = "experts_panel_begin_immediate"


def create_engine(database_url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine:
    # A pool of open connections, named rather than left to SQLAlchemy: before 2.0.38 its
    # aiosqlite default for a file was no pool at all, so every request opened the file again,
    # ran the pragmas below and dropped its page cache (and the WAL with the last one closed).
    pooled = make_url(database_url).database not in (None, "", ":memory:")
    engine = create_async_engine(
        database_url,
        connect_args={"timeout": busy_timeout_ms / 1000},
        **({"poolclass": AsyncAdaptedQueuePool} if pooled else {}),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin, so that
        # `engine.begin()` really is one transaction from its first statement to its last.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # 8 MiB of page cache per connection: a busy server holds up to 15 of them.
        cursor.execute("PRAGMA cache_size = -8192")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that has read and then writes cannot wait for the lock: if
        # another process writes first, SQLite fails it at once ("database is locked") and
        # the busy timeout never applies. A writer takes the lock at BEGIN, where it waits.
        immediate = connection.get_execution_options().get(BEGIN_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
