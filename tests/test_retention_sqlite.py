"""What only SQLite shows: an erased or purged email is gone from the bytes of its files, and the
purge finds due rows through its index."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api import create_app
from consent_api.cli import cli
from consent_api.records import files, storage
from consent_api.records import store as records
from consent_api.retention import purge as retention

VICTIM, OTHER = "erase-me.7f3a@example.org", "keep-me.91c2@example.org"


def file_bytes(app: Flask) -> bytes:
    """The database file and its WAL, raw, as someone who copied them would read them."""
    path = Path(storage.get_engine(app).url.database or "")
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def inquiry(email: str, kind: str = "contact") -> records.Record:
    payload = {"email": email, "name": "A Person", "message": "Please call. " * 20}
    return records.store(kind, payload, "2026-03-24", subject_email=email)


def test_erase_leaves_the_email_in_neither_the_database_nor_its_wal(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context():
        for n in range(30):
            inquiry(f"filler{n}@example.org")
        held = inquiry(VICTIM)
        inquiry(VICTIM, kind="demo")
        inquiry(OTHER)
        # A hold rewrites the row, which can leave a stale copy in a page's unused space.
        retention.hold(held.public_id, None, "ongoing relationship")
    assert VICTIM.encode() in file_bytes(app)
    result = runner.invoke(cli, ["erase", "--email", VICTIM])
    assert result.exit_code == 0, result.output
    after = file_bytes(app)
    assert VICTIM.encode() not in after
    assert OTHER.encode() in after


def test_purge_leaves_the_email_in_neither_the_database_nor_its_wal(
    app: Flask, runner: FlaskCliRunner
) -> None:
    with app.app_context(), time_machine.travel(records.now() - dt.timedelta(days=400)):
        inquiry(VICTIM)
    with app.app_context():
        inquiry(OTHER)
    assert VICTIM.encode() in file_bytes(app)
    result = runner.invoke(cli, ["purge"])
    assert "contact 1" in result.output, result.output
    after = file_bytes(app)
    assert VICTIM.encode() not in after
    assert OTHER.encode() in after


def test_purge_finds_due_rows_through_the_due_index(app: Flask) -> None:
    with app.app_context():
        query = retention.due_ids("contact", records.now(), 1000)
    engine = storage.get_engine(app)
    compiled = query.compile(dialect=engine.dialect)
    params = [compiled.params[name] for name in compiled.positiontup or []]
    naive = [p.replace(tzinfo=None) if isinstance(p, dt.datetime) else p for p in params]
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(naive)).all()
    steps = " ".join(str(step[-1]) for step in plan)
    assert "INDEX ix_records_due (kind=? AND hold=? AND created_at<?)" in steps


def test_purge_gives_free_pages_back_once_they_pile_up(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "VACUUM_MIN_FREE_PAGES", 1)
    with app.app_context(), time_machine.travel(records.now() - dt.timedelta(days=400)):
        for n in range(200):
            inquiry(f"person{n}@example.org")
    engine = storage.get_engine(app)

    def pragma(name: str) -> int:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(f"PRAGMA {name}").scalar_one())

    before = pragma("page_count")
    with app.app_context():
        assert retention.purge()["contact"] == 200
    assert pragma("freelist_count") == 0
    assert pragma("page_count") < before / 2


def test_purge_gives_free_pages_back_in_steps_writers_can_queue_between(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(files, "VACUUM_MIN_FREE_PAGES", 1)
    monkeypatch.setattr(files, "VACUUM_STEP_PAGES", 4)
    with app.app_context(), time_machine.travel(records.now() - dt.timedelta(days=400)):
        for n in range(200):
            inquiry(f"person{n}@example.org")
    with app.app_context(), caplog.at_level("INFO", logger="consent_api.retention.purge"):
        assert retention.purge()["contact"] == 200
    with storage.get_engine(app).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0
    # Many short holds of the write lock, not one long VACUUM.
    [report] = [r.getMessage() for r in caplog.records if "free pages" in r.getMessage()]
    steps = int(report.split(" back in ")[1].split()[0])
    assert steps > 5, report
    assert "vacuumed" not in report


def test_a_file_made_before_incremental_vacuum_is_converted_by_its_next_vacuum(
    app_config: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "VACUUM_MIN_FREE_PAGES", 1)
    # Any share will do: the schema's own pages (more tables since analytics) must not decide.
    monkeypatch.setattr(files, "VACUUM_FREE_SHARE", 0.01)
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:  # as the service made files before: no auto_vacuum
        old.execute("CREATE TABLE earlier (x)")
    app = create_app({**app_config, "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context(), time_machine.travel(records.now() - dt.timedelta(days=400)):
        for n in range(50):
            inquiry(f"person{n}@example.org")
    with app.app_context():
        assert retention.purge()["contact"] == 50
    with storage.get_engine(app).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA auto_vacuum").scalar_one() == 2
        assert connection.exec_driver_sql("PRAGMA freelist_count").scalar_one() == 0
    storage.dispose(app)
