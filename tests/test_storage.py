"""The storage layer on every backend: migrations, group commit, errors as 503s."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import Connection

from consent_api import background, create_app, records, schema, storage
from consent_api.cli import cli
from consent_api.exc import StorageUnavailable


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
    assert {("expires_at",), ("subject",), ("consent_id",)} <= indexed


def test_health_asks_for_a_migration_until_it_has_run(bare_app: Flask) -> None:
    client = bare_app.test_client()
    assert client.get("/api/health").status_code == 503
    bare_app.test_cli_runner().invoke(cli, ["migrate"])
    assert client.get("/api/health").status_code == 200


def test_concurrent_writes_share_commits_and_all_land(app: Flask) -> None:
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


def test_sqlite_writers_of_every_process_queue_behind_the_write_lock(
    app_config: dict[str, Any], tmp_path: Any
) -> None:
    # Another process holding the lock file (here: another app, as a second gunicorn worker
    # would) keeps this one's write waiting; it lands as soon as the lock is let go.
    config = {**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    writer, other = create_app(config), create_app(config)
    holder = storage.WriteLock(storage.get_engine(other))
    assert holder.path == str(tmp_path / "queue.sqlite3-writer")
    landed = threading.Event()

    def write() -> None:
        with writer.app_context():
            records.store("consent", {"n": 1}, "2026-03-24")
        landed.set()

    with holder.held():
        thread = threading.Thread(target=write)
        thread.start()
        assert not landed.wait(0.5)
    assert landed.wait(10)
    thread.join()
    with other.app_context():
        assert len(records.of_kind("consent")) == 1
    storage.dispose(writer)
    storage.dispose(other)


@pytest.mark.postgres
def test_a_write_after_postgresql_dropped_the_connection_still_lands(
    app_config: dict[str, Any], postgres_schema_url: str, postgres_url: str
) -> None:
    app = create_app({**app_config, "DATABASE_URL": postgres_schema_url, "AUTO_MIGRATE": True})
    with app.app_context():
        storage.write(schema.migrate)
        records.store("consent", {"n": 1}, "2026-03-24")
        # The group commit keeps its connection between batches. The server ends it (a
        # restart, an idle timeout): the next write replaces it instead of answering 503.
        group = app.extensions[storage.EXTENSION].group
        pid = group._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        group._connection.rollback()
        admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        records.store("consent", {"n": 2}, "2026-03-24")
        assert len(records.of_kind("consent")) == 2
    storage.dispose(app)


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


def test_a_serving_process_checkpoints_the_sqlite_log_beside_the_writers(
    app_config: dict[str, Any], tmp_path: Any
) -> None:
    # SQLite's own checkpoint would run inside a commit once the log holds 1,000 pages; the
    # service copies the log into the database file from a background job instead.
    path = tmp_path / "checkpoint.sqlite3"
    app = create_app(
        {**app_config, "DATABASE_URL": f"sqlite:///{path}", "CHECKPOINT_INTERVAL": 0.1}
    )
    marker = "checkpoint-marker-5d1c"
    with app.app_context():
        records.store("consent", {"note": marker}, "2026-03-24")
    assert marker.encode() not in path.read_bytes()  # only in the write-ahead log so far
    stop = background.start(app)
    try:
        deadline = time.monotonic() + 10
        while marker.encode() not in path.read_bytes() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
    assert marker.encode() in path.read_bytes()
    storage.dispose(app)
