"""The outbox table as a queue: rows queued in the caller's transaction, claimed for a lease,
settled as sent, retried later, or failed.

Deliverers (the serving processes' background loop, ``consent-api outbox deliver`` from a timer,
on any number of hosts) claim rows before sending: on PostgreSQL with ``FOR UPDATE SKIP
LOCKED``, on SQLite in one write transaction, which SQLite runs one at a time. A row is sent by
the one deliverer that claimed it and marked sent once the server has accepted it; only a
deliverer that dies between that answer and the mark can cause a second delivery, after its
lease runs out. Nothing can cause a lost one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, or_, select, update

from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox as table

CHANNELS = ("email", "webhook")
PENDING, SENT, FAILED = "pending", "sent", "failed"
#: How long a claim lasts: longer than a batch of SMTP conversations or HTTPS posts can take.
LEASE = dt.timedelta(minutes=10)
BATCH = 20
#: Retries wait 1, 2, 4, ... minutes, at most an hour apart.
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=1)
#: Sent rows are kept this long so that ``consent-api outbox`` can show what went recently.
SENT_KEPT = dt.timedelta(days=7)


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: sent, or not with a reason (no personal data) and whether to
    give up at once (a permanent refusal) rather than retry."""

    sent: bool
    error: str = ""
    permanent: bool = False


SENT_OK = Outcome(True)


def enqueue(
    connection: Connection,
    record: records.Record,
    channel: str,
    purpose: str,
    target: str | None = None,
) -> None:
    """Queue one delivery about ``record`` in the caller's transaction (the record's own)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown outbox channel {channel!r}")
    connection.execute(
        table.insert(),
        {
            "record_id": record.public_id,
            "kind": record.kind,
            "created_at": record.created_at,
            "next_attempt_at": record.created_at,
            "channel": channel,
            "purpose": purpose,
            "target": target,
            "status": PENDING,
            "event_id": f"msg_{records.new_id()}" if channel == "webhook" else None,
        },
    )


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after ``attempts`` failures."""
    wait: dt.timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LAST_RETRY)


def _due(channel: str, now: dt.datetime) -> Select[tuple[int]]:
    return select(table.c.id).where(
        table.c.status == PENDING,
        table.c.channel == channel,
        table.c.next_attempt_at <= now,
        or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
    )


def claim(claimant: str, channel: str) -> list[Row[Any]]:
    """Claim up to ``BATCH`` due deliveries of ``channel`` for ``claimant``, oldest first."""
    now = records.now()
    with storage.reading() as connection:
        # A read first: on SQLite a claim takes the write lock, which an idle run need not.
        if connection.scalar(_due(channel, now).limit(1)) is None:
            return []
    due = (
        _due(channel, now)
        .order_by(table.c.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writes one at a time anyway
    )
    claimed = (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=claimant, claimed_until=now + LEASE)
        .returning(
            table.c.id,
            table.c.record_id,
            table.c.kind,
            table.c.created_at,
            table.c.attempts,
            table.c.channel,
            table.c.purpose,
            table.c.target,
            table.c.event_id,
        )
    )
    with storage.transaction() as connection:
        return sorted(connection.execute(claimed), key=lambda row: row.id)


def settle(row: Row[Any], claimant: str, outcome: Outcome, max_attempts: int = 0) -> str:
    """Record how ``row``'s attempt ended; returns its new status. ``max_attempts`` above 0
    gives up (``failed``) after that many attempts; 0 retries for as long as it takes."""
    mine = (table.c.id == row.id) & (table.c.claimed_by == claimant)
    now = records.now()
    attempts = row.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if outcome.sent:
        status = SENT
        values.update(status=SENT, finished_at=now, last_error=None)
    elif outcome.permanent or (max_attempts and attempts >= max_attempts):
        status = FAILED
        values.update(status=FAILED, finished_at=now, last_error=outcome.error[:300])
    else:
        status = PENDING
        values.update(next_attempt_at=now + backoff(attempts), last_error=outcome.error[:300])
    with storage.transaction() as connection:
        connection.execute(update(table).where(mine).values(**values))
    return status


def drop(row: Row[Any], claimant: str) -> None:
    """Delete a claimed delivery whose record is gone (due for the purge): nothing to send."""
    mine = (table.c.id == row.id) & (table.c.claimed_by == claimant)
    with storage.transaction() as connection:
        connection.execute(delete(table).where(mine))


def prune_sent() -> int:
    """Delete the sent rows older than ``SENT_KEPT``; returns how many went."""
    cutoff = records.now() - SENT_KEPT
    with storage.transaction() as connection:
        gone = delete(table).where(table.c.status == SENT, table.c.finished_at < cutoff)
        return int(connection.execute(gone).rowcount or 0)


def pending(channel: str | None = None) -> int:
    """How many deliveries wait (of ``channel``, or of every channel)."""
    query = select(func.count()).select_from(table).where(table.c.status == PENDING)
    if channel is not None:
        query = query.where(table.c.channel == channel)
    with storage.reading() as connection:
        return int(connection.scalar(query) or 0)


def counts() -> dict[str, Counter[str]]:
    """Deliveries by channel and status (sent ones: those of the last ``SENT_KEPT``)."""
    query = select(table.c.channel, table.c.status, func.count()).group_by(
        table.c.channel, table.c.status
    )
    result: dict[str, Counter[str]] = {channel: Counter() for channel in CHANNELS}
    with storage.reading() as connection:
        for channel, status, count in connection.execute(query):
            result.setdefault(channel, Counter())[status] = int(count)
    return result


def listing(status: str, limit: int = 50) -> list[Row[Any]]:
    """The deliveries in ``status``, newest first: IDs, channel, times, attempts, errors."""
    query = (
        select(
            table.c.id,
            table.c.record_id,
            table.c.kind,
            table.c.channel,
            table.c.purpose,
            table.c.target,
            table.c.attempts,
            table.c.next_attempt_at,
            table.c.finished_at,
            table.c.last_error,
        )
        .where(table.c.status == status)
        .order_by(table.c.id.desc())
        .limit(limit)
    )
    with storage.reading() as connection:
        return list(connection.execute(query))


def retry(delivery_id: int) -> bool:
    """Put a failed delivery back in the queue, due now; ``False`` if there is no such one."""
    again = (
        update(table)
        .where(table.c.id == delivery_id, table.c.status == FAILED)
        .values(
            status=PENDING,
            attempts=0,
            next_attempt_at=records.now(),
            finished_at=None,
            claimed_by=None,
            claimed_until=None,
        )
    )
    with storage.transaction() as connection:
        return bool(connection.execute(again).rowcount)


def retry_failed(channel: str | None = None) -> int:
    """Put every failed delivery (of ``channel``) back in the queue; returns how many."""
    ids = select(table.c.id).where(table.c.status == FAILED)
    if channel is not None:
        ids = ids.where(table.c.channel == channel)
    with storage.reading() as connection:
        found = list(connection.scalars(ids))
    return sum(retry(delivery_id) for delivery_id in found)
