"""The storage layer on every backend: migrations, group commit, errors as 503s."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import Connection

from consent_api import create_app
from consent_api.cli import cli
from consent_api.exc import StorageUnavailable
from consent_api.records import schema, storage
from consent_api.records import store as records


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


@pytest.fixture
def bare_app(app_config: dict[str, Any]) -> Any:
    """An app on an empty database that nothing has migrated."""
    app = create_app({**app_config, "AUTO_MIGRATE": False})
    yield app
    storage.dispose(app)


def test_migrate_creates_the_schema_once(bare_app: Flask) -> None:
    runner = bare_app.test_cli_runner()
    first = runner.invoke(cli, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "applied migration 1: create records" in first.output
    again = runner.invoke(cli, ["init-db"])
    assert again.exit_code == 0, again.output
    assert "applied" not in again.output
    assert f"version {schema.LATEST}" in again.output
    with storage.get_engine(bare_app).connect() as connection:
        assert schema.current_version(connection) == schema.LATEST


def test_migrated_tables_match_the_declared_ones(bare_app: Flask) -> None:
    bare_app.test_cli_runner().invoke(cli, ["migrate"])
    inspector = sa.inspect(storage.get_engine(bare_app))
    for table in schema.metadata.tables.values():
        assert {c["name"] for c in inspector.get_columns(table.name)} == set(table.c.keys())
    indexed = {tuple(index["column_names"]) for index in inspector.get_indexes("records")}
    assert {("subject",), ("consent_id",), ("kind", "hold", "created_at")} <= indexed
    # Nothing reads records by expiry (the purge goes by creation time): no index costs inserts.
    assert ("expires_at",) not in indexed


def test_health_asks_for_a_migration_until_it_has_run(bare_app: Flask) -> None:
    client = bare_app.test_client()
    assert client.get("/api/health").status_code == 503
    bare_app.test_cli_runner().invoke(cli, ["migrate"])
    assert client.get("/api/health").status_code == 200


def test_concurrent_writes_all_land_and_share_commits_on_sqlite(app: Flask) -> None:
    commits = []
    sa.event.listen(storage.get_engine(app), "commit", lambda connection: commits.append(1))
    stored: list[records.Record] = []
    start = threading.Barrier(16)

    def post() -> None:
        with app.app_context():
            start.wait()
            for _ in range(5):
                stored.append(records.store("consent", {"n": 1}, "2026-03-24"))

    threads = [threading.Thread(target=post) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with app.app_context():
        assert len(records.of_kind("consent")) == len(stored) == 80
    # SQLite commits concurrent writes together; PostgreSQL flushes concurrent commits together
    # itself, so there each write is a transaction of its own.
    if storage.get_engine(app).dialect.name == "sqlite":
        assert len(commits) < 80


def test_a_failed_batch_fails_every_writer_in_it(app: Flask) -> None:
    def broken(connection: Connection) -> None:
        connection.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    with app.app_context():
        with pytest.raises(StorageUnavailable):
            storage.write(broken)
        assert records.of_kind("consent") == []
        # The next writer is not stuck behind the failed one.
        assert records.store("consent", {}, "2026-03-24").is_authentic()


def test_a_write_answers_with_the_result_of_its_work(app: Flask) -> None:
    with app.app_context():
        assert storage.write(lambda connection: connection.scalar(sa.text("SELECT 41 + 1"))) == 42


def test_migrations_from_several_hosts_at_once_apply_once(bare_app: Flask) -> None:
    applied: list[int] = []

    def migrate() -> None:
        with bare_app.app_context(), storage.transaction() as connection:
            applied.extend(migration.version for migration in schema.migrate(connection))

    threads = [threading.Thread(target=migrate) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert applied == [migration.version for migration in schema.MIGRATIONS]
    with storage.get_engine(bare_app).connect() as connection:
        assert schema.current_version(connection) == schema.LATEST
