"""`experts-panel status`: the service's health, the provider's state, today's tokens against
the budget, each expert's counts and freshness, the last backup and the certificate, and
whether any of it needs the operator (`concerns`, the alert rules' conditions).

Exit codes: 0 all is well, 1 something needs the operator, 2 it cannot tell (the service
does not answer, so nothing it would report can be trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from experts_panel.db.database import Database
from experts_panel.observability.concerns import concerns
from experts_panel.observability.readings import (
    Budget,
    Readings,
    database_bytes,
    expert_readings,
    read_backup_status,
    read_certificate,
)
from experts_panel.pipeline.budget import spent_on, today
from experts_panel.settings import Settings

ALL_WELL, NEEDS_OPERATOR, CANNOT_TELL = 0, 1, 2


@dataclass(frozen=True)
class Health:
    """What /health answered."""

    status: str
    problems: list[str]
    provider: str


def fetch_health(url: str, timeout_s: float) -> Health | str:
    """The service's /health, or why it could not be read (the service is not running)."""
    try:
        response = httpx.get(url, timeout=timeout_s)
        body = response.json()
        return Health(
            status=str(body["status"]),
            problems=[str(p) for p in body.get("problems", [])],
            provider=str(body["provider"]["state"]),
        )
    except httpx.HTTPError as exc:
        return f"the service does not answer at {url} ({type(exc).__name__}: {exc})"
    except (ValueError, KeyError, TypeError) as exc:
        return f"{url} did not answer as the service's /health does ({exc!r})"


async def stored_readings(settings: Settings, database: Database, now: datetime) -> Readings:
    """The readings from the database and files, as the metrics' are, but from outside the
    service: today's tokens are those its ledger has written (within seconds of each query)."""
    cert = settings.TLS_CERT_FILE
    return Readings(
        taken_at=now,
        budget=Budget(settings.DAILY_TOKEN_BUDGET, await spent_on(database, today())),
        experts=await expert_readings(database),
        database_bytes=database_bytes(settings.database_path),
        backup=read_backup_status(settings.backup_status_file),
        certificate=read_certificate(cert) if cert is not None else None,
    )


@dataclass(frozen=True)
class Report:
    health: Health | None
    unknown: str | None  # why it cannot tell
    readings: Readings | None
    concerns: list[str]

    @property
    def exit_code(self) -> int:
        if self.health is None:
            return CANNOT_TELL
        return NEEDS_OPERATOR if self.concerns else ALL_WELL


def assess(health: Health, readings: Readings) -> Report:
    found = concerns(readings, readings.taken_at)
    if health.status != "healthy":
        found.insert(0, f"the service is {health.status}: {', '.join(health.problems)}")
    return Report(health, None, readings, found)


def cannot_tell(why: str) -> Report:
    return Report(None, why, None, [])


def _age(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def as_text(report: Report) -> str:
    if report.health is None or report.readings is None:
        return f"cannot tell: {report.unknown}\n"
    r, now = report.readings, report.readings.taken_at
    lines = [f"health       {report.health.status}", f"provider     {report.health.provider}"]
    budget = r.budget
    if budget.limit:
        lines.append(
            f"tokens today {budget.used:,} of {budget.limit:,} ({budget.used / budget.limit:.0%})"
        )
    else:
        lines.append(f"tokens today {budget.used:,} (no daily budget)")
    for expert in r.experts:
        age = expert.newest_post_age_s(now)
        newest = f"newest post {_age(age)} old" if age is not None else "no posts"
        lines.append(
            f"expert       {expert.id}: {expert.posts} posts, {expert.comments} comments, {newest}"
        )
    if not r.experts:
        lines.append("experts      none yet")
    last = r.backup.last
    if last is not None:
        verified = "verified" if last.verified else "NOT verified"
        lines.append(
            f"backup       {_age(last.age_s(now))} ago, {last.size_bytes:,} bytes, {verified}"
        )
    else:
        lines.append(f"backup       none: {r.backup.problem}")
    certificate = r.certificate
    if certificate is None:
        lines.append("certificate  not checked (TLS_CERT_FILE is unset)")
    elif certificate.expires_at is None:
        lines.append(f"certificate  unreadable: {certificate.problem}")
    else:
        lines.append(
            f"certificate  expires {certificate.expires_at:%Y-%m-%d} "
            f"(in {certificate.days_left(now) or 0:.0f} days)"
        )
    if report.concerns:
        lines.append("needs the operator:")
        lines.extend(f"  - {c}" for c in report.concerns)
    else:
        lines.append("all is well")
    return "\n".join(lines) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {"exit_code": report.exit_code, "concerns": report.concerns}
    if report.health is None or report.readings is None:
        out["unknown"] = report.unknown
        return out
    r, now = report.readings, report.readings.taken_at
    last = r.backup.last
    certificate = r.certificate
    out.update(
        {
            "health": {"status": report.health.status, "problems": report.health.problems},
            "provider": report.health.provider,
            "tokens": {"used": r.budget.used, "limit": r.budget.limit, "left": r.budget.left},
            "experts": [
                {
                    "id": e.id,
                    "posts": e.posts,
                    "comments": e.comments,
                    "newest_post_at": _iso(e.newest_post_at),
                    "newest_post_age_s": e.newest_post_age_s(now),
                }
                for e in r.experts
            ],
            "backup": {
                "finished_at": _iso(last.finished_at) if last else None,
                "age_s": last.age_s(now) if last else None,
                "size_bytes": last.size_bytes if last else None,
                "verified": last.verified if last else False,
                "problem": r.backup.problem,
            },
            "certificate": None
            if certificate is None
            else {
                "expires_at": _iso(certificate.expires_at),
                "days_left": certificate.days_left(now),
                "problem": certificate.problem,
            },
            "database_bytes": r.database_bytes,
            "checked_at": _iso(now),
        }
    )
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None
