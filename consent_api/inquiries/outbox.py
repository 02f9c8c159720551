"""Sales notifications: an outbox in the records' database, delivered by SMTP with back-off.

An inquiry and its notification are committed in one transaction, so a stored lead always has
its notification and a failed commit has neither. Deliverers (the serving processes' background
loop, ``consent-api outbox deliver`` from a timer, on any number of hosts) claim rows for a
lease before sending: on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, on SQLite in one write
transaction, which SQLite runs one at a time. A row is sent by the one deliverer that claimed it
and deleted once the SMTP server has accepted it; a failure puts it back with a later attempt
time. Only a deliverer that dies between the SMTP server's answer and the delete can cause a
second email, after its lease runs out; no deliverer can cause a lost one.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Connection, Row, delete, func, or_, select, update

from consent_api import background
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox as table
from consent_api.site.forms import FORMS

logger = logging.getLogger("consent_api.inquiries.outbox")

#: How long a claim lasts: longer than a batch of SMTP conversations can take.
LEASE = dt.timedelta(minutes=10)
BATCH = 20
#: Retries wait 1, 2, 4, ... minutes, at most an hour; a notification is never given up.
FIRST_RETRY = dt.timedelta(minutes=1)
LAST_RETRY = dt.timedelta(hours=1)


def enabled() -> bool:
    """Whether notifications are configured (``SMTP_HOST``); without, none is queued."""
    return bool(current_app.config["SMTP_HOST"])


def enqueue(connection: Connection, record: records.Record) -> None:
    """Queue the notification of ``record`` in the caller's transaction (the record's own)."""
    connection.execute(
        table.insert(),
        {
            "record_id": record.public_id,
            "kind": record.kind,
            "created_at": record.created_at,
            "next_attempt_at": record.created_at,
        },
    )


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next attempt after ``attempts`` failures."""
    wait: dt.timedelta = FIRST_RETRY * 2 ** max(attempts - 1, 0)
    return min(wait, LAST_RETRY)


def message(row: Row[Any]) -> EmailMessage:
    """The notification: what arrived and how to look it up, nothing the visitor wrote."""
    config = current_app.config
    noun = FORMS[row.kind].noun if row.kind in FORMS else row.kind
    email = EmailMessage()
    email["Subject"] = f"New {noun} from the website ({row.record_id})"
    email["From"] = config["MAIL_FROM"]
    email["To"] = config["SALES_EMAIL"]
    email.set_content(
        f"A new {noun} arrived on the website at {records.isoformat(row.created_at)}.\n\n"
        f"Reference ID: {row.record_id}\n\n"
        "Read it on the service's host with\n\n"
        f"    consent-api show {row.record_id}\n\n"
        f"or list recent ones with 'consent-api inquiries list --kind {row.kind}'.\n"
    )
    return email


def _claim(claimant: str) -> list[Row[Any]]:
    now = records.now()
    due = (
        select(table.c.id)
        .where(
            table.c.next_attempt_at <= now,
            or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
        )
        .order_by(table.c.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite writes one at a time anyway
    )
    claim = (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()))
        .values(claimed_by=claimant, claimed_until=now + LEASE)
        .returning(table.c.id, table.c.record_id, table.c.kind, table.c.created_at)
        .returning(table.c.attempts)
    )
    with storage.transaction() as connection:
        return sorted(connection.execute(claim), key=lambda row: row.id)


def _settle(row: Row[Any], claimant: str, error: str | None) -> None:
    mine = (table.c.id == row.id) & (table.c.claimed_by == claimant)
    with storage.transaction() as connection:
        if error is None:
            connection.execute(delete(table).where(mine))
            return
        attempts = row.attempts + 1
        connection.execute(
            update(table)
            .where(mine)
            .values(
                attempts=attempts,
                next_attempt_at=records.now() + backoff(attempts),
                claimed_by=None,
                claimed_until=None,
                last_error=error[:300],
            )
        )


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(
        config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=config["SMTP_TIMEOUT"]
    )
    try:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: int


def deliver() -> Delivery:
    """Send every notification that is due, each by exactly one deliverer."""
    if not enabled():
        return Delivery(0, 0)
    claimant = records.new_id()
    rows = _claim(claimant)
    if not rows:
        return Delivery(0, 0)
    sent, failed = 0, 0
    smtp: smtplib.SMTP | None = None
    try:
        for index, row in enumerate(rows):
            try:
                smtp = smtp or _connect()
            except (OSError, smtplib.SMTPException) as error:
                # No server to talk to: every claimed notification waits for the next attempt.
                logger.warning(
                    "SMTP server unavailable, %d notifications wait: %s", len(rows) - index, error
                )
                for waiting in rows[index:]:
                    _settle(waiting, claimant, _reason(error))
                failed += len(rows) - index
                break
            try:
                smtp.send_message(message(row))
            except (OSError, smtplib.SMTPException) as error:
                failed += 1
                logger.warning("notification %s not sent, will retry: %s", row.record_id, error)
                _settle(row, claimant, _reason(error))
                if not isinstance(
                    error, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
                ):
                    smtp = None  # the connection broke: reconnect for the next one
            else:
                sent += 1
                _settle(row, claimant, None)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return Delivery(sent, failed)


def pending() -> int:
    """How many notifications wait for delivery."""
    with storage.reading() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


@click.group("outbox")
def cli() -> None:
    """Sales notifications waiting in the outbox."""


@cli.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Send the notifications that are due (for deployments that deliver from a timer)."""
    result = deliver()
    click.echo(f"{result.sent} sent, {result.failed} failed, {pending()} waiting")
    if result.failed:
        raise click.ClickException(
            f"{result.failed} notifications could not be sent; they stay in the outbox and are "
            "retried with back-off"
        )


def init_app(app: Flask) -> None:
    background.register(app, "outbox", "OUTBOX_INTERVAL", deliver)
