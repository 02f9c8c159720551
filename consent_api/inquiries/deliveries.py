"""The hook that queues an inquiry's deliveries in the inquiry's own transaction: one email to
``SALES_EMAIL`` (with ``SMTP_HOST`` set), one event per webhook endpoint (``WEBHOOK_URLS``) and,
with ``ACKNOWLEDGE``, a receipt to the sender."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Connection

from consent_api.exc import ConfigError
from consent_api.inquiries import acknowledge, notify
from consent_api.outbox import content, mail, queue, webhook
from consent_api.records import store as records

NOTIFY_CONTENT = ("full", "reference")


@dataclass(frozen=True)
class Plan:
    """The deliveries one inquiry gets, decided before its transaction."""

    email: bool
    endpoints: tuple[str, ...]
    acknowledge: bool


def plan(record: records.Record) -> Plan:
    """Which deliveries ``record`` gets (the acknowledgement counts against its address's
    limit now, so decide once per inquiry)."""
    return Plan(
        email=mail.enabled(),
        endpoints=tuple(webhook.endpoints()),
        acknowledge=acknowledge.wanted(record),
    )


def enqueue(connection: Connection, record: records.Record, planned: Plan) -> None:
    """Queue ``planned``'s deliveries of ``record`` in the caller's transaction."""
    if planned.email:
        queue.enqueue(connection, record, "email", "notify")
    for key in planned.endpoints:
        queue.enqueue(connection, record, "webhook", "notify", target=key)
    if planned.acknowledge:
        queue.enqueue(connection, record, "email", acknowledge.PURPOSE)


def init_app(app: Flask) -> None:
    """Check ``NOTIFY_CONTENT`` and register the messages with the outbox."""
    mode = str(app.config["NOTIFY_CONTENT"]).lower()
    if mode not in NOTIFY_CONTENT:
        raise ConfigError(f"CONSENT_API_NOTIFY_CONTENT must be 'full' or 'reference', not {mode!r}")
    app.config["NOTIFY_CONTENT"] = mode
    content.register(app, "email", "notify", notify.notification)
    content.register(app, "webhook", "notify", notify.event)
    acknowledge.init_app(app)
