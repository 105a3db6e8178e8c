"""One sync at a time: an exclusive `flock` on `<database>.sync.lock`.

Two syncs would read the same history twice and spend the account's request budget twice
(flood waits are per account). An `flock` is dropped by the kernel when its holder dies, so a
crashed sync leaves nothing stale; it is seen across containers sharing the volume.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from experts_panel.db.migrations import PRIVATE_FOLDER


class SyncRunning(Exception):
    """Another sync holds the lock; the message says so in one line."""


def sync_lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.sync.lock")


@contextmanager
def only_sync(database: Path) -> Iterator[None]:
    path = sync_lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncRunning(
                f"another `experts-panel sync` is running on {database} ({path}); this one "
                "did nothing"
            ) from None
        yield
    finally:
        os.close(fd)
