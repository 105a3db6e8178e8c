"""The shipped migrations, and one more as a newer release would ship it."""

from __future__ import annotations

from experts_panel.db.migrations import Migration, load_migrations, parse_migration

NEXT = "-- oldest-compatible: {oldest}\nCREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n"


def shipped() -> list[Migration]:
    return load_migrations()


def with_next(oldest_compatible: str) -> list[Migration]:
    """The shipped migrations plus one more, as a newer release would ship them.

    `oldest_compatible` is "self" (older code must refuse) or "keep" (older code may go on).
    """
    current = shipped()
    number = len(current) + 1
    oldest = number if oldest_compatible == "self" else current[-1].oldest_compatible or 1
    return [*current, parse_migration(f"{number:04d}_notes.sql", NEXT.format(oldest=oldest))]
