"""Retention on every backend: records vanish at expiry, the purge deletes them, holds keep them."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from conftest import ROOT
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api import background, create_app
from consent_api.cli import cli
from consent_api.exc import NotFound
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.retention import purge as retention

YEAR = dt.timedelta(days=365)
LATER = dt.timedelta(days=400)  # past every kind's period in mkdocs.yml (395 days at most)
#: A purge's count for each kind of record and each registered step when it deletes nothing.
NOTHING = {
    "consent": 0,
    "contact": 0,
    "demo": 0,
    "privacy_request": 0,
    "analytics": 0,
    "request_log": 0,
    "unverified requests expired": 0,
    "answered privacy requests": 0,
    "access packages": 0,
}


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def inquiry(email: str = "ada@example.org", kind: str = "contact") -> records.Record:
    return records.store(
        kind, {"email": email, "message": "Hi."}, "2026-03-24", subject_email=email
    )


def consent() -> records.Record:
    return records.store("consent", {"action": "reject_all"}, "2026-03-24", consent_id="c" * 22)


def stored_ids(app: Flask) -> set[str]:
    """Public IDs of the rows physically in the table, whatever reads would show."""
    with storage.get_engine(app).connect() as connection:
        return set(connection.scalars(sa.select(table.c.public_id)))


def invoke(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("ctx")
def test_records_vanish_at_their_period_and_the_purge_deletes_them(app: Flask) -> None:
    contact, kept = inquiry(), consent()
    at_expiry = contact.created_at + YEAR
    with time_machine.travel(at_expiry - dt.timedelta(seconds=1), tick=False):
        assert records.get(contact.public_id) == contact
    with time_machine.travel(at_expiry, tick=False):
        with pytest.raises(NotFound):
            records.get(contact.public_id)
        assert contact.public_id in stored_ids(app)
        assert retention.purge() == {**NOTHING, "contact": 1}
    assert stored_ids(app) == {kept.public_id}


@pytest.mark.usefixtures("ctx")
def test_held_inquiries_survive_the_purge_and_released_ones_go(
    app: Flask, runner: FlaskCliRunner
) -> None:
    first, second = inquiry("Ada@Example.org"), inquiry("ada@example.org", kind="demo")
    other = inquiry("bob@example.org")
    output = invoke(runner, "hold", "--email", "ADA@example.org", "--reason", "customer since May")
    assert first.public_id in output and second.public_id in output
    with time_machine.travel(first.created_at + LATER, tick=False):
        assert retention.purge()["contact"] == 1
        assert stored_ids(app) == {first.public_id, second.public_id}
        held = records.get(first.public_id)
        assert (held.hold, held.hold_reason) == (True, "customer since May")
        assert held.held_at is not None and held.is_authentic()
        invoke(runner, "release", first.public_id)
        with pytest.raises(NotFound):
            records.get(first.public_id)
        assert retention.purge() == {**NOTHING, "contact": 1}
    assert stored_ids(app) == {second.public_id}
    assert other.public_id not in stored_ids(app)


@pytest.mark.usefixtures("ctx")
def test_consent_records_cannot_be_held(runner: FlaskCliRunner) -> None:
    record = consent()
    result = runner.invoke(cli, ["hold", record.public_id, "--reason", "no"])
    assert result.exit_code == 1
    assert "only inquiries" in result.output
    assert not records.get(record.public_id).hold


@pytest.mark.usefixtures("ctx")
def test_dry_run_counts_per_kind_and_deletes_nothing(app: Flask, runner: FlaskCliRunner) -> None:
    made = {inquiry().public_id, inquiry(kind="demo").public_id, consent().public_id}
    with time_machine.travel(records.now() + YEAR + dt.timedelta(days=1), tick=False):
        output = invoke(runner, "purge", "--dry-run")
    assert "would delete consent 0, contact 1, demo 1" in output
    assert stored_ids(app) == made
    assert invoke(runner, "purge", "--history") == ""


@pytest.mark.usefixtures("ctx")
def test_purge_is_idempotent_and_logs_counts_without_personal_data(
    app: Flask, runner: FlaskCliRunner
) -> None:
    inquiry("ada@example.org")
    with time_machine.travel(records.now() + LATER, tick=False):
        assert "deleted consent 0, contact 1, demo 0" in invoke(runner, "purge")
        assert "deleted consent 0, contact 0, demo 0" in invoke(runner, "purge")
    history = invoke(runner, "purge", "--history").splitlines()
    assert len(history) == 2
    assert "contact 0" in history[0] and "contact 1" in history[1]
    assert "ada" not in "".join(history)


def test_two_purges_at_once_delete_each_record_once(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "PURGE_BATCH_SIZE": 7})
    with app.app_context():
        past = records.now() - LATER
        with time_machine.travel(past, tick=False):
            expired = [
                inquiry(f"p{n}@example.org", kind=("contact", "demo")[n % 2]) for n in range(40)
            ]
            expired += [consent() for _ in range(20)]
            held = inquiry("held@example.org")
            retention.hold(held.public_id, None, "ongoing")
        live = {inquiry().public_id, consent().public_id}
    start, results = threading.Barrier(2), []

    def purge() -> None:
        with app.app_context():
            start.wait()
            results.append(retention.purge())

    threads = [threading.Thread(target=purge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2
    assert sum(sum(counts.values()) for counts in results) == len(expired)
    assert stored_ids(app) == live | {held.public_id}
    with app.app_context():
        assert len(retention.history()) == 2
        assert all(record.is_authentic() for record in records.stored())
    storage.dispose(app)


def test_in_process_purge_runs_at_start_and_can_be_switched_off(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "PURGE_INTERVAL": 0.05})
    assert "purge" in [job.name for job in app.extensions[background.EXTENSION]]
    with app.app_context(), time_machine.travel(records.now() - LATER, tick=False):
        inquiry()
    stop = background.start(app)
    try:
        for _ in range(100):
            if not stored_ids(app):
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
    assert stored_ids(app) == set()
    storage.dispose(app)


def site_config(tmp_path: Path, contact_days: int) -> Path:
    """``mkdocs.yml`` as a marketer would change it: another period for contact inquiries."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = re.sub(r"(\n    contact:\n      days: )\d+", rf"\g<1>{contact_days}", text)
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"docs_dir: {ROOT / 'docs'}\n{text}", encoding="utf-8")
    return config


def test_a_shorter_period_applies_to_records_already_stored(
    app: Flask, app_config: dict[str, Any], tmp_path: Path
) -> None:
    with app.app_context():
        old = inquiry()
    assert old.expires_at - old.created_at == YEAR
    shorter = create_app({**app_config, "SITE_CONFIG": str(site_config(tmp_path, 30))})
    with shorter.app_context(), time_machine.travel(old.created_at + dt.timedelta(days=31)):
        with pytest.raises(NotFound):
            records.get(old.public_id)
        assert retention.purge()["contact"] == 1
    storage.dispose(shorter)
