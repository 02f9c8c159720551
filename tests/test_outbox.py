"""Sales notifications through a real local SMTP server: sent once, kept while SMTP is down."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import SmtpServer, post

from consent_api import create_app
from consent_api.cli import cli
from consent_api.inquiries import outbox
from consent_api.records import storage
from consent_api.records import store as records


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Claims must hold on both backends: SKIP LOCKED on PostgreSQL, one writer on SQLite.
    return backend_url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    return {
        **app_config,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 2,
        "MAIL_FROM": "website@carecaller.test",
        "SALES_EMAIL": "sales@carecaller.test",
        "INQUIRY_RATE_LIMIT": "100 per minute",
    }


def deliver(app: Flask) -> outbox.Delivery:
    with app.app_context():
        return outbox.deliver()


def waiting(app: Flask) -> int:
    with app.app_context():
        return outbox.pending()


def test_notification_arrives_with_the_reference_and_nothing_the_visitor_wrote(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    smtp.start()
    reference = post(client, "demo").json["reference"]
    assert deliver(app) == outbox.Delivery(sent=1, failed=0)
    [email] = smtp.inbox.messages
    assert email["To"] == "sales@carecaller.test"
    assert email["From"] == "website@carecaller.test"
    assert reference in email["Subject"] and "demo request" in email["Subject"]
    text = email.get_payload()
    assert f"consent-api show {reference}" in text
    for secret in ("Grace", "grace@example.org", "Harvard", "555"):
        assert secret not in email.as_string()
    assert waiting(app) == 0


def test_smtp_down_keeps_the_lead_and_delivers_it_once_when_back(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    reference = post(client).json["reference"]
    assert deliver(app) == outbox.Delivery(sent=0, failed=1)
    with app.app_context():
        assert records.get(reference).kind == "contact"  # stored although SMTP is down
    assert waiting(app) == 1
    smtp.start()
    assert deliver(app).sent == 0  # backing off: the retry is not due yet
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert deliver(app) == outbox.Delivery(sent=1, failed=0)
        assert deliver(app) == outbox.Delivery(sent=0, failed=0)
    assert [email["Subject"].split("(")[1] for email in smtp.inbox.messages] == [f"{reference})"]
    assert waiting(app) == 0


def test_two_deliverers_at_once_send_each_notification_once(
    app_config: dict[str, Any], app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    smtp.start()
    references = {post(client, name=f"Lead {n}").json["reference"] for n in range(6)}
    other = create_app(app_config)  # a second instance, with its own connections
    start = threading.Barrier(2)
    results: list[outbox.Delivery] = []

    def run(instance: Flask) -> None:
        start.wait()
        results.append(deliver(instance))

    threads = [threading.Thread(target=run, args=(instance,)) for instance in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(result.sent for result in results) == 6
    sent = [email["Subject"].split("(")[1].rstrip(")") for email in smtp.inbox.messages]
    assert sorted(sent) == sorted(references)
    storage.dispose(other)


def test_erasing_a_record_drops_its_pending_notification(app: Flask, client: FlaskClient) -> None:
    post(client)
    assert waiting(app) == 1
    with app.app_context(), storage.transaction() as connection:
        connection.execute(records.table.delete())
    assert waiting(app) == 0


def test_retries_back_off_up_to_an_hour() -> None:
    waits = [outbox.backoff(attempts) for attempts in (1, 2, 3, 10)]
    assert waits == [
        dt.timedelta(minutes=1),
        dt.timedelta(minutes=2),
        dt.timedelta(minutes=4),
        dt.timedelta(hours=1),
    ]


def test_cli_delivers_and_fails_loudly_while_smtp_is_down(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    post(client)
    runner = app.test_cli_runner()
    down = runner.invoke(cli, ["outbox", "deliver"])
    assert down.exit_code == 1
    assert "0 sent, 1 failed, 1 waiting" in down.output
    smtp.start()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2), tick=False):
        up = runner.invoke(cli, ["outbox", "deliver"])
    assert up.exit_code == 0, up.output
    assert "1 sent, 0 failed, 0 waiting" in up.output
    assert len(smtp.inbox.messages) == 1
