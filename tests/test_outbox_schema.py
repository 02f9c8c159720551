"""Migration 5 on a database made before it: the outbox gains its channels, and a notification
queued before the upgrade is still delivered to sales."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from inquiry_support import SmtpServer

from consent_api import create_app
from consent_api.outbox import deliver
from consent_api.records import migrations, schema, storage
from consent_api.records import store as records


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


def version_4_outbox(metadata: sa.MetaData) -> sa.Table:
    """The outbox as migration 2 made it, before migration 5."""
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "record_id",
            sa.String(32),
            sa.ForeignKey("records.public_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", schema.UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", schema.UTCDateTime, nullable=False, index=True),
        sa.Column("claimed_by", sa.String(32), nullable=True),
        sa.Column("claimed_until", schema.UTCDateTime, nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def test_a_notification_queued_before_migration_5_is_delivered_after_it(
    app_config: dict[str, Any], smtp: SmtpServer
) -> None:
    app: Flask = create_app(
        {
            **app_config,
            "AUTO_MIGRATE": False,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": smtp.port,
            "SMTP_STARTTLS": False,
            "MAIL_FROM": "website@carecaller.test",
            "SALES_EMAIL": "sales@carecaller.test",
        }
    )
    with app.app_context():
        outbox = version_4_outbox(sa.MetaData())
        record = records.new("demo", {"name": "Grace", "email": "g@example.org"}, "2026-03-24")
        with storage.transaction() as connection:
            command.upgrade(migrations.alembic_config(connection), "0004")
            records.insert(connection, record)
            connection.execute(
                outbox.insert(),
                {
                    "record_id": record.public_id,
                    "kind": "demo",
                    "created_at": record.created_at,
                    "next_attempt_at": record.created_at,
                },
            )
        with storage.transaction() as connection:
            applied = schema.migrate(connection)
        assert [migration.version for migration in applied] == list(range(5, schema.LATEST + 1))
        columns = {c["name"] for c in sa.inspect(storage.get_engine()).get_columns("outbox")}
        assert columns == set(schema.outbox.c.keys())
        assert deliver.deliver() == deliver.Delivery(sent=1, failed=0)
    [email] = smtp.inbox.messages
    assert email["To"] == "sales@carecaller.test"
    assert record.public_id in email["Subject"]
    storage.dispose(app)
