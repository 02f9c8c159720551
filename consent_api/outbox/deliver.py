"""Delivering what is due, channel by channel: claim a batch, build each message from its
record, send it, settle it.

Email is retried for as long as it takes (an outage of the sales mailbox's server must not turn
leads into failures), unless the server refuses the recipient for good. A webhook gives up after
``WEBHOOK_MAX_ATTEMPTS`` attempts, or at once on a 4xx other than 408 and 429; ``consent-api
outbox`` lists what failed and ``outbox retry`` queues it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Row

from consent_api import background
from consent_api.exc import NotFound
from consent_api.outbox import content, mail, queue, webhook
from consent_api.records import store as records

logger = logging.getLogger("consent_api.outbox")


@dataclass(frozen=True)
class Delivery:
    """What one run did: deliveries sent, and attempts that did not deliver."""

    sent: int
    failed: int

    def __add__(self, other: Delivery) -> Delivery:
        return Delivery(self.sent + other.sent, self.failed + other.failed)


Sender = mail.Sender | webhook.Sender


def _attempt(sender: Sender, row: Row[Any], claimant: str) -> queue.Outcome | None:
    """Send ``row``'s message; ``None`` if its record is gone (nothing left to send)."""
    if isinstance(sender, mail.Sender) and sender.unavailable:
        # No server to talk to: the batch's other emails wait for the next attempt.
        return queue.Outcome(False, sender.unavailable)
    try:
        record = records.get(row.record_id)
    except NotFound:
        queue.drop(row, claimant)  # due for the purge
        return None
    try:
        message = content.build(row.channel, row.purpose, record)
    except (LookupError, ValueError, TypeError) as error:
        # Nothing registered for the purpose, or a value no header takes: no retry helps.
        return queue.Outcome(False, f"no message: {type(error).__name__}", permanent=True)
    if isinstance(sender, mail.Sender) and isinstance(message, EmailMessage):
        return sender.send(message)
    if isinstance(sender, webhook.Sender) and isinstance(message, dict):
        return sender.send(row, message)
    return queue.Outcome(False, f"no message: not a {row.channel} message", permanent=True)


def _channel(channel: str, claimant: str) -> Delivery:
    rows = queue.claim(claimant, channel)
    if not rows:
        return Delivery(0, 0)
    sender: Sender = mail.Sender() if channel == "email" else webhook.Sender()
    max_attempts = 0 if channel == "email" else int(current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    sent = failed = 0
    try:
        for row in rows:
            outcome = _attempt(sender, row, claimant)
            if outcome is None:
                continue
            status = queue.settle(row, claimant, outcome, max_attempts)
            if outcome.sent:
                sent += 1
                continue
            failed += 1
            # IDs and the error's kind only: never an address or a URL (it may hold a token).
            logger.warning(
                "outbox %s %d (%s, record %s) %s: %s",
                channel,
                row.id,
                row.purpose,
                row.record_id,
                "failed for good" if status == queue.FAILED else "will be retried",
                outcome.error,
            )
    finally:
        sender.close()
    return Delivery(sent, failed)


def deliver(channel: str | None = None) -> Delivery:
    """Send everything that is due (on ``channel``, or on each), each by exactly one
    deliverer. Email waits while ``SMTP_HOST`` is unset."""
    claimant = records.new_id()
    total = Delivery(0, 0)
    for name in queue.CHANNELS:
        if channel not in (None, name) or (name == "email" and not mail.enabled()):
            continue
        total += _channel(name, claimant)
    if total.sent:
        queue.prune_sent()  # rows age only after sends: an idle run writes nothing
    return total


def init_app(app: Flask) -> None:
    """Check the channels' settings and deliver from each serving process's loop."""
    webhook.init_app(app)
    background.register(app, "outbox", "OUTBOX_INTERVAL", deliver)
