"""The daily token budget: past it, queries run on the embedded model and say so.

What queries spend goes through a ledger of the service's own. An import in another process
holds SQLite's write lock for as long as it runs (all of it is one transaction, tens of
seconds for a large export), longer than any busy timeout a reader should wait. So a query
never writes its usage itself: it hands it to the ledger and goes on, and one task writes
whatever has piled up, waiting out other writers and trying again until it is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

from experts_panel.db.database import Database, fetch_all, is_locked
from experts_panel.logs import get_logger
from experts_panel.pipeline.model import Usage

log = get_logger(__name__)

# After a failed attempt (which already waited the busy timeout when the file was locked).
RETRY_PAUSE_S = 1.0
# At shutdown: attempts left to write what is still pending before it is given up as lost.
CLOSING_ATTEMPTS = 2

_UPSERT = (
    "INSERT INTO token_usage (day, model_calls, prompt_tokens, completion_tokens) "
    "VALUES (?, ?, ?, ?) ON CONFLICT (day) DO UPDATE SET "
    "model_calls = model_calls + excluded.model_calls, "
    "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
    "completion_tokens = completion_tokens + excluded.completion_tokens"
)


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


async def spent_on(database: Database, day: str) -> int:
    """Tokens recorded in the database for `day` (what the ledger still holds not counted)."""
    async with database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT prompt_tokens + completion_tokens FROM token_usage WHERE day = ?",
            (day,),
        )
    return int(rows[0][0]) if rows else 0


@dataclass
class UsageLedger:
    """Token usage on its way to `token_usage`, one running total per UTC day.

    `add` never waits and never fails; `close` writes what is left when the service stops.
    """

    database: Database
    retry_pause_s: float = RETRY_PAUSE_S
    _pending: dict[str, Usage] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _closing: bool = False

    def add(self, usage: Usage) -> None:
        """Queue `usage` for today; the writer task is started on first use."""
        if usage.model_calls == 0:
            return
        self._pending.setdefault(today(), Usage()).add(usage)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="usage-ledger")

    def pending(self) -> dict[str, Usage]:
        """What is queued and not yet written, per day (copies)."""
        return {
            day: Usage(u.model_calls, u.prompt_tokens, u.completion_tokens)
            for day, u in self._pending.items()
        }

    async def spent_today(self) -> int:
        """Today's tokens: those written and those still queued, so the budget is exact."""
        day = today()
        queued = self._pending.get(day, Usage())
        return await spent_on(self.database, day) + queued.prompt_tokens + queued.completion_tokens

    async def close(self) -> None:
        """Write what is still queued, trying a few times, then stop the writer task."""
        self._closing = True
        if self._task is None:
            return
        self._wake.set()
        await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._write_until_done()
            if self._closing:
                return

    async def _write_until_done(self) -> None:
        failures = 0
        while self._pending:
            try:
                await self._write_pending()
                if failures:
                    log.info("token usage written after waiting", attempts=failures + 1)
                failures = 0
            except Exception as exc:  # the usage must survive any failure to write it
                failures += 1
                if self._closing and failures >= CLOSING_ATTEMPTS:
                    log.error(
                        "token usage lost at shutdown: the database stayed unwritable",
                        error=str(exc),
                        pending={day: vars(u) for day, u in self._pending.items()},
                    )
                    return
                if is_locked(exc):
                    log.info("token usage waits for another writer", attempts=failures)
                else:
                    log.warning("token usage not written yet", error=str(exc), exc_info=True)
                await asyncio.sleep(self.retry_pause_s)

    async def _write_pending(self) -> None:
        batch = self.pending()
        async with self.database.write() as conn:
            await conn.exec_driver_sql(
                _UPSERT,
                [
                    (day, u.model_calls, u.prompt_tokens, u.completion_tokens)
                    for day, u in batch.items()
                ],
            )
        # Only what was written leaves the ledger: queries may have added more meanwhile.
        for day, written in batch.items():
            left = self._pending[day]
            left.model_calls -= written.model_calls
            left.prompt_tokens -= written.prompt_tokens
            left.completion_tokens -= written.completion_tokens
            if left == Usage():
                del self._pending[day]
