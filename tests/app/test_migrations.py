from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from experts_panel.db.migrations import (
    MigrationError,
    migrate,
    parse_migration,
    read_state,
)
from experts_panel.db.schema import metadata
from tests.support.migrations import shipped, with_next
from tests.support.server import cli_env, run_cli


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fresh_database_is_created_at_the_newest_schema(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "experts.db"
    report = migrate(path, tmp_path / "backups")
    assert report.from_version == 0
    assert report.to_version == len(shipped())
    assert report.backup is None  # nothing to lose yet
    state = read_state(path)
    assert state.version == len(shipped())
    assert state.oldest_compatible == 1
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"experts", "posts", "links", "comments", "comment_group_drift"} <= tables


def test_schema_module_matches_the_migrated_database(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b")
    conn = sqlite3.connect(path)
    for table in metadata.sorted_tables:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table.name})")]
        assert columns == [c.name for c in table.columns], table.name


def test_second_run_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b")
    report = migrate(path, tmp_path / "b")
    assert report.applied == []
    assert not (tmp_path / "b").exists()


def test_upgrade_takes_a_backup_first_and_records_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", shipped())
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO experts (id, display_name, created_at, updated_at) VALUES ('a', 'A', 'x', 'x')"
    )
    conn.commit()
    conn.close()
    n = len(shipped())
    report = migrate(path, tmp_path / "b", with_next("keep"))
    assert report.applied == [f"{n + 1:04d}_notes"]
    assert report.backup is not None and report.backup.exists()
    assert f"pre-migrate-{n:04d}-to-{n + 1:04d}" in report.backup.name
    backup = sqlite3.connect(report.backup)
    assert backup.execute("SELECT id FROM experts").fetchall() == [("a",)]
    assert backup.execute("SELECT max(version) FROM schema_migrations").fetchone() == (n,)
    state = read_state(path)
    assert state.version == n + 1 and state.oldest_compatible == 1


def test_each_shipped_migration_upgrades_a_database_holding_data(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", shipped()[:1])
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO experts (id, display_name, created_at, updated_at) VALUES ('a', 'A', 'x', 'x')"
    )
    conn.execute(
        "INSERT INTO posts (expert_id, telegram_message_id, date, text, content_hash, "
        "imported_at, updated_at) VALUES ('a', 1, 'd', 'kept', 'h', 'x', 'x')"
    )
    conn.commit()
    conn.close()
    report = migrate(path, tmp_path / "b", shipped())
    assert report.applied == [f"{m.version:04d}_{m.name}" for m in shipped()[1:]]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT text FROM posts").fetchall() == [("kept",)]


def test_newer_but_compatible_database_is_accepted_untouched(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", with_next("keep"))  # written by "newer code"
    before = digest(path)
    report = migrate(path, tmp_path / "b", shipped())  # "older code", e.g. a rolled-back image
    assert report.applied == []
    assert report.to_version == len(shipped()) + 1
    assert digest(path) == before


def test_incompatible_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", with_next("self"))
    before = digest(path)
    with pytest.raises(
        MigrationError,
        match=f"needs code that knows schema {len(shipped()) + 1} or newer; "
        f"this code knows {len(shipped())}",
    ):
        migrate(path, tmp_path / "b", shipped())
    assert digest(path) == before
    assert not (tmp_path / "b").exists()


def test_cli_refuses_an_incompatible_database(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", with_next("self"))
    before = digest(path)
    result = run_cli("serve", env=cli_env(path))
    assert result.returncode == 1
    assert f"needs code that knows schema {len(shipped()) + 1}" in result.stderr
    assert digest(path) == before


def test_a_failing_migration_rolls_back_everything(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", shipped())
    broken = parse_migration(
        f"{len(shipped()) + 1:04d}_broken.sql",
        "CREATE TABLE half (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    )
    with pytest.raises(MigrationError, match="rolled back"):
        migrate(path, tmp_path / "b", [*shipped(), broken])
    state = read_state(path)
    assert state.version == len(shipped())
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name='half'").fetchone() == (0,)


def test_migrations_that_take_away_are_refused() -> None:
    for sql in (
        "DROP TABLE posts;",
        "ALTER TABLE posts DROP COLUMN text;",
        "ALTER TABLE posts RENAME TO p;",
    ):
        with pytest.raises(MigrationError, match="migrations only add"):
            parse_migration("0002_x.sql", sql)


def test_shipped_migrations_only_add() -> None:
    # parse_migration refuses removals; loading the shipped files runs that check on each.
    assert [m.version for m in shipped()] == list(range(1, len(shipped()) + 1))


def test_an_edited_applied_migration_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    migrate(path, tmp_path / "b", shipped())
    changed = parse_migration("0001_initial.sql", shipped()[0].sql + "\n-- edited\n")
    with pytest.raises(MigrationError, match="differs from the one applied"):
        migrate(path, tmp_path / "b", [changed])


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "experts.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(MigrationError, match="cannot read the database"):
        migrate(path, tmp_path / "b")


def test_someone_elses_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(MigrationError, match="not an Experts Panel database"):
        migrate(path, tmp_path / "b")


def test_database_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = run_cli("migrate", env=cli_env(tmp_path / "afile" / "x.db"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "afile" in lines[0]


def test_cli_migrate_reports(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "experts.db")
    first = run_cli("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial" in first.stdout
    second = run_cli("migrate", env=env)
    assert "up to date" in second.stdout
