"""The daily token budget: past it, queries run on the embedded model and say so."""

from __future__ import annotations

from datetime import UTC, datetime

from experts_panel.db.database import Database, fetch_all
from experts_panel.llm.types import Usage


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


async def spent_today(database: Database) -> int:
    async with database.read() as conn:
        rows = await fetch_all(
            conn,
            "SELECT prompt_tokens + completion_tokens FROM token_usage WHERE day = ?",
            (today(),),
        )
    return int(rows[0][0]) if rows else 0


async def record(database: Database, usage: Usage) -> None:
    if usage.model_calls == 0:
        return
    async with database.write() as conn:
        await conn.exec_driver_sql(
            "INSERT INTO token_usage (day, model_calls, prompt_tokens, completion_tokens) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (day) DO UPDATE SET "
            "model_calls = model_calls + excluded.model_calls, "
            "prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
            "completion_tokens = completion_tokens + excluded.completion_tokens",
            (today(), usage.model_calls, usage.prompt_tokens, usage.completion_tokens),
        )
