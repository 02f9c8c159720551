"""What staff do with a verified request: fulfil it (the access package, the erasure, the
correction), deny it, or extend its deadline once. Each action changes the request's status in
the same transaction as its work and queues the email that tells the requester.

A request is marked in progress before the work starts; the work and the answer commit
together. An action interrupted halfway leaves the request in progress with nothing half-done,
and running it again completes it: an erasure never deletes anything twice.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection

from consent_api.exc import ConsentApiError, NotFound
from consent_api.outbox import queue
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.requests import deadlines, log, packages, request, rights
from consent_api.site.registry import INQUIRY_KINDS

#: A reason is shown to the requester and logged: a sentence, never an address.
_ADDRESS = re.compile(r"[^\s@]+@[^\s@]+")
REASON_MAX = 500
#: Statuses from which each action may start.
FULFILLABLE = log.OPEN
EXTENDABLE = (log.VERIFIED, log.IN_PROGRESS)


class ActionRefused(ConsentApiError):
    """Staff asked for something the request's state or the rules do not allow."""


def _open(reference: str, allowed: tuple[str, ...], action: str) -> request.Request:
    try:
        found = request.load(reference)
    except NotFound as error:
        raise ActionRefused(f"{reference}: no open request has this reference") from error
    if found.entry.status not in allowed:
        raise ActionRefused(
            f"{reference} is {found.entry.status.replace('_', ' ')}: only a request that is "
            f"{' or '.join(s.replace('_', ' ') for s in allowed)} can be {action}"
        )
    return found


def reason_of(text: str) -> str:
    """``text`` as a reason the requester is sent; ``ActionRefused`` if it cannot be one."""
    reason = " ".join(text.split())
    if not reason:
        raise ActionRefused("give the reason the requester will read (--reason)")
    if len(reason) > REASON_MAX:
        raise ActionRefused(f"a reason is at most {REASON_MAX} characters")
    if _ADDRESS.search(reason):
        raise ActionRefused("a reason is logged: it must not hold an email address")
    return reason


def _answer(
    connection: Connection,
    found: request.Request,
    response: str,
    counts: dict[str, int],
    **extra: Any,
) -> None:
    changed = log.change(
        connection,
        found.entry.reference,
        (log.IN_PROGRESS,),
        status=log.FULFILLED,
        responded_at=records.now(),
        response=response,
        counts=counts,
        **extra,
    )
    if not changed:
        raise ActionRefused(f"{found.entry.reference} was answered by another action meanwhile")
    queue.enqueue(connection, found.record, "email", "fulfil")


def _correct(connection: Connection, found: request.Request) -> None:
    correction = found.correction
    assert correction is not None  # a correct request always carries one
    name, value = correction
    subject = records.subject_of(found.email)
    selected = (table.c.subject == subject) & table.c.kind.in_(INQUIRY_KINDS)
    corrected: dict[str, int] = {}
    for record in records.stored(selected):
        if name not in record.payload:
            continue
        records.resign(connection, record, {**record.payload, name: value})
        corrected[record.kind] = corrected.get(record.kind, 0) + 1
    _answer(connection, found, f"{name} corrected", corrected, corrected_field=name)


def fulfil(reference: str) -> log.Entry:
    """Do what the request asks and tell the requester; see the module's docstring."""
    found = _open(reference, FULFILLABLE, "fulfilled")
    with storage.transaction() as connection:
        log.change(connection, reference, FULFILLABLE, status=log.IN_PROGRESS)
    found = request.load(reference)
    kind = found.entry.request_type
    if kind == "access":

        def packaged(connection: Connection, listed: dict[str, Any]) -> None:
            packages.keep(connection, reference, {"records": listed["records"]})
            _answer(connection, found, "access package sent", listed["counts"])

        rights.export(email=found.email, reference=reference, answered=packaged)
    elif kind == "delete":
        rights.erase(
            email=found.email,
            reference=reference,
            answered=lambda connection, counts: _answer(
                connection, found, "records erased", counts
            ),
        )
    else:
        with storage.transaction() as connection:
            _correct(connection, found)
    return log.get(reference)


def deny(reference: str, reason: str) -> log.Entry:
    """Deny the request with ``reason`` (which the requester is sent)."""
    reason = reason_of(reason)
    found = _open(reference, FULFILLABLE, "denied")
    with storage.transaction() as connection:
        if not log.change(
            connection,
            reference,
            FULFILLABLE,
            status=log.DENIED,
            denial_reason=reason,
            responded_at=records.now(),
            response="denied",
        ):
            raise ActionRefused(f"{reference} was answered by another action meanwhile")
        queue.enqueue(connection, found.record, "email", "deny")
    return log.get(reference)


def extend(reference: str, reason: str, days: int = deadlines.MAX_EXTENSION_DAYS) -> log.Entry:
    """Move the due date once, by up to 45 days, and tell the requester why."""
    reason = reason_of(reason)
    found = _open(reference, EXTENDABLE, "extended")
    if found.entry.extended_at is not None:
        raise ActionRefused(f"{reference} was extended once already: it cannot be extended again")
    if records.now() > found.entry.due_at:
        # The notice of an extension is due within the first 45 days (Civ. Code 1798.130(a)(2)).
        raise ActionRefused(
            f"{reference} was due on {deadlines.day(found.entry.due_at)}: an extension is given "
            "before the due date, not after"
        )
    try:
        due = deadlines.extended(found.entry.due_at, days)
    except ValueError as error:
        raise ActionRefused(str(error)) from error
    with storage.transaction() as connection:
        if not log.change(
            connection,
            reference,
            EXTENDABLE,
            status=log.EXTENDED,
            due_at=due,
            extended_at=records.now(),
            extension_reason=reason,
        ):
            raise ActionRefused(f"{reference} was answered by another action meanwhile")
        queue.enqueue(connection, found.record, "email", "extend")
    return log.get(reference)
