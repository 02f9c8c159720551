"""How long each part of a privacy request lives, on both databases, with the clock moved by
time-machine: the emailed link (24 hours), an unverified request (7 days), a verified one (until
its answer has been sent), the access package (7 days) and the request log (24 months). And
the faults: an SMTP outage loses no request, an interrupted erasure is completed by running it
again. The published retention schedule shows the new periods."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from inquiry_support import SmtpServer, post, unfold
from request_support import (
    VERIFY_SUBJECT,
    body_of,
    confirmed,
    delivered,
    link_in,
    mail_config,
    send_request,
)

from consent_api.cli import cli
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as records_table
from consent_api.records.schema import request_log, request_packages
from consent_api.requests import log
from consent_api.retention import purge

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
EMAIL = "ada@example.com"


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    return {**app_config, **mail_config(smtp)}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as coordinates:
        yield coordinates


def rows(app: Flask, table: sa.Table) -> list[str]:
    """Every row physically in ``table``, as text, whatever the service's reads would show."""
    with storage.get_engine(app).connect() as connection:
        return [" ".join(map(str, row)) for row in connection.execute(sa.select(table))]


def holding(app: Flask, text: str) -> list[str]:
    """The rows of the records table that hold ``text``."""
    return [row for row in rows(app, records_table) if text.lower() in row.lower()]


def run_purge(app: Flask) -> dict[str, int]:
    with app.app_context():
        return purge.purge()


def entry(app: Flask, reference: str) -> log.Entry:
    with app.app_context():
        return log.get(reference)


def requests(runner: FlaskCliRunner, *args: str) -> Any:
    return runner.invoke(cli, ["requests", *args])


def verification_token(app: Flask, client: FlaskClient, smtp: SmtpServer) -> str:
    """Send a request and return the token of the link its email brought."""
    assert send_request(client, "access").status_code == 201
    (email,) = delivered(app, smtp)
    assert email["Subject"] == VERIFY_SUBJECT
    kind, token = link_in(email)
    assert kind == "confirm"
    return token


def test_a_confirmation_link_stops_working_after_24_hours(
    app: Flask, client: FlaskClient, smtp: SmtpServer, clock: time_machine.Coordinates
) -> None:
    token = verification_token(app, client, smtp)
    clock.move_to(START + 24 * dt.timedelta(hours=1) - MINUTE)
    assert client.get(f"/api/privacy-requests/confirm/{token}").status_code == 200

    clock.move_to(START + 24 * dt.timedelta(hours=1) + MINUTE)
    page = client.get(f"/api/privacy-requests/confirm/{token}")
    assert page.status_code == 410
    assert "This link has expired" in page.text and "links work for 24 hours" in page.text
    answer = client.post("/api/privacy-requests/confirm", json={"token": token})
    assert (answer.status_code, answer.json["error"]["code"]) == (410, "link_expired")
    plain = client.post("/api/privacy-requests/confirm", data={"token": token})
    assert plain.status_code == 410 and "This link has expired" in plain.text
    with app.app_context():
        (unverified,) = log.listing()
    assert unverified.status == log.UNVERIFIED


def test_an_unverified_request_expires_after_7_days_and_its_address_goes(
    app: Flask, client: FlaskClient, smtp: SmtpServer, clock: time_machine.Coordinates
) -> None:
    verification_token(app, client, smtp)
    with app.app_context():
        (waiting,) = log.listing()
    clock.move_to(START + 7 * DAY - MINUTE)
    run_purge(app)
    assert holding(app, EMAIL) and entry(app, waiting.reference).status == log.UNVERIFIED

    clock.move_to(START + 7 * DAY + MINUTE)
    done = run_purge(app)
    assert done["privacy_request"] == 1 and done["unverified requests expired"] == 1
    assert holding(app, EMAIL) == []
    kept = entry(app, waiting.reference)
    assert (kept.status, kept.request_type, kept.method) == (log.EXPIRED, "access", "web")


def test_a_verified_request_is_kept_until_its_answer_has_been_sent(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    clock: time_machine.Coordinates,
) -> None:
    reference = confirmed(app, client, smtp, "delete")
    delivered(app, smtp)
    clock.move_to(START + 8 * DAY)
    run_purge(app)
    assert holding(app, EMAIL), "an open request keeps its address past the 7 days"

    smtp.stop()
    assert requests(runner, "fulfil", reference).exit_code == 0
    assert delivered(app, smtp) == []
    run_purge(app)
    assert holding(app, EMAIL), "the answer is still to be sent to that address"

    smtp.start()
    clock.move_to(START + 8 * DAY + 2 * MINUTE)  # the outbox's first retry is due
    (answer,) = delivered(app, smtp)
    assert unfold(answer["Subject"]) == f"Our answer to your privacy request {reference}"
    assert answer["To"] == EMAIL
    run_purge(app)
    assert holding(app, EMAIL) == []
    assert entry(app, reference).status == log.FULFILLED


