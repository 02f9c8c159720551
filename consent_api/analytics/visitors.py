"""Counting a visitor once a day without knowing who it is: a random salt per day, kept only
that day, shared by every instance through the database.

A visitor is an HMAC, under the day's salt, of the site and the client's address; what is
stored to count it once per page is a further HMAC of that and the page's path. The address and
the user agent are never stored or logged. When a new day begins its first event makes a new
salt and deletes the older salts and keys (the purge does too, on a quiet day), so that no key of
one day can be linked to a key of another, or computed again from an address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Connection, delete, select

from consent_api.analytics import upsert
from consent_api.records import storage
from consent_api.records.schema import analytics_salts, analytics_seen

EXTENSION = "consent_api.analytics.visitors"


@dataclass
class _Salt:
    """This process's copy of the day's salt; a new day reads (or makes) the next one. One
    attribute, replaced whole: a thread never sees one day with another day's salt."""

    current: tuple[dt.date, bytes] | None = None


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = _Salt()


def today() -> dt.date:
    """The counting day, in UTC (the same day on every instance)."""
    return dt.datetime.now(dt.UTC).date()


def forget_before(connection: Connection, day: dt.date) -> int:
    """Delete the salts and visitors' keys of the days before ``day``; how many keys went."""
    connection.execute(delete(analytics_salts).where(analytics_salts.c.day < day))
    return int(
        connection.execute(delete(analytics_seen).where(analytics_seen.c.day < day)).rowcount
    )


def _start_day(connection: Connection, day: dt.date) -> None:
    # Whichever instance comes first makes the salt; the others' inserts change nothing.
    upsert.write(connection, analytics_salts, [{"day": day, "salt": secrets.token_hex(32)}])
    forget_before(connection, day)


def salt(day: dt.date) -> bytes:
    """The salt of ``day``, made by the first instance that needs it."""
    cached: _Salt = current_app.extensions[EXTENSION]
    current = cached.current
    if current is not None and current[0] == day:
        return current[1]
    query = select(analytics_salts.c.salt).where(analytics_salts.c.day == day)
    with storage.reading() as connection:
        found = connection.scalar(query)
    if found is None:
        storage.write(lambda connection: _start_day(connection, day))
        with storage.reading() as connection:
            found = connection.scalar(query)
    if found is None:
        raise RuntimeError(f"no analytics salt for {day} after making one")  # pragma: no cover
    cached.current = (day, bytes.fromhex(found))
    return cached.current[1]


def visitor(day: dt.date, site: str, address: str) -> bytes:
    """The visitor of the day: an HMAC of the site and the address under the day's salt."""
    message = f"{site}\n{address}".encode()
    return hmac.new(salt(day), message, hashlib.sha256).digest()


def key(visitor_: bytes, path: str) -> str:
    """What is stored to count the visitor once on ``path`` ("" for the whole site)."""
    return hmac.new(visitor_, path.encode(), hashlib.sha256).hexdigest()[:32]
