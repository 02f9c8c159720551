"""Webhooks to a real local HTTPS receiver that verifies every signature with the
``standardwebhooks`` library: retries with back-off, the failed state, a crash of the receiver,
erasure, and two instances delivering at once."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
import trustme
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import DEMO, post
from webhook_support import Receiver, ca_bundle, events, new_secret

from consent_api import create_app
from consent_api.cli import cli
from consent_api.outbox import deliver as outbox
from consent_api.outbox import queue
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.requests import rights
from consent_api.retention import purge as retention

PERSONAL = ("Grace", "grace@example.org", "Harvard", "555")


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Claims must hold on both backends: SKIP LOCKED on PostgreSQL, one writer on SQLite.
    return backend_url


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def receiver(ca: trustme.CA) -> Iterator[Receiver]:
    server = Receiver(ca, {"/crm": new_secret(), "/chat": new_secret()})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(
    app_config: dict[str, Any], receiver: Receiver, ca: trustme.CA, tmp_path: Path
) -> dict[str, Any]:
    return {
        **app_config,
        "ENV": "development",  # the receiver is on this machine
        "WEBHOOK_URLS": [receiver.url("/crm")],
        "WEBHOOK_SECRETS": [receiver.secrets["/crm"]],
        "WEBHOOK_CA_BUNDLE": ca_bundle(ca, tmp_path),
        "WEBHOOK_TIMEOUT": 0.5,
        "WEBHOOK_MAX_ATTEMPTS": 4,
        "INQUIRY_RATE_LIMIT": "100 per minute",
    }


def deliver(app: Flask) -> outbox.Delivery:
    with app.app_context():
        return outbox.deliver()


def after(start: dt.datetime, **wait: float) -> time_machine.travel:
    return time_machine.travel(start + dt.timedelta(**wait), tick=False)


def test_each_endpoint_gets_the_lead_signed_with_its_own_secret(
    app_config: dict[str, Any], receiver: Receiver
) -> None:
    app = create_app(
        {
            **app_config,
            "WEBHOOK_URLS": [receiver.url("/crm"), receiver.url("/chat")],
            "WEBHOOK_SECRETS": [receiver.secrets["/crm"], receiver.secrets["/chat"]],
        }
    )
    reference = post(app.test_client(), "demo").json["reference"]
    assert deliver(app) == outbox.Delivery(sent=2, failed=0)
    assert receiver.unverified == []  # each verified with its own endpoint's secret
    assert sorted(r.path for r in receiver.delivered) == ["/chat", "/crm"]
    for event in events(receiver):
        assert (event["type"], event["schema_version"]) == ("inquiry.created", 1)
        data = event["data"]
        assert (data["reference"], data["kind"], data["subject"]) == (
            reference,
            "demo",
            "demo request",
        )
        fields = {name: value for name, value in DEMO.items() if value}
        assert {k: v for k, v in data["fields"].items() if v} == fields
    assert deliver(app) == outbox.Delivery(sent=0, failed=0)
    storage.dispose(app)


def test_5xx_redirect_and_timeout_are_retried_with_back_off_under_one_webhook_id(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    receiver.answers.extend([503, "redirect", "slow"])
    start = records.now()
    with after(start):
        post(client, "demo")
        assert deliver(app) == outbox.Delivery(sent=0, failed=1)  # 503
    with after(start, seconds=59):
        assert deliver(app) == outbox.Delivery(sent=0, failed=0)  # the first retry is at 1 min
    with after(start, minutes=1, seconds=1):
        assert deliver(app) == outbox.Delivery(sent=0, failed=1)  # the redirect is not followed
    with after(start, minutes=2, seconds=59):
        assert deliver(app) == outbox.Delivery(sent=0, failed=0)  # then 2 minutes later
    with after(start, minutes=3, seconds=1):
        assert deliver(app) == outbox.Delivery(sent=0, failed=1)  # timed out
    with after(start, minutes=7, seconds=1):
        assert deliver(app) == outbox.Delivery(sent=1, failed=0)  # 4 minutes later
        assert deliver(app) == outbox.Delivery(sent=0, failed=0)
    assert [r.answer for r in receiver.received] == [503, "redirect", "slow", 204]
    assert len({r.webhook_id for r in receiver.received}) == 1
    assert [r.path for r in receiver.received] == ["/crm"] * 4  # never /elsewhere


@pytest.mark.parametrize(
    ("status", "retried"),
    [(400, False), (404, False), (410, False), (408, True), (429, True), (500, True)],
)
def test_a_4xx_other_than_408_or_429_fails_at_once_with_its_status(
    app: Flask, client: FlaskClient, receiver: Receiver, status: int, retried: bool
) -> None:
    receiver.answers.append(status)
    start = records.now()
    with after(start):
        post(client, "demo")
        assert deliver(app) == outbox.Delivery(sent=0, failed=1)
    with after(start, hours=2):
        assert deliver(app) == outbox.Delivery(sent=int(retried), failed=0)
        listed = app.test_cli_runner().invoke(cli, ["outbox"]).output
    if retried:
        assert "webhook: 0 waiting, 0 failed, 1 sent" in listed
    else:
        assert "webhook: 0 waiting, 1 failed, 0 sent" in listed
        assert f"HTTP {status}" in listed
    assert len(receiver.received) == 1 + int(retried)


def test_the_last_attempt_leaves_a_failed_delivery_that_retry_sends(
    app: Flask, client: FlaskClient, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.answers.extend([503] * 4)
    runner = app.test_cli_runner()
    start = records.now()
    with after(start):
        reference = post(client, "demo").json["reference"]
    for minutes in (0, 1, 3, 7):  # WEBHOOK_MAX_ATTEMPTS = 4, 1, 2 and 4 minutes apart
        with after(start, minutes=minutes, seconds=1):
            assert deliver(app) == outbox.Delivery(sent=0, failed=1)
    with after(start, days=1):
        assert deliver(app) == outbox.Delivery(sent=0, failed=0)  # given up: no loop
        listed = runner.invoke(cli, ["outbox", "--channel", "webhook"]).output
    assert "webhook: 0 waiting, 1 failed, 0 sent" in listed
    [line] = [line for line in listed.splitlines() if reference in line]
    assert "127.0.0.1" in line and "attempts 4" in line and "HTTP 503" in line
    for secret in PERSONAL:
        assert secret not in listed
        assert secret not in caplog.text
    delivery_id = line.split()[0]
    assert runner.invoke(cli, ["outbox", "retry", "999999"]).exit_code == 1
    assert runner.invoke(cli, ["outbox", "retry", delivery_id]).exit_code == 0
    sent = runner.invoke(cli, ["outbox", "deliver", "--channel", "webhook"])
    assert sent.exit_code == 0, sent.output
    assert "1 sent, 0 failed, 0 waiting" in sent.output
    assert "webhook: 0 waiting, 0 failed, 1 sent" in runner.invoke(cli, ["outbox"]).output
    assert len(receiver.delivered) == 1


def test_a_receiver_killed_mid_run_loses_nothing(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    references = [post(client, "demo", name=f"Lead {n}").json["reference"] for n in range(5)]
    receiver.answers.extend([204, 204, "kill"])  # dies having read the third, unanswered
    assert deliver(app) == outbox.Delivery(sent=2, failed=3)
    receiver.start()
    with after(records.now(), minutes=2):
        assert deliver(app) == outbox.Delivery(sent=3, failed=0)
    delivered = [event["data"]["reference"] for event in events(receiver)]
    assert sorted(delivered) == sorted(references)
    # The killed one came twice, under one webhook-id: a receiver that keeps the IDs it has
    # seen takes it in once.
    ids = Counter(r.webhook_id for r in receiver.received)
    assert sorted(ids.values()) == [1, 1, 1, 1, 2]


def test_erasure_and_purge_delete_pending_deliveries(
    app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    receiver.stop()  # so that they wait
    start = records.now()
    with after(start, days=-400):
        old = post(client, "demo", email="old@example.org").json["reference"]
    mine = post(client, "demo", email="ada@example.org").json["reference"]
    other = post(client, "demo").json["reference"]
    with app.app_context():
        assert queue.pending() == 3
        rights.erase(email="ada@example.org")
        retention.purge()
        assert queue.pending() == 1
    receiver.start()
    with after(start, minutes=2):
        assert deliver(app) == outbox.Delivery(sent=1, failed=0)
    assert [event["data"]["reference"] for event in events(receiver)] == [other]
    assert {old, mine}.isdisjoint(r.event["data"]["reference"] for r in receiver.received)


def test_two_instances_deliver_each_event_once(
    app_config: dict[str, Any], app: Flask, client: FlaskClient, receiver: Receiver
) -> None:
    references = {post(client, "demo", name=f"Lead {n}").json["reference"] for n in range(8)}
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
    assert sum(result.sent for result in results) == 8
    assert len(receiver.received) == 8
    assert {event["data"]["reference"] for event in events(receiver)} == references
    assert len({r.webhook_id for r in receiver.received}) == 8
    storage.dispose(other)


def test_delivery_failures_are_logged_without_personal_data_or_the_url(
    app: Flask, client: FlaskClient, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.stop()
    with caplog.at_level(logging.WARNING, logger="consent_api.outbox"):
        reference = post(client, "demo").json["reference"]
        assert deliver(app).failed == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "consent_api.outbox"]
    assert reference in line and "will be retried" in line
    assert "/crm" not in line
    for secret in PERSONAL:
        assert secret not in line
