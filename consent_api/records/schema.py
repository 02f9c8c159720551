"""The database schema: its tables, as the code reads and writes them.

Alembic creates and upgrades them with the scripts in ``migrations/``, whose DDL is written out
and fixed once released; a change to a table below comes with a new script that makes it.
``migrate``, ``current_version`` and ``LATEST`` (from ``migrations``) are what the storage layer
and the CLI call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
    text,
)

# What the storage layer and the CLI call, as they always have (schema.migrate(connection)).
from consent_api.records.migrations import LATEST as LATEST
from consent_api.records.migrations import MIGRATIONS as MIGRATIONS
from consent_api.records.migrations import current_version as current_version
from consent_api.records.migrations import migrate as migrate


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no zone: UTC is implied)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous: pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)  # type: ignore[no-any-return]
        return value.astimezone(dt.UTC)  # type: ignore[no-any-return]


metadata = MetaData()

#: Every kind of record (consent, contact, demo) in one table. The signature covers every
#: column up to ``payload``; the hold columns change over a record's life and are not signed.
records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("public_id", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("policy_version", String(10), nullable=False),
    # Consent records: the visitor's consent ID, shared by the first choice and every change.
    Column("consent_id", String(32), nullable=True),
    # Inquiries: sha256 of the normalised email, so a person's records are found by index.
    Column("subject", String(64), nullable=True),
    Column("payload", Text, nullable=False),
    Column("signature", String(128), nullable=False),
    Column("hold", Boolean, nullable=False, server_default=false()),
    Column("hold_reason", Text, nullable=True),
    Column("held_at", UTCDateTime, nullable=True),
    Index("ix_records_consent_id", "consent_id"),
    Index("ix_records_subject", "subject"),
    # What the purge asks: which records of a kind, not on hold, were created before the kind's
    # cutoff (``records.due``).
    Index("ix_records_due", "kind", "hold", "created_at"),
)

#: One row per purge run: when, and how many records of each kind it deleted. No personal data.
purge_log = Table(
    "purge_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    # Empty while the run goes on, and for ever if it was killed: the row is written first.
    Column("finished_at", UTCDateTime, nullable=True),
    # {"consent": 3, "contact": 0, "demo": 1}: so far, then in all
    Column("deleted", Text, nullable=False),
)

#: One row per privacy request (11 CCR 7101): its reference, type, method, dates, status and
#: response, kept for ``extra.retention.request_log``. Never an address: a web request's
#: requester is the keyed hash ``subject_key``; the address lives in the request's own record
#: only while the request is open.
request_log = Table(
    "request_log",
    metadata,
    Column("id", Integer, primary_key=True),
    # The request's record's public ID; for one staff took by other means, their ticket.
    Column("reference", String(64), nullable=False),
    # access, delete or correct.
    Column("request_type", String(8), nullable=False),
    # web (the request page), receipt (a cookie-consent receipt), staff (the command line).
    Column("method", String(8), nullable=False),
    Column("subject_key", String(64), nullable=True),
    Column("status", String(12), nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("verified_at", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=False),
    Column("extended_at", UTCDateTime, nullable=True),
    Column("extension_reason", Text, nullable=True),
    Column("responded_at", UTCDateTime, nullable=True),
    # What was done, in words and counts: "3 records in the access package", "name corrected".
    Column("response", Text, nullable=True),
    Column("denial_reason", Text, nullable=True),
    # A correction: the name of the field corrected (never its old or new value).
    Column("corrected_field", String(32), nullable=True),
    # {"contact": 1, "demo": 0, ...}: records exported, erased or corrected, by kind.
    Column("counts", Text, nullable=True),
    Index("ix_request_log_reference", "reference"),
    Index("ix_request_log_received_at", "received_at"),
)

#: An access request's package between fulfilment and download: signed link, single use, kept
#: at most ``PACKAGE_DAYS``; the body is deleted when it is downloaded.
request_packages = Table(
    "request_packages",
    metadata,
    Column("reference", String(64), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=True),
    Column("downloaded_at", UTCDateTime, nullable=True),
)


#: Sales notifications waiting for delivery, written in the same transaction as their inquiry.
#: A deliverer claims rows (``claimed_by`` until ``claimed_until``) so that two never send the
#: same one; a delivered row is deleted. Deleting the record (erasure, purge) deletes its row.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "record_id",
        String(32),
        ForeignKey("records.public_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UTCDateTime, nullable=False, index=True),
    Column("claimed_by", String(32), nullable=True),
    Column("claimed_until", UTCDateTime, nullable=True),
    # Why the last attempt failed (an SMTP error), never anything about the person.
    Column("last_error", String(300), nullable=True),
    # --- Added by migration 5 (several channels); all additive, with defaults. ---
    # "email" or "webhook": the outbox.channels entry that delivers the row.
    Column("channel", String(16), nullable=False, server_default=text("'email'")),
    # What is sent: "notify" (to sales, or an event to a webhook), "acknowledge" (to the sender).
    Column("purpose", String(16), nullable=False, server_default=text("'notify'")),
    # Webhooks: the endpoint's key (a hash of its URL, never the URL, which may hold a token).
    Column("target", String(32), nullable=True),
    # "pending" until delivered ("sent", kept a while for `consent-api outbox`) or given up
    # ("failed", kept until retried, purged or erased with its record).
    Column("status", String(8), nullable=False, server_default=text("'pending'")),
    # The Standard Webhooks webhook-id: the same on every retry, so receivers drop duplicates.
    Column("event_id", String(40), nullable=True),
    # When it was sent or given up.
    Column("finished_at", UTCDateTime, nullable=True),
    Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
)


#: Form tokens already used, kept until they would have expired anyway: one database for every
#: instance, so that a token is accepted once however many instances there are.
used_form_tokens = Table(
    "used_form_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)


# --- Analytics (migration 7): four tables of their own; nothing above changes. -----------------
# Only counters per day are kept for the retention period. The salt and the visitors' keys of the
# current day exist to count each visitor once that day, and are deleted when the day is over.

#: Events per day, path and event name ("pageview", "conversion"), and how many different
#: visitors sent them that day. The path "" holds the whole site's page views and visitors.
analytics_daily = Table(
    "analytics_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("path", String(512), primary_key=True),
    Column("event", String(16), primary_key=True),
    Column("events", Integer, nullable=False),
    Column("visitors", Integer, nullable=False),
)

#: Page views per day by one property of the view: "referrer" (the referring site's host name,
#: nothing more) or "viewport" (a size class: small, medium, large).
analytics_sources = Table(
    "analytics_sources",
    metadata,
    Column("day", Date, primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("value", String(253), primary_key=True),
    Column("views", Integer, nullable=False),
)

#: The day's random salt, shared by every instance; a new day's first event deletes the others.
analytics_salts = Table(
    "analytics_salts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("salt", String(64), nullable=False),
)

#: Keys of the visitors already counted today, per path: an HMAC, under the day's salt, of the
#: site, the client's address and the path. Deleted with the salt, so days cannot be linked.
analytics_seen = Table(
    "analytics_seen",
    metadata,
    Column("day", Date, primary_key=True),
    Column("key", String(32), primary_key=True),
)

ANALYTICS_TABLES = [analytics_daily, analytics_sources, analytics_salts, analytics_seen]
