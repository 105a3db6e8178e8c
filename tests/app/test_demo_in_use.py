"""`experts-panel demo` recreates its database file, so it must never do so under a running
service: the service would keep reading the deleted file and serve none of the new experts.
Found in the compose stack, where `demo --no-serve` beside the running API left it answering
`[]` until it was restarted."""

from __future__ import annotations

from pathlib import Path

import httpx

from experts_panel.in_use import recreating
from tests.support.demo_db import demo_counts
from tests.support.server import ServerFactory, cli_env, run_cli, start_server


def test_demo_does_not_recreate_the_database_a_service_uses(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    db = tmp_path / "data" / "demo.db"
    server = server_factory(db)
    inode = db.stat().st_ino

    result = run_cli("demo", "--no-serve", env=cli_env(db))

    served = sorted(e["id"] for e in httpx.get(f"{server.url}/api/v1/experts").json())
    assert served == sorted(demo_counts(db)), "the service serves another file than the one named"
    assert db.stat().st_ino == inode
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {db}: a running experts-panel service is using it; stop the service first, "
        "since the demo deletes and recreates the file\n"
    )
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_demo_recreates_the_database_once_the_service_stopped(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    db = tmp_path / "demo.db"
    server_factory(db).stop()
    result = run_cli("demo", "--no-serve", env=cli_env(db))
    assert result.returncode == 0, result.stderr
    assert len(demo_counts(db)) == 3


def test_demo_is_refused_beside_a_service_killed_and_restarted(
    tmp_path: Path, server_factory: ServerFactory
) -> None:
    """The kernel drops a dead holder's lock: a killed service leaves nothing stale, and the
    one started after it holds the lock again."""
    db = tmp_path / "demo.db"
    first = server_factory(db)
    first.process.kill()
    first.process.wait()
    server_factory(db)
    result = run_cli("demo", "--no-serve", env=cli_env(db))
    assert result.returncode == 1
    assert "a running experts-panel service is using it" in result.stderr


def test_the_service_does_not_start_while_the_demo_recreates_its_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "demo.db"
    with recreating(db):  # as a demo holds it while it rebuilds
        try:
            start_server(db).stop()
        except RuntimeError as exc:
            message = str(exc)
        else:
            raise AssertionError("the service started while the demo recreated its database")
    assert message.endswith(
        f"error: {db}: `experts-panel demo` is recreating it; start the service when the demo "
        "has finished\n"
    )
    assert not db.exists()  # refused before migrating anything
