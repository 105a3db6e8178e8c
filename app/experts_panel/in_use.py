"""Whether a service is using a database file: a lock beside it that the service holds.

`experts-panel demo` recreates its database file. A service that has the old file open keeps
reading the deleted file and never sees the new one, so the demo must not recreate a file a
service is using. The service holds a shared `flock` on `<database>.lock` from before it
migrates until it exits; the demo takes the same lock exclusively while it rebuilds. An
`flock` lives on the file's inode in the kernel, so it is seen across processes, and across
containers that share the volume, and the kernel drops it when its holder dies, however it
dies: nothing stale is left behind. It is a separate file because the database file itself is
replaced by the demo (a lock on it would go with it), and because SQLite's own locks on the
database file are lost when any other descriptor of that file in the process is closed.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from experts_panel.db.migrations import PRIVATE_FOLDER


class InUseError(Exception):
    """The lock cannot be taken: held the other way, or its file cannot be opened. The
    message says why, in one line."""


def lock_path(database: Path) -> Path:
    return database.with_name(f"{database.name}.lock")


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            # Made by another user (a root shell, another container's uid): flock needs no
            # write access.
            return os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise InUseError(f"{path}: cannot open the database's lock file: {exc.strerror}") from exc


def _try_lock(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def serving(database: Path) -> Iterator[None]:
    """Held by the service while it has DATABASE; several services may hold it at once."""
    fd = _open(lock_path(database))
    try:
        if not _try_lock(fd, fcntl.LOCK_SH):
            raise InUseError(
                f"{database}: `experts-panel demo` is recreating it; "
                "start the service when the demo has finished"
            )
        yield
    finally:
        os.close(fd)


@contextmanager
def recreating(database: Path) -> Iterator[None]:
    """Held while DATABASE is deleted and made again; only when nothing else holds it."""
    fd = _open(lock_path(database))
    try:
        if not _try_lock(fd, fcntl.LOCK_EX):
            # Shared holders are services; an exclusive one is another demo rebuilding.
            if _try_lock(fd, fcntl.LOCK_SH):
                raise InUseError(
                    f"{database}: a running experts-panel service is using it; stop the "
                    "service first, since the demo deletes and recreates the file"
                )
            raise InUseError(f"{database}: another `experts-panel demo` is recreating it")
        yield
    finally:
        os.close(fd)
