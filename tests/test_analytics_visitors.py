"""Unique visitors on every backend: one salt a day, shared by instances, and gone the next day,
so a visitor's keys of one day cannot be linked to another day's."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from analytics_support import daily, post, view
from flask import Flask
from flask.testing import FlaskClient

from consent_api import create_app
from consent_api.records import storage
from consent_api.records.schema import analytics_daily, analytics_salts, analytics_seen
from consent_api.retention import purge as retention

MONDAY = dt.datetime(2026, 4, 6, 23, 50, tzinfo=dt.UTC)
TUESDAY = MONDAY + dt.timedelta(minutes=20)


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def rows(app: Flask, table: sa.Table) -> list[Any]:
    with storage.get_engine(app).connect() as connection:
        return list(connection.execute(sa.select(table)))


def test_a_visitor_is_counted_again_next_day_and_the_days_cannot_be_linked(
    app: Flask, client: FlaskClient
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        post(client, view("/demo/"))
        post(client, view("/demo/"))
        monday_salts = rows(app, analytics_salts)
        monday_keys = {row.key for row in rows(app, analytics_seen)}
    with time_machine.travel(TUESDAY, tick=False):
        assert post(client, view("/demo/")).status_code == 204
        tuesday_salts = rows(app, analytics_salts)
        tuesday_keys = {row.key for row in rows(app, analytics_seen)}
    per_day = {
        (row.day, row.path): (row.events, row.visitors) for row in rows(app, analytics_daily)
    }
    assert per_day[(MONDAY.date(), "/demo/")] == (2, 1)
    assert per_day[(TUESDAY.date(), "/demo/")] == (1, 1)
    # Monday's salt and keys are gone; Tuesday's keys share nothing with them.
    assert [row.day for row in monday_salts] == [MONDAY.date()]
    assert [row.day for row in tuesday_salts] == [TUESDAY.date()]
    assert tuesday_salts[0].salt != monday_salts[0].salt
    assert {row.day for row in rows(app, analytics_seen)} == {TUESDAY.date()}
    assert len(monday_keys) == len(tuesday_keys) == 2  # the page, and the whole site
    assert not monday_keys & tuesday_keys


def test_instances_sharing_a_database_share_the_days_salt(
    app: Flask, app_config: dict[str, Any]
) -> None:
    other = create_app(app_config)
    try:
        assert post(app.test_client(), view()).status_code == 204
        assert post(other.test_client(), view()).status_code == 204
        assert post(other.test_client(), view(), address="192.0.2.1").status_code == 204
    finally:
        storage.dispose(other)
    assert daily(app)[("", "pageview")] == (3, 2)
    assert len(rows(app, analytics_salts)) == 1


def test_the_purge_forgets_a_quiet_days_salt_and_keys(app: Flask, client: FlaskClient) -> None:
    with time_machine.travel(MONDAY, tick=False):
        post(client, view())
    with app.app_context(), time_machine.travel(TUESDAY + dt.timedelta(hours=3), tick=False):
        retention.purge()
    assert rows(app, analytics_salts) == []
    assert rows(app, analytics_seen) == []
    assert daily(app)[("", "pageview")] == (1, 1)  # the counters stay for their period
