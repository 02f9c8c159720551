"""The purge log keeps a trace of every run, even one killed midway: its row is written at the
start, counts what each batch deleted, and is completed at the end."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from alembic import command
from conftest import BIN
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api.cli import cli
from consent_api.records import migrations, schema, storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.retention import purge as retention

LATER = dt.timedelta(days=400)  # past every kind's period in mkdocs.yml
DUE = 300


def remaining(url: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        count = int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
    engine.dispose()
    return count


def test_a_purge_killed_midway_leaves_an_unfinished_row_counting_what_it_deleted(
    app: Flask, app_config: dict[str, Any], runner: FlaskCliRunner
) -> None:
    past = time_machine.travel(records.now() - LATER, tick=False)
    with app.app_context(), past, storage.transaction() as connection:
        for n in range(DUE):
            records.insert(connection, records.new("consent", {"n": n}, "2026-03-24"))
    storage.dispose(app)
    url = app_config["DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENT_API_")}
    env.update(
        {
            "CONSENT_API_ENV": "development",
            "CONSENT_API_SITE_DIR": "",
            "CONSENT_API_DATABASE_URL": url,
            "CONSENT_API_PURGE_BATCH_SIZE": "1",  # one record per batch: a long run
        }
    )
    purge = subprocess.Popen([str(BIN / "consent-api"), "purge"], env=env)
    deadline = time.monotonic() + 30
    while remaining(url) > DUE - 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(purge.pid, signal.SIGKILL)
    purge.wait()
    assert purge.returncode == -signal.SIGKILL

    deleted = DUE - remaining(url)
    assert 0 < deleted < DUE
    with app.app_context():
        (run,) = retention.history()
    assert run["finished_at"] is None
    assert run["deleted"]["consent"] == deleted  # exactly what is gone
    shown = runner.invoke(cli, ["purge", "--history"]).output
    assert "UNFINISHED" in shown and f"consent {deleted}" in shown


@pytest.mark.usefixtures("ctx")
def test_a_finished_run_is_completed_with_its_counts() -> None:
    with time_machine.travel(records.now() - LATER, tick=False):
        records.store("consent", {"n": 1}, "2026-03-24")
    deleted = retention.purge()
    (run,) = retention.history()
    assert run["finished_at"] is not None
    assert run["deleted"] == deleted and deleted["consent"] == 1


#: purge_log as the previous release created it: every run's row written once, at its end.
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_the_migration_keeps_the_runs_logged_before_it(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'old.sqlite3'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    engine = storage.make_engine(url)
    now = records.now()
    logged = {"started_at": now, "finished_at": now, "deleted": '{"consent": 2}'}
    with engine.begin() as connection:
        # A database of the previous release: migrations up to 5, its purge log's rows finished.
        command.upgrade(migrations.alembic_config(connection), "0005")
        connection.execute(schema.purge_log.insert(), logged)
    with engine.begin() as connection:
        schema.migrate(connection)
        kept = connection.execute(sa.select(schema.purge_log.c.deleted)).scalars().all()
        # What the purge now writes when it starts:
        connection.execute(schema.purge_log.insert(), {**logged, "finished_at": None})
    engine.dispose()
    assert kept == ['{"consent": 2}']