def test_the_request_log_keeps_each_entry_24_months_from_its_answer(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    clock: time_machine.Coordinates,
) -> None:
    answered = confirmed(app, client, smtp, "access")
    assert requests(runner, "fulfil", answered).exit_code == 0
    answered_late = confirmed(app, client, smtp, "delete", email="bob@example.org")
    waiting = confirmed(app, client, smtp, "delete", email="alan@example.org")
    send_request(client, "access", email="grace@example.org")  # never confirmed
    clock.move_to(START + 8 * DAY)
    run_purge(app)  # the unconfirmed request expires
    clock.move_to(START + 40 * DAY)
    assert requests(runner, "fulfil", answered_late).exit_code == 0
    delivered(app, smtp)

    clock.move_to(START + 731 * DAY - MINUTE)
    run_purge(app)
    assert len(rows(app, request_log)) == 4
    clock.move_to(START + 731 * DAY + MINUTE)
    assert run_purge(app)["request_log"] == 2  # the first answer and the expired request
    assert [r for r in rows(app, request_log) if answered in r] == []

    clock.move_to(START + (40 + 731) * DAY - MINUTE)
    assert run_purge(app)["request_log"] == 0
    clock.move_to(START + (40 + 731) * DAY + MINUTE)
    assert run_purge(app)["request_log"] == 1
    # The request never answered stays: its entry is how staff still see it, overdue.
    (left,) = rows(app, request_log)
    assert waiting in left
    assert entry(app, waiting).is_overdue()


def test_an_access_package_is_deleted_7_days_after_it_was_made(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    clock: time_machine.Coordinates,
) -> None:
    post(client, "contact", email=EMAIL)
    reference = confirmed(app, client, smtp, "access")
    assert requests(runner, "fulfil", reference).exit_code == 0
    (answer,) = [m for m in delivered(app, smtp) if "Our answer" in unfold(m["Subject"])]
    _, token = link_in(answer)
    clock.move_to(START + 7 * DAY - MINUTE)
    run_purge(app)
    assert client.get(f"/api/privacy-requests/download/{token}").status_code == 200
    assert len(rows(app, request_packages)) == 1

    clock.move_to(START + 7 * DAY + MINUTE)
    assert run_purge(app)["access packages"] == 1
    assert rows(app, request_packages) == []
    gone = client.post("/api/privacy-requests/download", json={"token": token})
    assert (gone.status_code, gone.json["error"]["code"]) == (410, "link_expired")


def test_an_smtp_outage_delays_the_link_but_loses_no_request(
    app: Flask, client: FlaskClient, smtp: SmtpServer, clock: time_machine.Coordinates
) -> None:
    smtp.stop()
    assert send_request(client, "delete").status_code == 201
    assert delivered(app, smtp) == []
    clock.move_to(START + 2 * MINUTE)
    assert delivered(app, smtp) == []

    smtp.start()
    clock.move_to(START + 5 * MINUTE)
    (verification,) = delivered(app, smtp)
    assert (verification["Subject"], verification["To"]) == (VERIFY_SUBJECT, EMAIL)
    _, token = link_in(verification)
    answer = client.post("/api/privacy-requests/confirm", json={"token": token})
    assert answer.status_code == 200, answer.json
    assert entry(app, answer.json["reference"]).status == log.VERIFIED


def test_an_interrupted_erasure_leaves_the_request_in_progress_and_a_rerun_completes_it(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    post(client, "contact", email=EMAIL)
    post(client, "demo", email=EMAIL)
    post(client, "contact", email="bob@example.org", name="Bob Other")
    reference = confirmed(app, client, smtp, "delete")
    delivered(app, smtp)
    real_delete = records.delete_ids

    def delete_then_die(connection: Any, ids: Any) -> int:
        # The process dies after the DELETE statement, before the transaction commits.
        real_delete(connection, ids)
        raise SystemError("the erasure's process was killed here")

    monkeypatch.setattr(records, "delete_ids", delete_then_die)
    interrupted = requests(runner, "fulfil", reference)
    assert interrupted.exit_code != 0 and isinstance(interrupted.exception, SystemError)
    monkeypatch.undo()

    assert entry(app, reference).status == log.IN_PROGRESS
    assert len(holding(app, EMAIL)) == 3  # two inquiries and the request's own record
    assert delivered(app, smtp) == []
    listed = requests(runner, "list").output
    assert "in progress" in listed

    assert requests(runner, "fulfil", reference).exit_code == 0
    done = entry(app, reference)
    assert (done.status, done.counts) == (log.FULFILLED, {"contact": 1, "demo": 1})
    (answer,) = delivered(app, smtp)
    assert "We have deleted 2 record(s)" in body_of(answer)
    assert holding(app, "bob@example.org")
    again = requests(runner, "fulfil", reference)
    assert again.exit_code == 1 and f"{reference} is fulfilled" in again.output
    assert entry(app, reference).counts == {"contact": 1, "demo": 1}
    assert holding(app, "bob@example.org")


def schedule_rows(built_site: Path) -> dict[str, list[str]]:
    """The retention schedule's table as a reader sees it: each row's cells by its first."""
    html = (built_site / "legal" / "retention" / "index.html").read_text(encoding="utf-8")
    table: dict[str, list[str]] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = [
            " ".join(unescape(re.sub(r"<[^>]+>", "", cell)).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        if cells:
            table[cells[0]] = cells[1:]
    return table


def test_the_retention_schedule_lists_privacy_requests_and_their_log(built_site: Path) -> None:
    table = schedule_rows(built_site)
    (requests_row,) = [
        cells for label, cells in table.items() if label.startswith("Privacy requests")
    ]
    assert requests_row[0] == "7 days"
    assert "open" in requests_row[1] and "answer has been sent" in requests_row[1]
    (log_row,) = [cells for label, cells in table.items() if label.startswith("Log of privacy")]
    assert log_row == [
        "731 days",
        "Counted from our response; kept while the request is still open.",
    ]
    assert any("no email address" in label for label in table)
