"""What the service writes to disk is its own user's alone: the database, its WAL and
shared-memory files and the pre-migration backups 0600, the folders they are made in 0700.

The umask is the usual 022, under which files would be 0644 and folders 0755 by default.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from experts_panel.db.migrations import migrate
from tests.support.migrations import shipped, with_next
from tests.support.server import Server, ServerFactory


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_its_wal_and_shm_and_its_folder_are_private(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    db = tmp_path / "data" / "experts.db"
    server: Server = server_factory(db)  # `serve` creates and migrates it
    assert httpx.get(f"{server.url}/api/v1/experts").status_code == 200
    wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
    assert wal.exists() and shm.exists()  # the running service has them open
    assert {p.name: oct(mode(p)) for p in (db, wal, shm)} == {
        p.name: oct(0o600) for p in (db, wal, shm)
    }
    assert oct(mode(db.parent)) == oct(0o700)


def test_pre_migration_backups_and_their_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "backups", shipped())
    report = migrate(path, tmp_path / "backups", with_next("keep"))
    assert report.backup is not None
    assert oct(mode(report.backup)) == oct(0o600)
    assert oct(mode(tmp_path / "backups")) == oct(0o700)


def test_an_existing_folder_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    migrate(shared / "experts.db", tmp_path / "b")
    assert oct(mode(shared)) == oct(0o750)
    assert oct(mode(shared / "experts.db")) == oct(0o600)
