"""The deadlines of a privacy request (11 CCR 7021), from the moment it was received.

Confirm receipt within 10 business days; respond within 45 calendar days, extendable once by up
to 45 more. Days are California's (``ZONE``), where the regulations apply: a request sent on a
Thursday evening there was received on Thursday, whatever the date in UTC. A response is due by
the end of its due day. Business days are Monday to Friday: public holidays are not counted
out, so the confirmation date is never later than the law's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("America/Los_Angeles")
CONFIRM_BUSINESS_DAYS = 10
RESPONSE_DAYS = 45
MAX_EXTENSION_DAYS = 45


def local_date(moment: dt.datetime) -> dt.date:
    """The date in California at ``moment``."""
    return moment.astimezone(ZONE).date()


def end_of(day: dt.date) -> dt.datetime:
    """The last moment of ``day`` in California, in UTC."""
    last = dt.datetime.combine(day, dt.time.max, tzinfo=ZONE)
    return last.astimezone(dt.UTC)


def add_business_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` business days (Monday to Friday) after ``day``."""
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def confirm_by(received: dt.datetime) -> dt.date:
    """The last day on which the receipt of a request received at ``received`` is confirmed."""
    return add_business_days(local_date(received), CONFIRM_BUSINESS_DAYS)


def response_due(received: dt.datetime) -> dt.datetime:
    """When the response to a request received at ``received`` is due: the end of the 45th
    calendar day after the day it came."""
    return end_of(local_date(received) + dt.timedelta(days=RESPONSE_DAYS))


def extended(due: dt.datetime, days: int) -> dt.datetime:
    """``due`` moved by an extension of ``days`` (1 to 45); ``ValueError`` otherwise."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"an extension is 1 to {MAX_EXTENSION_DAYS} days, not {days}")
    return end_of(local_date(due) + dt.timedelta(days=days))


def days_left(due: dt.datetime, now: dt.datetime) -> int:
    """Whole calendar days from ``now`` to the due date: 0 on the day itself, negative after."""
    return (local_date(due) - local_date(now)).days


def day(moment: dt.datetime) -> str:
    """``24 March 2026``: how emails and pages write a due date (California's date)."""
    date = local_date(moment)
    return f"{date.day} {date:%B %Y}"
