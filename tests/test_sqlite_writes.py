"""What only SQLite needs: one queue for its write lock across processes, and checkpoints that
run beside the writers instead of inside their commits."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from consent_api import background, create_app
from consent_api.records import storage
from consent_api.records import store as records


def test_sqlite_writers_of_every_process_queue_behind_the_write_lock(
    app_config: dict[str, Any], tmp_path: Path
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
