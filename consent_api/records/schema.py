"""The database schema: its tables, and the ordered migrations that create and upgrade them.

``migrate`` applies, in order and once each, every migration a database has not had yet, and
records it in ``schema_version``. A migration's DDL is fixed once it has been released: a later
change to a table below comes with a new migration that alters it, appended to ``MIGRATIONS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
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
    func,
    select,
    text,
)


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

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", UTCDateTime, nullable=False),
)

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
    Index("ix_records_expires_at", "expires_at"),
    Index("ix_records_consent_id", "consent_id"),
    Index("ix_records_subject", "subject"),
)

#: What the purge asks: which records of a kind, not on hold, were created before the kind's
#: cutoff (``records.due``). Added by migration 3; declared here, so on the table's metadata.
records_due = Index("ix_records_due", records.c.kind, records.c.hold, records.c.created_at)

#: One row per purge run: when, and how many records of each kind it deleted. No personal data.
purge_log = Table(
    "purge_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    # {"consent": 3, "contact": 0, "demo": 1}
    Column("deleted", Text, nullable=False),
)

#: One row per access or deletion request: its reference and counts, never who asked.
rights_requests = Table(
    "rights_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    # {"contact": 1, "demo": 0, ...}: records (and notifications) exported or erased, by kind.
    Column("counts", Text, nullable=False),
    Index("ix_rights_requests_reference", "reference"),
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
)

#: Form tokens already used, kept until they would have expired anyway: one database for every
#: instance, so that a token is accepted once however many instances there are.
used_form_tokens = Table(
    "used_form_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)


# --- Analytics (migration 4): four tables of their own; nothing above changes. -----------------
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


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[Connection], None]


def _create_records(connection: Connection) -> None:
    metadata.create_all(connection, tables=[records])


def _create_inquiry_tables(connection: Connection) -> None:
    metadata.create_all(connection, tables=[outbox, used_form_tokens])


def _add_retention(connection: Connection) -> None:
    # checkfirst: a database created since this index was declared has it from migration 1.
    records_due.create(connection, checkfirst=True)
    metadata.create_all(connection, tables=[purge_log, rights_requests])


def _create_analytics(connection: Connection) -> None:
    metadata.create_all(connection, tables=ANALYTICS_TABLES)


#: Oldest first; versions are 1, 2, 3, ... without gaps.
MIGRATIONS: list[Migration] = [
    Migration(1, "create records", _create_records),
    Migration(2, "create outbox and used form tokens", _create_inquiry_tables),
    Migration(3, "retention: purge log, rights-request log, due index", _add_retention),
    Migration(4, "analytics: daily aggregates, daily salt, visitors seen today", _create_analytics),
]

LATEST = MIGRATIONS[-1].version

#: Any constant works: it only keeps two hosts from migrating one PostgreSQL database at once.
_PG_MIGRATION_LOCK = 0x636F6E73656E74


def current_version(connection: Connection) -> int:
    """The newest migration applied to the database (0 for an empty one)."""
    if not connection.dialect.has_table(connection, schema_version.name):
        return 0
    return int(connection.scalar(select(func.max(schema_version.c.version))) or 0)


def migrate(connection: Connection) -> list[Migration]:
    """Apply the pending migrations inside the caller's transaction; returns what was applied."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    metadata.create_all(connection, tables=[schema_version])
    done = current_version(connection)
    pending = [migration for migration in MIGRATIONS if migration.version > done]
    for migration in pending:
        migration.apply(connection)
        connection.execute(
            schema_version.insert(),
            {
                "version": migration.version,
                "name": migration.name,
                "applied_at": dt.datetime.now(dt.UTC),
            },
        )
    return pending
