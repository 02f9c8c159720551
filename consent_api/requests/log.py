"""The request log (11 CCR 7101): one row per privacy request, from its receipt to its answer.

It holds the date, type and method of each request, its status, its deadlines, the date and
kind of response and a denial's reason, for ``extra.retention.request_log`` (24 months), then
the purge deletes it. The period runs from the response (from receipt for a request that
expired unverified); the entry of a request still open stays. It never holds an address: a
requester is known by ``subject_key``, a keyed hash that cannot be looked up without the
service's key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, case, delete, func, select, update

from consent_api.exc import NotFound
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import request_log as table
from consent_api.requests import deadlines
from consent_api.retention import purge
from consent_api.site import registry

UNVERIFIED, VERIFIED, IN_PROGRESS, EXTENDED = "unverified", "verified", "in_progress", "extended"
FULFILLED, DENIED, EXPIRED = "fulfilled", "denied", "expired"
STATUSES = (UNVERIFIED, VERIFIED, IN_PROGRESS, EXTENDED, FULFILLED, DENIED, EXPIRED)
#: Verified and not yet answered: the deadline runs.
OPEN = (VERIFIED, IN_PROGRESS, EXTENDED)
CLOSED = (FULFILLED, DENIED, EXPIRED)
TYPES = ("access", "delete", "correct")
#: How a request came: the request page, a cookie-consent receipt, or staff on the command line.
METHODS = {"web": "request page", "receipt": "cookie-consent receipt", "staff": "staff"}


@dataclass(frozen=True)
class Entry:
    """One request as the log holds it."""

    reference: str
    request_type: str
    method: str
    subject_key: str | None
    status: str
    received_at: dt.datetime
    verified_at: dt.datetime | None
    due_at: dt.datetime
    extended_at: dt.datetime | None
    extension_reason: str | None
    responded_at: dt.datetime | None
    response: str | None
    denial_reason: str | None
    corrected_field: str | None
    counts: dict[str, int]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def days_left(self, now: dt.datetime | None = None) -> int | None:
        """Days to the response's due date while the request is open; ``None`` otherwise."""
        return deadlines.days_left(self.due_at, now or records.now()) if self.is_open else None

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and (now or records.now()) > self.due_at

    def as_dict(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """The entry as JSON-ready values (times in the API's format)."""
        values = asdict(self)
        for name, value in values.items():
            if isinstance(value, dt.datetime):
                values[name] = records.isoformat(value)
        values["received_date"] = deadlines.local_date(self.received_at).isoformat()
        values["confirm_by"] = deadlines.confirm_by(self.received_at).isoformat()
        values["due_date"] = deadlines.local_date(self.due_at).isoformat()
        values["days_left"] = self.days_left(now)
        return values


def subject_key(email: str) -> str:
    """The log's stand-in for a requester: a keyed hash of the address's record subject."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, records.subject_of(email).encode(), hashlib.sha256).hexdigest()


def _entry(row: Any) -> Entry:
    values = dict(row._mapping)
    values.pop("id")
    values["counts"] = json.loads(values["counts"] or "{}")
    return Entry(**values)


def add(
    connection: Connection,
    *,
    reference: str,
    request_type: str,
    method: str,
    received_at: dt.datetime,
    status: str = UNVERIFIED,
    subject_key: str | None = None,
    **values: Any,
) -> None:
    """Log a new request in the caller's transaction; its response is due 45 days on."""
    if "counts" in values:
        values["counts"] = json.dumps(values["counts"], sort_keys=True)
    connection.execute(
        table.insert(),
        {
            "reference": reference,
            "request_type": request_type,
            "method": method,
            "subject_key": subject_key,
            "status": status,
            "received_at": received_at,
            "due_at": deadlines.response_due(received_at),
            **values,
        },
    )


def get(reference: str, connection: Connection | None = None) -> Entry:
    """The newest request logged under ``reference``; ``NotFound`` if there is none."""
    query = select(table).where(table.c.reference == reference).order_by(table.c.id.desc())
    if connection is None:
        with storage.reading() as reading:
            row = reading.execute(query).first()
    else:
        row = connection.execute(query).first()
    if row is None:
        raise NotFound(f"No privacy request has the reference {reference}.")
    return _entry(row)


def change(
    connection: Connection, reference: str, expected: tuple[str, ...], **values: Any
) -> bool:
    """Set ``values`` on the request if its status is one of ``expected``; ``False`` if it is
    not (another action came first). The check and the change are one statement."""
    if "counts" in values:
        values["counts"] = json.dumps(values["counts"], sort_keys=True)
    result = connection.execute(
        update(table)
        .where(table.c.reference == reference, table.c.status.in_(expected))
        .values(**values)
    )
    return bool(result.rowcount)


def listing(
    status: str | None = None, due_within: dt.timedelta | None = None, limit: int = 500
) -> list[Entry]:
    """Requests, the open ones first and the soonest due first; ``due_within`` keeps the open
    ones due by then."""
    answered = case((table.c.status.in_(OPEN), 0), else_=1)
    query = select(table).order_by(answered, table.c.due_at, table.c.id).limit(limit)
    if status is not None:
        query = query.where(table.c.status == status)
    if due_within is not None:
        query = query.where(table.c.status.in_(OPEN), table.c.due_at <= records.now() + due_within)
    with storage.reading() as connection:
        return [_entry(row) for row in connection.execute(query)]


def overdue(now: dt.datetime | None = None) -> list[Entry]:
    """Open requests past their due date."""
    query = select(table).where(table.c.status.in_(OPEN), table.c.due_at < (now or records.now()))
    with storage.reading() as connection:
        return [_entry(row) for row in connection.execute(query.order_by(table.c.due_at))]


def _period(kind: str) -> dt.timedelta:
    return registry.get().retention[kind].period


def _aged(moment: dt.datetime) -> Any:
    # An open request's entry stays however old it is: it is how staff still see the request,
    # and how the purge knows when its record (the address, on hold) may go. An answered one
    # is kept 24 months from the answer, so the log always shows how we responded.
    cutoff = moment - _period(registry.REQUEST_LOG)
    since = func.coalesce(table.c.responded_at, table.c.received_at)
    return table.c.status.in_(CLOSED) & (since < cutoff)


def _lapsed(moment: dt.datetime) -> Any:
    # An unverified request's record goes when its kind's period ends; its entry says so.
    cutoff = moment - _period(registry.PRIVACY_REQUEST)
    return (table.c.status == UNVERIFIED) & (table.c.received_at < cutoff)


def _count(condition: Any) -> int:
    with storage.reading() as connection:
        count = connection.scalar(select(func.count()).select_from(table).where(condition))
        return int(count or 0)


def _delete_aged(moment: dt.datetime) -> int:
    with storage.transaction() as connection:
        return int(connection.execute(delete(table).where(_aged(moment))).rowcount)


def _expire_lapsed(moment: dt.datetime) -> int:
    with storage.transaction() as connection:
        result = connection.execute(update(table).where(_lapsed(moment)).values(status=EXPIRED))
        return int(result.rowcount)


def init_app(app: Flask) -> None:
    """Have the purge expire unverified requests and delete entries older than 24 months."""
    purge.register(
        app,
        "request_log",
        purge.Step(due=lambda moment: _count(_aged(moment)), delete=_delete_aged),
    )
    purge.register(
        app,
        "unverified requests expired",
        purge.Step(due=lambda moment: _count(_lapsed(moment)), delete=_expire_lapsed),
    )
