"""What only SQLite needs: one queue for its write lock across processes, and checkpoints that
run beside the writers instead of inside their commits."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy import Connection

from consent_api import background, create_app
from consent_api.exc import StorageUnavailable
from consent_api.records import sqlite, storage
from consent_api.records import store as records


def test_sqlite_writers_of_every_process_queue_behind_the_write_lock(
    app_config: dict[str, Any], tmp_path: Path
) -> None:
    # Another process holding the lock file (here: another app, as a second gunicorn worker
    # would) keeps this one's write waiting; it lands as soon as the lock is let go.
    config = {**app_config, "DATABASE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}"}
    writer, other = create_app(config), create_app(config)
    holder = sqlite.WriteLock(storage.get_engine(other))
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


def test_a_serving_process_checkpoints_the_sqlite_log_beside_the_writers(
    app_config: dict[str, Any], tmp_path: Path
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


def _queued(group: sqlite.GroupCommit, count: int) -> None:
    """Wait until ``count`` writers queue behind the running batch."""
    deadline = time.monotonic() + 10
    while len(group._pending) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(group._pending) == count


def test_writers_of_one_failed_batch_each_get_their_own_error_from_the_one_cause(
    app: Flask,
) -> None:
    group = app.extensions[storage.EXTENSION].group
    running, release = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    errors: dict[str, BaseException] = {}

    def first(_connection: Connection) -> None:
        running.set()
        release.wait(10)  # holds its batch while three more writers queue behind it

    def inspect(connection: Connection) -> None:
        # Run by the thread that leads the batch, in its own request's context, not the leader's.
        seen["path"], seen["thread"] = request.path, threading.current_thread().name
        connection.execute(sa.text("SELECT 1"))

    def broken(connection: Connection) -> None:
        connection.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))

    def write(name: str, work: Any) -> None:
        with app.test_request_context(f"/{name}"), pytest.raises(StorageUnavailable) as raised:
            storage.write(work)
        errors[name] = raised.value

    def hold() -> None:
        with app.app_context():
            storage.write(first)

    holder = threading.Thread(target=hold)
    holder.start()
    assert running.wait(10)
    threads = [
        threading.Thread(target=write, args=(name, work), name=name)
        for name, work in [("lead", lambda c: None), ("inspect", inspect), ("broken", broken)]
    ]
    for thread in threads:
        thread.start()
        _queued(group, threads.index(thread) + 1)
    release.set()
    for thread in [holder, *threads]:
        thread.join(10)
    assert seen == {"path": "/inspect", "thread": "lead"}
    assert len(errors) == 3
    one, other = errors["inspect"], errors["broken"]
    assert one is not other
    assert isinstance(one.__cause__, sqlite.BatchFailed)
    assert one.__cause__ is not other.__cause__
    # Both chained to the one failure, which neither thread raised again.
    assert one.__cause__.__cause__ is other.__cause__.__cause__  # type: ignore[union-attr]
    assert isinstance(one.__cause__.__cause__, sa.exc.OperationalError)  # type: ignore[union-attr]
    with app.app_context():
        assert records.store("consent", {}, "2026-03-24").is_authentic()


def test_rows_on_the_driver_are_stored_as_a_core_insert_stores_them(
    app: Flask, database_url: str
) -> None:
    # The group commit inserts rows on the driver's connection with SQLAlchemy's converters;
    # an inquiry's work inserts with a Core statement. Both must leave the same text behind.
    with app.app_context():
        fast = records.store("consent", {"n": 1}, "2026-03-24", consent_id=records.new_id())
        core = records.new("consent", {"n": 1}, "2026-03-24", consent_id=fast.consent_id)
        storage.write(lambda connection: records.insert(connection, core))
        assert records.get(fast.public_id) == fast
        assert records.get(core.public_id) == core
    path = sa.make_url(database_url).database
    with contextlib.closing(sqlite3.connect(str(path))) as raw:
        rows = raw.execute(
            "SELECT * FROM records WHERE public_id IN (?, ?) ORDER BY id",
            (fast.public_id, core.public_id),
        ).fetchall()
    shapes = [[(type(value), len(str(value))) for value in row[2:]] for row in rows]
    assert shapes[0] == shapes[1]
    assert rows[0][3] == str(fast.created_at.replace(tzinfo=None))
