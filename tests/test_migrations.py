"""Alembic's migrations on every backend: a new database, and one made before Alembic upgraded
in place with its data intact."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask

from consent_api import create_app
from consent_api.cli import cli
from consent_api.records import schema, storage
from consent_api.records import store as records

#: A database as the code before Alembic made it (schema version 3), with data; see its header.
DUMPS = Path(__file__).parent / "data" / "schema-3"
#: What the dumps hold, as the code of that time signed it.
DUMPED_KINDS = ["consent", "contact", "demo"]
DUMPED_TABLES = ["records", "outbox", "used_form_tokens", "purge_log"]
#: Migration 8 moves the old log of command-line requests into the request log, then drops it.
OLD_REQUESTS = "SELECT reference, action, requested_at, counts FROM rights_requests ORDER BY id"


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


def load_dump(url: str) -> None:
    engine = sa.create_engine(url)
    dialect = engine.dialect.name
    sql = (DUMPS / f"{dialect}.sql").read_text(encoding="utf-8")
    if dialect == "sqlite":
        # The dump is a script of its own, with its own transaction.
        with sqlite3.connect(str(engine.url.database)) as connection:
            connection.executescript(sql)
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql(sql)
    engine.dispose()


def rows(app: Flask, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
    return query(app, f"SELECT {columns} FROM {table}")


def query(app: Flask, sql: str) -> list[tuple[Any, ...]]:
    with storage.get_engine(app).connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def columns(app: Flask, table: str) -> str:
    """The table's columns as they are now: later migrations may add some, never drop one."""
    return ", ".join(c["name"] for c in sa.inspect(storage.get_engine(app)).get_columns(table))


@pytest.fixture
def old_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """An app on a database made before Alembic, not yet upgraded."""
    load_dump(app_config["DATABASE_URL"])
    app = create_app({**app_config, "AUTO_MIGRATE": False, "SECRET_KEYS": ["upgrade-test-key"]})
    yield app
    storage.dispose(app)


def differences(app: Flask) -> list[Any]:
    """What differs between the migrated database and the tables the code declares."""
    with storage.get_engine(app).connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), schema.metadata))


def test_a_new_database_gets_exactly_the_declared_schema(app: Flask) -> None:
    assert differences(app) == []
    with storage.get_engine(app).connect() as connection:
        assert (
            MigrationContext.configure(connection).get_current_revision() == f"{schema.LATEST:04d}"
        )


def test_a_database_from_before_alembic_is_upgraded_with_its_data(old_app: Flask) -> None:
    before = {table: rows(old_app, table) for table in DUMPED_TABLES}
    old_columns = {table: columns(old_app, table) for table in DUMPED_TABLES}
    health = old_app.test_client().get("/api/health")
    assert health.status_code == 503
    assert f"version 3 of {schema.LATEST}" in health.json["error"]["message"]

    result = old_app.test_cli_runner().invoke(cli, ["migrate"])

    assert result.exit_code == 0, result.output
    assert "applied migration 4: drop the unused expiry index" in result.output
    assert (
        "applied migration 5: outbox: channels, purposes, failed and sent states" in result.output
    )
    assert "applied migration 1" not in result.output
    assert old_app.test_client().get("/api/health").status_code == 200
    assert {table: rows(old_app, table, old_columns[table]) for table in DUMPED_TABLES} == before
    assert differences(old_app) == []
    inspector = sa.inspect(storage.get_engine(old_app))
    assert "schema_version" not in inspector.get_table_names()
    assert "ix_records_expires_at" not in {i["name"] for i in inspector.get_indexes("records")}


def test_the_old_request_log_arrives_in_the_request_log_as_answered_staff_requests(
    old_app: Flask,
) -> None:
    old = query(old_app, OLD_REQUESTS)
    assert [row[:2] for row in old] == [("REQ-1", "export"), ("REQ-2", "erase")]

    result = old_app.test_cli_runner().invoke(cli, ["migrate"])

    assert result.exit_code == 0, result.output
    assert "applied migration 8: privacy requests" in result.output
    moved = query(
        old_app,
        "SELECT reference, request_type, method, status, received_at, responded_at, counts"
        " FROM request_log ORDER BY id",
    )
    assert moved == [
        ("REQ-1", "access", "staff", "fulfilled", old[0][2], old[0][2], '{"contact": 1}'),
        ("REQ-2", "delete", "staff", "fulfilled", old[1][2], old[1][2], '{"demo": 0}'),
    ]
    assert "rights_requests" not in sa.inspect(storage.get_engine(old_app)).get_table_names()
    shown = old_app.test_cli_runner().invoke(cli, ["requests", "list"])
    assert shown.exit_code == 0, shown.output
    assert "REQ-1" in shown.output and "REQ-2" in shown.output


def test_upgraded_records_still_verify_and_read_as_stored(old_app: Flask) -> None:
    old_app.test_cli_runner().invoke(cli, ["migrate"])
    with old_app.app_context():
        stored = records.stored()
        assert [record.kind for record in stored] == DUMPED_KINDS
        assert records.verify_all().failed == []
        contact = stored[1]
        assert contact.payload["message"] == "Hello,\nüñíçødé ✓"
        assert contact.subject == records.subject_of("ada@example.com")
        assert stored[2].hold and stored[2].hold_reason == "contract talks"
        # The upgraded database takes new records beside the old ones.
        new = records.store("consent", {"action": "reject_all"}, "2026-03-24")
        assert records.get(new.public_id).is_authentic()
    assert rows(old_app, "outbox")[0][1] == contact.public_id


def test_migrating_again_changes_nothing(old_app: Flask) -> None:
    runner = old_app.test_cli_runner()
    runner.invoke(cli, ["migrate"])
    again = runner.invoke(cli, ["migrate"])
    assert again.exit_code == 0, again.output
    assert "applied" not in again.output
    assert f"version {schema.LATEST}" in again.output
