"""The "recent only" window: which posts a query with `recent_months` may consider.

A post is in the window when its date is at or after the same moment N calendar months ago,
in UTC: asked on 6 December at 09:30, three months reach back to 6 September at 09:30. A day
the earlier month lacks is clamped to its last day (31 May less three months is 28 or 29
February), so the window never reaches past the month it names. Calendar months, not 30-day
ones, because that is what a reader means by "the last three months": twelve 30-day months
would stop five days short of a year.

The start is written as the posts' `date` column is (`YYYY-MM-DDTHH:MM:SS`, UTC, with or
without a trailing `Z`), so the filter is a plain text comparison that the
`posts (expert_id, date)` index serves.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

STORED_FORMAT = "%Y-%m-%dT%H:%M:%S"


def months_back(moment: datetime, months: int) -> datetime:
    """`moment` less `months` calendar months, the day clamped to the month's last."""
    index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def window_start(months: int | None, now: datetime) -> str | None:
    """The earliest post date in the window, as stored; None when every post counts."""
    if months is None:
        return None
    start = months_back(now.astimezone(UTC), months)
    # Stored dates carry whole seconds: a post in the window's first second is in it.
    return start.replace(microsecond=0).strftime(STORED_FORMAT)
