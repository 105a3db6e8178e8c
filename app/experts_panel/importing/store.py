"""Storing imported rows: what changed is written, what is the same is left, and counted.

Posts and comments are stored the same way: each row carries a hash of the fields an edit or
a newer export may change, the rows already there are compared by it, and only the new and
the changed ones are written, by one `INSERT ... ON CONFLICT DO UPDATE` per batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from experts_panel.db.schema import import_runs, links
from experts_panel.experts import now_iso
from experts_panel.importing.rows import LinkCandidate

# Rows per statement, and ids per `IN (...)`.
BATCH = 500
KEY = ("expert_id", "telegram_message_id")


def upsert_sql(
    table: str, key: tuple[str, ...], columns: tuple[str, ...], changing: tuple[str, ...]
) -> str:
    """An INSERT ... ON CONFLICT DO UPDATE for executemany with positional parameters.

    Written as SQL rather than built per batch by SQLAlchemy: at 100,000 rows the statement
    compilation and parameter processing cost more than SQLite's own work.
    """
    updates = ", ".join(f"{name} = excluded.{name}" for name in changing)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


@dataclass
class Stored:
    """What one batch did: rows added, the ids of rows changed, rows already as they were."""

    added: int = 0
    updated_ids: list[int] = field(default_factory=list)
    unchanged: int = 0


class HashedRows:
    """One expert's rows of `table`, written when their `content_hash` differs.

    Rows are tuples in `columns` order, which holds `telegram_message_id` and
    `content_hash`; `fields` are the columns an update may change (with the hash and
    `updated_at`). `fresh` says the expert has no rows yet, so there is nothing to compare.
    """

    def __init__(
        self,
        conn: AsyncConnection,
        table: Table,
        columns: tuple[str, ...],
        fields: tuple[str, ...],
        expert_id: str,
        fresh: bool = False,
    ) -> None:
        self.conn = conn
        self.table = table
        self.expert_id = expert_id
        self.fresh = fresh
        self.id_index = columns.index("telegram_message_id")
        self.hash_index = columns.index("content_hash")
        self.sql = upsert_sql(table.name, KEY, columns, (*fields, "content_hash", "updated_at"))

    async def upsert(self, rows: Sequence[tuple[Any, ...]]) -> Stored:
        stored = Stored()
        if not rows:
            return stored
        existing: dict[int, str] = {}
        if not self.fresh:
            ids = [row[self.id_index] for row in rows]
            c = self.table.c
            existing = dict(
                (
                    await self.conn.execute(
                        select(c.telegram_message_id, c.content_hash).where(
                            c.expert_id == self.expert_id, c.telegram_message_id.in_(ids)
                        )
                    )
                ).all()
            )
        changed = []
        for row in rows:
            before = existing.get(row[self.id_index])
            if before is None:
                stored.added += 1
                changed.append(row)
            elif before != row[self.hash_index]:
                stored.updated_ids.append(row[self.id_index])
                changed.append(row)
            else:
                stored.unchanged += 1
        if changed:
            await self.conn.exec_driver_sql(self.sql, changed)
        return stored


@dataclass
class LinksStored:
    reply: int = 0
    mention: int = 0
    dangling: int = 0  # a target that is not a post of this expert


async def replace_links(
    conn: AsyncConnection,
    expert_id: str,
    changed: Sequence[int],
    candidates: Sequence[LinkCandidate],
    known: set[int],
) -> LinksStored:
    """Rebuild the outgoing links of the changed posts (an edit may have dropped a mention)
    and store the candidates whose target is a post of this expert (`known`)."""
    for start in range(0, len(changed), BATCH):
        await conn.execute(
            delete(links).where(
                links.c.expert_id == expert_id,
                links.c.source_message_id.in_(changed[start : start + BATCH]),
            )
        )
    counts = LinksStored()
    rows = []
    for source, target, kind in dict.fromkeys(candidates):
        if target not in known:
            counts.dangling += 1
            continue
        rows.append((expert_id, source, target, kind))
        if kind == "reply":
            counts.reply += 1
        else:
            counts.mention += 1
    if rows:
        await conn.exec_driver_sql(
            "INSERT OR IGNORE INTO links "
            "(expert_id, source_message_id, target_message_id, link_type) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
    return counts


async def record_run(
    conn: AsyncConnection,
    expert_id: str,
    kind: Literal["posts", "comments"],
    path: Path,
    started: str,
    summary: dict[str, Any],
) -> None:
    """Log a finished import in `import_runs`, with its summary as JSON."""
    await conn.execute(
        import_runs.insert().values(
            expert_id=expert_id,
            kind=kind,
            source_name=path.name,
            started_at=started,
            finished_at=now_iso(),
            summary=json.dumps(summary, ensure_ascii=False),
        )
    )
