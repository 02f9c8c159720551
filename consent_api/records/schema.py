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
    # Empty while the run goes on, and for ever if it was killed: the row is written first.
    Column("finished_at", UTCDateTime, nullable=True),
    # {"consent": 3, "contact": 0, "demo": 1}: so far, then in all
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


def _purge_log_rows_at_start(connection: Connection) -> None:
    # The purge writes its row when it starts and completes it when it ends, so a run killed
    # midway leaves a row without ``finished_at``.
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE purge_log ALTER COLUMN finished_at DROP NOT NULL"))
        return
    # SQLite cannot change a column: the table is rebuilt (it is small: a row per run).
    connection.execute(text("ALTER TABLE purge_log RENAME TO purge_log_old"))
    metadata.create_all(connection, tables=[purge_log])
    connection.execute(
        text(
            "INSERT INTO purge_log (id, started_at, finished_at, deleted)"
            " SELECT id, started_at, finished_at, deleted FROM purge_log_old"
        )
    )
    connection.execute(text("DROP TABLE purge_log_old"))


#: Oldest first; versions are 1, 2, 3, ... without gaps.
MIGRATIONS: list[Migration] = [
    Migration(1, "create records", _create_records),
    Migration(2, "create outbox and used form tokens", _create_inquiry_tables),
    Migration(3, "retention: purge log, rights-request log, due index", _add_retention),
    Migration(4, "purge log: a run is logged when it starts", _purge_log_rows_at_start),
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
