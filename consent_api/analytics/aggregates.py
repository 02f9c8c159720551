"""The daily aggregates: adding one event to the day's counters, and reading them back.

An event adds 1 to its day's counter for its path and name, and 1 to the visitors counter if
this visitor had not sent that event on that path yet today; a page view also counts towards the
whole site (path ""), its referring host and its viewport class. The adds are upserts inside the
service's shared write transaction, so concurrent events and instances add to the same rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, select

from consent_api.analytics import upsert, visitors
from consent_api.records import storage
from consent_api.records.schema import analytics_daily, analytics_seen, analytics_sources
from consent_api.site import registry

#: The row of ``extra.retention`` that says how long the aggregates are kept.
RETENTION = "analytics"
PAGEVIEW = "pageview"
CONVERSION = "conversion"
EVENTS = (PAGEVIEW, CONVERSION)
#: The analytics_daily path that holds the whole site's page views and visitors.
SITE = ""
REFERRER = "referrer"
VIEWPORT = "viewport"


@dataclass(frozen=True)
class Event:
    """One validated event, as it is counted: nothing in it tells who sent it."""

    name: str
    path: str
    referrer: str = ""
    viewport: str = ""


@dataclass(frozen=True)
class _Counted:
    """An event on its way to the counters, with the visitor's keys for its page and site."""

    event: Event
    day: dt.date
    page_key: str
    site_key: str


#: Rows per statement: well within both databases' limits on bound parameters.
CHUNK = 200


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[start : start + CHUNK] for start in range(0, len(rows), CHUNK)]


def _flush(connection: Connection, batch: list[_Counted]) -> None:
    """Add a batch of events to the counters: one statement per table (``storage.merge``)."""
    keys = {(c.day, c.page_key) for c in batch} | {
        (c.day, c.site_key) for c in batch if c.event.name == PAGEVIEW
    }
    seen = [{"day": day, "key": key} for day, key in sorted(keys)]
    new: set[str] = set()
    for rows in _chunks(seen):
        new |= upsert.write(connection, analytics_seen, rows)
    counters: dict[tuple[dt.date, str, str], list[int]] = {}
    sources: dict[tuple[dt.date, str, str], int] = {}

    def add(day: dt.date, path: str, name: str, key: str) -> None:
        counter = counters.setdefault((day, path, name), [0, 0])
        counter[0] += 1
        if key in new:  # a new visitor for this row, credited once
            counter[1] += 1
            new.discard(key)

    for c in batch:
        if c.event.name == PAGEVIEW:
            add(c.day, SITE, PAGEVIEW, c.site_key)
            for dimension, value in ((VIEWPORT, c.event.viewport), (REFERRER, c.event.referrer)):
                if value:
                    sources[(c.day, dimension, value)] = (
                        sources.get((c.day, dimension, value), 0) + 1
                    )
        add(c.day, c.event.path, c.event.name, c.page_key)
    # Sorted, so the whole site's row ("") comes first: every page view's transaction writes
    # it, and on PostgreSQL transactions then wait for each other there instead of deadlocking.
    daily_rows = [
        {"day": day, "path": path, "event": name, "events": n, "visitors": v}
        for (day, path, name), (n, v) in sorted(counters.items())
    ]
    for rows in _chunks(daily_rows):
        upsert.write(connection, analytics_daily, rows)
    source_rows = [
        {"day": day, "dimension": dimension, "value": value, "views": n}
        for (day, dimension, value), n in sorted(sources.items())
    ]
    for rows in _chunks(source_rows):
        upsert.write(connection, analytics_sources, rows)


def count(event: Event, day: dt.date, visitor: bytes) -> None:
    """Add ``event`` to the counters of ``day``; returns once durably committed. Concurrent
    events share one transaction and one upsert per table (``storage.merge``)."""
    page_key = visitors.key(visitor, f"{event.name} {event.path}")
    site_key = visitors.key(visitor, f"{PAGEVIEW} {SITE}")
    storage.merge(_flush, _Counted(event, day, page_key, site_key))


def _between(table: Any, since: dt.date | None, until: dt.date | None) -> list[Any]:
    conditions = []
    if since is not None:
        conditions.append(table.c.day >= since)
    if until is not None:
        conditions.append(table.c.day <= until)
    return conditions


def daily(since: dt.date | None, until: dt.date | None) -> list[Row[Any]]:
    """The counters per day, path and event from ``since`` to ``until`` (both included)."""
    query = (
        select(analytics_daily)
        .where(*_between(analytics_daily, since, until))
        .order_by(analytics_daily.c.day, analytics_daily.c.path, analytics_daily.c.event)
    )
    with storage.reading() as connection:
        return list(connection.execute(query))


def sources(since: dt.date | None, until: dt.date | None) -> list[Row[Any]]:
    """The page views per day by referring host and by viewport class."""
    query = (
        select(analytics_sources)
        .where(*_between(analytics_sources, since, until))
        .order_by(analytics_sources.c.day, analytics_sources.c.dimension)
    )
    with storage.reading() as connection:
        return list(connection.execute(query))


def _expired(moment: dt.datetime) -> list[Any]:
    """Per table, the rows of days past the aggregates' period at ``moment``."""
    cutoff = registry.get().retention[RETENTION].cutoff(moment).date()
    return [(table, table.c.day < cutoff) for table in (analytics_daily, analytics_sources)]


def due(moment: dt.datetime) -> int:
    """How many aggregate rows the purge would delete at ``moment``."""
    with storage.reading() as connection:
        return sum(
            int(connection.scalar(select(func.count()).select_from(table).where(old)) or 0)
            for table, old in _expired(moment)
        )


def purge(moment: dt.datetime) -> int:
    """Delete the aggregates past their period, and the salts and visitors' keys of the days
    before ``moment``'s (left over when no event came since); how many aggregate rows went."""
    with storage.transaction() as connection:
        deleted = sum(
            int(connection.execute(delete(table).where(old)).rowcount)
            for table, old in _expired(moment)
        )
        visitors.forget_before(connection, moment.astimezone(dt.UTC).date())
    return deleted
