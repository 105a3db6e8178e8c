"""Numbered SQL migrations: only additive, recorded in the database, preceded by a backup.

Each file `NNNN_name.sql` in `sql/` may declare `-- oldest-compatible: N`: once it is
applied, code that knows fewer than N migrations must not use the database. A migration that
only adds what older code can ignore (a table, a nullable column, an index) leaves the mark
where it was, so an image rolled back by `podman auto-update` keeps working. Code older than the
mark refuses to start and does not touch the file.

This runs on the standard library's `sqlite3`, synchronously, before the async engine opens:
it is start-up work, and a plain connection gives exact control of the transaction.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_OLDEST = re.compile(r"^--\s*oldest-compatible:\s*(\d+)\s*$", re.MULTILINE)
# Migrations only add. These statements would take something away from older code.
_FORBIDDEN = re.compile(
    r"\b(DROP\s+(TABLE|INDEX|VIEW|TRIGGER|COLUMN)|ALTER\s+TABLE\s+\S+\s+(RENAME|DROP))\b",
    re.IGNORECASE,
)

# The database and its backups are the service user's alone (SQLite gives the WAL and
# shared-memory files the database file's mode), and so are the folders made for them.
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS schema_info (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
"""


class MigrationError(Exception):
    """The database cannot be used or upgraded; the message says why in one line."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    oldest_compatible: int | None

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass(frozen=True)
class SchemaState:
    """What a database file says about its schema, read without changing it."""

    exists: bool
    version: int = 0
    oldest_compatible: int = 0
    applied: dict[int, str] = field(default_factory=dict)  # version -> checksum


@dataclass(frozen=True)
class MigrationReport:
    from_version: int
    to_version: int
    applied: list[str]
    backup: Path | None
    oldest_compatible: int


def parse_migration(file_name: str, sql: str) -> Migration:
    match = _FILE_NAME.match(file_name)
    if not match:
        raise MigrationError(f"migration file {file_name!r}: expected NNNN_name.sql")
    if bad := _FORBIDDEN.search(sql):
        raise MigrationError(
            f"migration {file_name}: {bad.group(0)!r} is refused; migrations only add"
        )
    oldest = _OLDEST.search(sql)
    return Migration(
        version=int(match.group(1)),
        name=match.group(2),
        sql=sql,
        oldest_compatible=int(oldest.group(1)) if oldest else None,
    )


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """The migrations shipped with the package (or found in `directory`), in order."""
    if directory is None:
        root = resources.files("experts_panel.db") / "sql"
        files = [(p.name, p.read_text(encoding="utf-8")) for p in root.iterdir()]
    else:
        files = [(p.name, p.read_text(encoding="utf-8")) for p in directory.iterdir()]
    migrations = sorted(
        (parse_migration(name, sql) for name, sql in files if name.endswith(".sql")),
        key=lambda m: m.version,
    )
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise MigrationError("migrations must be numbered 0001, 0002, ... without gaps")
    return migrations


def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def read_state(path: Path) -> SchemaState:
    """Read the schema state of the database at `path` without writing to it."""
    if not path.exists():
        return SchemaState(exists=False)
    if not path.is_file():
        raise MigrationError(f"{path}: is not a file; DATABASE_URL must name a database file")
    try:
        conn = _connect_read_only(path)
        try:
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if "schema_migrations" not in tables:
                if tables:
                    raise MigrationError(
                        f"{path}: has tables but no schema_migrations; "
                        "not an Experts Panel database"
                    )
                return SchemaState(exists=True)
            applied = dict(conn.execute("SELECT version, checksum FROM schema_migrations"))
            oldest_row = conn.execute(
                "SELECT value FROM schema_info WHERE key = 'oldest_compatible'"
            ).fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"{path}: cannot read the database: {exc}") from exc
    return SchemaState(
        exists=True,
        version=max(applied, default=0),
        oldest_compatible=int(oldest_row[0]) if oldest_row else 0,
        applied=applied,
    )


def check_compatible(path: Path, state: SchemaState, migrations: list[Migration]) -> None:
    """Refuse a database this code is too old for, or whose history was rewritten."""
    known = len(migrations)
    if state.oldest_compatible > known:
        raise MigrationError(
            f"{path}: the database is at schema {state.version} and needs code that knows "
            f"schema {state.oldest_compatible} or newer; this code knows {known}. "
            "Run a newer release; the database was not changed."
        )
    for migration in migrations:
        recorded = state.applied.get(migration.version)
        if recorded is not None and recorded != migration.checksum:
            raise MigrationError(
                f"{path}: migration {migration.version:04d}_{migration.name} differs from "
                "the one applied to this database; refusing to continue"
            )


def backup_database(path: Path, backup_dir: Path, label: str) -> Path:
    """Copy the database with SQLite's online backup API; the copy is complete or absent."""
    backup_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backup_dir / f"{path.stem}-{label}-{stamp}.db"
    partial = target.with_suffix(".db.partial")
    partial.unlink(missing_ok=True)  # left by a backup that was cut short
    create_private(partial)
    source = sqlite3.connect(path)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
        finally:
            dest.close()
    finally:
        source.close()
    partial.replace(target)
    return target


