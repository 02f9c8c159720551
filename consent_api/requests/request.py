"""A privacy request's own record: the address it came from and what was asked, signed.

It is the one place the address is kept. It lives for ``extra.retention.privacy_request`` (7
days) while unverified; a verified request holds it until the request is answered and every
email about it has been sent, then the purge deletes it. The request log keeps the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Connection, and_, delete, exists, func, select

from consent_api.outbox import queue
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox, request_log
from consent_api.records.schema import records as table
from consent_api.requests import log
from consent_api.retention import purge
from consent_api.site import registry
from consent_api.site.registry import PRIVACY_REQUEST

HOLD_REASON = "open privacy request"


@dataclass(frozen=True)
class Request:
    """A request whose record is still stored: the log's entry and the record."""

    entry: log.Entry
    record: records.Record

    @property
    def email(self) -> str:
        return str(self.record.payload["email"])

    @property
    def correction(self) -> tuple[str, str] | None:
        """The field to correct and what it should say, for a correction."""
        payload = self.record.payload
        if self.entry.request_type != "correct":
            return None
        return str(payload["correct_field"]), str(payload["correct_value"])


def new(payload: dict[str, Any]) -> records.Record:
    """The record of a request from the page, not yet stored."""
    return records.new(
        PRIVACY_REQUEST,
        payload,
        registry.get().current_version().id,
        subject_email=payload["email"],
    )


def add(connection: Connection, record: records.Record) -> None:
    """Store a new request, log it as unverified and queue its confirmation link."""
    records.insert(connection, record)
    log.add(
        connection,
        reference=record.public_id,
        request_type=record.payload["request_type"],
        method="web",
        received_at=record.created_at,
        subject_key=log.subject_key(record.payload["email"]),
    )
    queue.enqueue(connection, record, "email", "verify")


def load(reference: str) -> Request:
    """The request and its record; ``NotFound`` if either is gone."""
    entry = log.get(reference)
    return Request(entry, records.get(reference, kind=PRIVACY_REQUEST))


def hold(connection: Connection, reference: str) -> None:
    """Keep the request's record past its 7 days while the request is open."""
    connection.execute(
        table.update()
        .where(table.c.public_id == reference)
        .values(hold=True, hold_reason=HOLD_REASON, held_at=records.now())
    )


def _answered() -> Any:
    # Answered (or expired) requests whose emails have all gone: nothing needs the address.
    closed = select(request_log.c.reference).where(request_log.c.status.in_(log.CLOSED))
    waiting = exists().where(
        outbox.c.record_id == table.c.public_id, outbox.c.status == queue.PENDING
    )
    return and_(table.c.kind == PRIVACY_REQUEST, table.c.public_id.in_(closed), ~waiting)


def _count_answered(_moment: Any) -> int:
    with storage.reading() as connection:
        return int(
            connection.scalar(select(func.count()).select_from(table).where(_answered())) or 0
        )


def _delete_answered(_moment: Any) -> int:
    with storage.transaction() as connection:
        return int(connection.execute(delete(table).where(_answered())).rowcount)


def init_app(app: Flask) -> None:
    """Have the purge delete an answered request's record once its emails are sent."""
    purge.register(
        app,
        "answered privacy requests",
        purge.Step(due=_count_answered, delete=_delete_answered),
    )
