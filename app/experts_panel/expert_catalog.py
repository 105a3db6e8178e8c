"""The experts a query may ask, held in memory and re-read only after a commit.

Every query starts by naming its experts (an unknown id is a 422, so this happens before the
stream opens). Under a burst of readers a database round trip per greeting queues behind the
work of the queries already running; the catalogue answers from memory instead, and asks
SQLite's `data_version` (a microsecond look, no round trip) whether anything was committed
since it last read the table. An import or a removal by the CLI, in another process, is seen
by the next query.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from experts_panel.db.database import Database
from experts_panel.experts import Expert, all_experts


class UnknownExperts(ValueError):
    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"unknown experts: {', '.join(repr(i) for i in ids)}")
        self.ids = ids


@dataclass
class ExpertCatalog:
    database: Database
    _experts: tuple[Expert, ...] = ()
    # The database's data_version when the table was read; None: never read (or unknowable).
    _version: int | None = None
    # One re-read at a time: a burst after a commit waits for it rather than repeating it.
    _reading: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def all(self) -> list[Expert]:
        """Every expert, in id order, as of the last commit."""
        if not self._fresh():
            async with self._reading:
                if not self._fresh():
                    # The version first: a commit landing during the read makes the next
                    # call read again, never keeps a stale list.
                    version = self.database.data_version()
                    async with self.database.read() as conn:
                        self._experts = tuple(await all_experts(conn))
                    self._version = version
        return list(self._experts)

    async def resolve(self, wanted: list[str] | None) -> list[Expert]:
        """The experts asked for (all when `wanted` is None), in the order asked."""
        known = await self.all()
        if wanted is None:
            return known
        by_id = {e.id: e for e in known}
        missing = [i for i in wanted if i not in by_id]
        if missing:
            raise UnknownExperts(missing)
        return [by_id[i] for i in wanted]

    def _fresh(self) -> bool:
        return self._version is not None and self.database.data_version() == self._version
