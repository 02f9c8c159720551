"""Sales notifications through a real local SMTP server: the lead's contents with a Reply-To,
escaped and injection-proof; sent once, kept while SMTP is down."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import VALID, SmtpServer, post, unfold

from consent_api import create_app
from consent_api.cli import cli
from consent_api.exc import ConfigError
from consent_api.outbox import deliver as outbox
from consent_api.outbox import queue
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
        return queue.pending()


def parts(email: Message) -> tuple[str, str]:
    """The plain-text and the HTML part of a notification, decoded."""
    assert email.get_content_type() == "multipart/alternative"
    text, html = email.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    decoded = [
        part.get_payload(decode=True).decode().replace("\r\n", "\n") for part in (text, html)
    ]
    return decoded[0], decoded[1]


def test_the_notification_carries_the_lead_with_a_reply_to_the_prospect(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    smtp.start()
    reference = post(client, "demo", message="Two sites.\nStart in May.").json["reference"]
    assert deliver(app) == outbox.Delivery(sent=1, failed=0)
    [email] = smtp.inbox.messages
    assert email["To"] == "sales@carecaller.test"
    assert email["From"] == "website@carecaller.test"
    assert unfold(email["Subject"]) == f"New demo request: Harvard Clinic ({reference})"
    assert email["Reply-To"] == "Grace Hopper <grace@example.org>"
    text, html = parts(email)
    for label, value in [
        ("Name", "Grace Hopper"),
        ("Work email", "grace@example.org"),
        ("Organization", "Harvard Clinic"),
        ("Role", "Director"),
        ("Phone", "+1 555 123 4567"),
        ("Organization type", "Medical group with several sites"),
    ]:
        assert f"{label}: {value}" in text
        assert f">{label}</th>" in html and f">{value}</td>" in html
    assert "Message: Two sites.\n    Start in May." in text
    assert f"Reference ID: {reference}" in text and reference in html
    assert "mailbox's own retention" in text and "365 days" in text
    assert waiting(app) == 0


def test_every_field_is_escaped_in_the_html_part(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    smtp.start()
    hostile = '<script>alert("x")</script> & <b>bold</b>'
    post(client, "contact", name="<img src=x onerror=alert(1)>", message=hostile)
    deliver(app)
    [email] = smtp.inbox.messages
    text, html = parts(email)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert hostile in text  # plain text is shown as text, not interpreted


def test_a_cr_or_lf_in_a_name_cannot_add_a_header(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    smtp.start()
    # The form refuses control characters in a name...
    refused = post(client, "demo", name="Eve\r\nBcc: victim@example.net")
    assert refused.status_code == 400 and "name" in refused.json["error"]["fields"]
    # ...and a record that holds one anyway (written by other means) still cannot add one.
    payload = {
        **VALID["demo"],
        "name": "Eve\r\nBcc: victim@example.net\r\nX-Injected: yes",
        "organization": "Evil\r\nCc: victim@example.net",
    }
    with app.app_context():
        record = records.new("demo", payload, "2026-03-24", subject_email=payload["email"])
        storage.write(
            lambda c: (records.insert(c, record), queue.enqueue(c, record, "email", "notify"))
        )
    assert deliver(app).sent == 1
    [email] = smtp.inbox.messages
    assert email["Bcc"] is None and email["Cc"] is None and email["X-Injected"] is None
    assert email["Reply-To"].count("@") == 2  # one address, its display name on one line
    assert email["Reply-To"].endswith("<grace@example.org>")
    for header in ("Subject", "Reply-To"):  # line breaks only where a long header is folded
        assert re.search(r"\n(?![ \t])", email[header]) is None
    assert smtp.envelopes == [["sales@carecaller.test"]]  # nobody else got a copy


def test_reference_only_content_keeps_personal_data_out_of_the_mailbox(
    app_config: dict[str, Any], smtp: SmtpServer
) -> None:
    app = create_app({**app_config, "NOTIFY_CONTENT": "reference"})
    smtp.start()
    reference = post(app.test_client(), "demo").json["reference"]
    assert deliver(app) == outbox.Delivery(sent=1, failed=0)
    [email] = smtp.inbox.messages
    assert unfold(email["Subject"]) == f"New demo request from the website ({reference})"
    assert email["Reply-To"] is None
    assert f"consent-api show {reference}" in email.get_payload()
    for secret in ("Grace", "grace@example.org", "Harvard", "555"):
        assert secret not in email.as_string()
    storage.dispose(app)


def test_notify_content_must_be_full_or_reference(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="CONSENT_API_NOTIFY_CONTENT"):
        create_app({**app_config, "NOTIFY_CONTENT": "everything"})


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
    assert [email["Subject"].split("(")[-1] for email in smtp.inbox.messages] == [f"{reference})"]
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
    sent = [email["Subject"].split("(")[-1].rstrip(")") for email in smtp.inbox.messages]
    assert sorted(sent) == sorted(references)
    storage.dispose(other)


def test_erasing_a_record_drops_its_pending_notification(app: Flask, client: FlaskClient) -> None:
    post(client)
    assert waiting(app) == 1
    with app.app_context(), storage.transaction() as connection:
        connection.execute(records.table.delete())
    assert waiting(app) == 0


def test_retries_back_off_up_to_an_hour() -> None:
    waits = [queue.backoff(attempts) for attempts in (1, 2, 3, 10)]
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


def test_outbox_lists_emails_per_channel_without_personal_data(
    app_config: dict[str, Any], smtp: SmtpServer
) -> None:
    app = create_app({**app_config, "ACKNOWLEDGE": True})
    client, runner = app.test_client(), app.test_cli_runner()
    reference = post(client, "demo").json["reference"]
    waiting_now = runner.invoke(cli, ["outbox"]).output
    assert "email: 2 waiting, 0 failed, 0 sent in the last 7 days" in waiting_now
    assert "webhook: 0 waiting, 0 failed, 0 sent" in waiting_now
    lines = [line for line in waiting_now.splitlines() if reference in line]
    assert [[*line.split()[1:3], line.split()[5]] for line in lines] == [
        ["email", "acknowledge", "sender"],
        ["email", "notify", "sales"],
    ]
    # The prospect's mailbox refuses for good: that receipt fails at once, sales is told.
    smtp.inbox.refused.add("grace@example.org")
    smtp.start()
    assert deliver(app) == outbox.Delivery(sent=1, failed=1)
    listed = runner.invoke(cli, ["outbox", "--channel", "email"]).output
    assert "email: 0 waiting, 1 failed, 1 sent in the last 7 days" in listed
    assert "SMTPRecipientsRefused: 550" in listed
    for secret in ("Grace", "grace@example.org", "Harvard", "555", "Director"):
        assert secret not in listed
    storage.dispose(app)