def create_private(path: Path) -> None:
    """An empty file only its owner can read, for SQLite to fill: SQLite itself would make
    it readable by everyone (0644 under the usual umask)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def _ensure_creatable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    try:
        # Only a folder made here is made private: one that exists keeps its owner's mode.
        parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    except OSError as exc:
        raise MigrationError(f"{path}: cannot create its folder {parent}: {exc.strerror}") from exc
    probe = parent / f".{path.name}.write-test"
    try:
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise MigrationError(f"{path}: folder {parent} is not writable: {exc.strerror}") from exc


def migrate(
    path: Path,
    backup_dir: Path,
    migrations: list[Migration] | None = None,
) -> MigrationReport:
    """Bring the database at `path` up to the newest migration this code knows.

    A database newer than the code but still compatible is left as it is.
    """
    migrations = load_migrations() if migrations is None else migrations
    state = read_state(path)
    check_compatible(path, state, migrations)
    pending = [m for m in migrations if m.version not in state.applied]
    if not pending:
        return MigrationReport(state.version, state.version, [], None, state.oldest_compatible)

    if state.exists:
        if not path.stat().st_size:
            backup = None
        else:
            label = f"pre-migrate-{state.version:04d}-to-{pending[-1].version:04d}"
            try:
                backup = backup_database(path, backup_dir, label)
            except (OSError, sqlite3.Error) as exc:
                raise MigrationError(
                    f"{path}: no backup could be written to {backup_dir} ({exc}); "
                    "not migrating without one"
                ) from exc
    else:
        _ensure_creatable(path)
        backup = None

    try:
        if not state.exists:
            with suppress(FileExistsError):  # another process is creating it too
                create_private(path)
        conn = sqlite3.connect(path, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise MigrationError(f"{path}: cannot open the database: {exc}") from exc
    oldest = state.oldest_compatible
    applied_names: list[str] = []
    try:
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute("PRAGMA foreign_keys = ON")
        # The whole upgrade is one transaction: it lands completely or not at all.
        conn.execute("BEGIN IMMEDIATE")
        for statement in _statements(_BOOKKEEPING):
            conn.execute(statement)
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        for migration in pending:
            if migration.version in done:  # another process got there first
                continue
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                "VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, migration.checksum, now),
            )
            if migration.oldest_compatible is not None:
                oldest = max(oldest, migration.oldest_compatible)
            applied_names.append(f"{migration.version:04d}_{migration.name}")
        conn.execute(
            "INSERT INTO schema_info (key, value) VALUES ('oldest_compatible', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(oldest),),
        )
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise MigrationError(f"{path}: migration failed and was rolled back: {exc}") from exc
    finally:
        conn.close()
    return MigrationReport(
        from_version=state.version,
        to_version=max(state.version, migrations[-1].version),
        applied=applied_names,
        backup=backup,
        oldest_compatible=oldest,
    )


def _statements(script: str) -> list[str]:
    """Split a script into complete statements, as SQLite itself judges completeness."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if not buffer and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise MigrationError(f"incomplete SQL statement at the end: {buffer.strip()[:60]!r}")
    return statements
