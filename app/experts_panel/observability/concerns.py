"""What needs the operator: the conditions of the alert rules (monitoring/alerts.yml), applied
by `experts-panel status` to one moment's readings. A test keeps the two sets of numbers equal.

The rate of failing queries is the one alert `status` cannot apply: it is a rate over 15
minutes, which only a Prometheus that scraped the service for that long knows.
"""

from __future__ import annotations

from datetime import datetime

from experts_panel.observability.readings import Readings

# The day's token budget used past this share.
BUDGET_USED_RATIO = 0.8
# No verified backup for this long.
BACKUP_MAX_AGE_S = 48 * 3600
# The certificate expires within this many days.
CERTIFICATE_MIN_DAYS = 14


def concerns(readings: Readings, now: datetime) -> list[str]:
    """One line per condition that needs the operator; empty when all is well."""
    found: list[str] = []
    ratio = readings.budget.used_ratio
    if ratio is not None and ratio > BUDGET_USED_RATIO:
        found.append(
            f"the day's token budget is {ratio:.0%} used "
            f"({readings.budget.used} of {readings.budget.limit})"
        )
    last = readings.backup.last
    if last is None:
        found.append(f"no verified backup: {readings.backup.problem}")
    elif not last.verified:
        found.append("the last backup was not verified")
    elif last.age_s(now) > BACKUP_MAX_AGE_S:
        found.append(f"the last verified backup is {last.age_s(now) / 3600:.0f} hours old")
    certificate = readings.certificate
    if certificate is not None:
        days = certificate.days_left(now)
        if days is None:
            found.append(f"the certificate cannot be read: {certificate.problem}")
        elif days < CERTIFICATE_MIN_DAYS:
            found.append(f"the certificate expires in {days:.1f} days")
    return found
