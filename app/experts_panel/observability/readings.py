"""What the service's files and database say at a moment: the experts' counts and freshness,
the database's size, the last backup and the certificate. Read afresh for every scrape and for
every `experts-panel status`, so nothing here is kept between them."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from experts_panel.db.database import Database
from experts_panel.experts import list_experts


@dataclass(frozen=True)
class ExpertReading:
    id: str
    posts: int
    comments: int
    newest_post_at: datetime | None

    def newest_post_age_s(self, now: datetime) -> float | None:
        if self.newest_post_at is None:
            return None
        return max(0.0, (now - self.newest_post_at).total_seconds())


@dataclass(frozen=True)
class BackupReading:
    """The last verified backup, as `experts-panel-backup` recorded it."""

    finished_at: datetime
    size_bytes: int
    verified: bool

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.finished_at).total_seconds())


@dataclass(frozen=True)
class BackupStatus:
    """The backup's status file: what it says, or why it says nothing (missing, unreadable)."""

    last: BackupReading | None
    problem: str | None


@dataclass(frozen=True)
class CertificateStatus:
    expires_at: datetime | None
    problem: str | None

    def days_left(self, now: datetime) -> float | None:
        if self.expires_at is None:
            return None
        return (self.expires_at - now).total_seconds() / 86_400


@dataclass(frozen=True)
class Budget:
    """Today's tokens against the daily budget; a limit of 0 is no limit."""

    limit: int
    used: int

    @property
    def left(self) -> int | None:
        return max(0, self.limit - self.used) if self.limit else None

    @property
    def used_ratio(self) -> float | None:
        return self.used / self.limit if self.limit else None


@dataclass(frozen=True)
class Readings:
    taken_at: datetime
    budget: Budget
    experts: list[ExpertReading]
    database_bytes: int
    backup: BackupStatus
    certificate: CertificateStatus | None  # None: no certificate is configured


def parse_time(value: str) -> datetime:
    """An ISO 8601 time; one without a zone is UTC (as the exports' and the backup's are)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def expert_readings(database: Database) -> list[ExpertReading]:
    async with database.read() as conn:
        stats = await list_experts(conn)
    return [
        ExpertReading(
            id=s.expert.id,
            posts=s.post_count,
            comments=s.comment_count,
            newest_post_at=parse_time(s.last_post_at) if s.last_post_at else None,
        )
        for s in stats
    ]


def database_bytes(path: Path) -> int:
    """The database's size on disk: the file and its write-ahead log."""
    total = 0
    for part in (path, path.with_name(path.name + "-wal")):
        with contextlib.suppress(FileNotFoundError):
            total += part.stat().st_size
    return total


def read_backup_status(path: Path) -> BackupStatus:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return BackupStatus(None, f"no backup recorded yet ({path} does not exist)")
    except OSError as exc:
        return BackupStatus(None, f"cannot read {path}: {exc.strerror}")
    try:
        data = json.loads(raw)
        last = BackupReading(
            finished_at=parse_time(str(data["finished_at"])),
            size_bytes=int(data["size_bytes"]),
            verified=data["verified"] is True,
        )
    except (ValueError, KeyError, TypeError) as exc:
        return BackupStatus(None, f"{path} is not a backup status file: {exc!r}")
    return BackupStatus(last, None)


def read_certificate(path: Path) -> CertificateStatus:
    """The expiry of the first certificate in a PEM file (the server's own in a full chain)."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        return CertificateStatus(None, f"cannot read {path}: {exc.strerror}")
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        return CertificateStatus(None, f"{path} holds no PEM certificate: {exc}")
    return CertificateStatus(certificate.not_valid_after_utc, None)
