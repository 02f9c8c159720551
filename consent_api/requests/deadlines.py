"""The deadlines of a privacy request (11 CCR 7021), from the moment it was received.

Confirm receipt within 10 business days; respond within 45 calendar days, extendable once by up
to 45 more. Business days are Monday to Friday: public holidays are not counted out, so the
confirmation date is never later than the law's. Dates are UTC dates.
"""

from __future__ import annotations

import datetime as dt

CONFIRM_BUSINESS_DAYS = 10
RESPONSE_DAYS = 45
MAX_EXTENSION_DAYS = 45


def add_business_days(day: dt.date, count: int) -> dt.date:
    """The date ``count`` business days (Monday to Friday) after ``day``."""
    while count > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def confirm_by(received: dt.datetime) -> dt.date:
    """The last day on which the receipt of a request received at ``received`` is confirmed."""
    return add_business_days(received.astimezone(dt.UTC).date(), CONFIRM_BUSINESS_DAYS)


def response_due(received: dt.datetime) -> dt.datetime:
    """When the response to a request received at ``received`` is due: 45 calendar days."""
    return received + dt.timedelta(days=RESPONSE_DAYS)


def extended(due: dt.datetime, days: int) -> dt.datetime:
    """``due`` moved by an extension of ``days`` (1 to 45); ``ValueError`` otherwise."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"an extension is 1 to {MAX_EXTENSION_DAYS} days, not {days}")
    return due + dt.timedelta(days=days)


def days_left(due: dt.datetime, now: dt.datetime) -> int:
    """Whole calendar days from ``now`` to the due date: 0 on the day itself, negative after."""
    return (due.astimezone(dt.UTC).date() - now.astimezone(dt.UTC).date()).days


def day(moment: dt.datetime) -> str:
    """``24 March 2026``: how emails and pages write a due date."""
    date = moment.astimezone(dt.UTC).date()
    return f"{date.day} {date:%B %Y}"
