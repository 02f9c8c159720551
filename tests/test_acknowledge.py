"""The optional receipt to the sender, through a real SMTP server: the reference and what
happens next, nothing the sender wrote, and one per address per hour."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import time_machine
from flask import Flask
from inquiry_support import SmtpServer, post, unfold

from consent_api import create_app
from consent_api.exc import ConfigError
from consent_api.outbox import deliver as outbox
from consent_api.records import storage


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    return {
        **app_config,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_STARTTLS": False,
        "MAIL_FROM": "website@carecaller.test",
        "SALES_EMAIL": "sales@carecaller.test",
        "INQUIRY_RATE_LIMIT": "100 per minute",
        "ACKNOWLEDGE": True,
    }


def deliver(app: Flask) -> outbox.Delivery:
    with app.app_context():
        return outbox.deliver()


def body(message: Any) -> str:
    return str(message.get_payload(decode=True).decode()).replace("\r\n", "\n")


def receipts(smtp: SmtpServer) -> list[Any]:
    return [m for m in smtp.inbox.messages if m["To"] != "sales@carecaller.test"]


def test_the_sender_gets_a_receipt_with_the_reference_and_nothing_they_wrote(
    app: Flask, smtp: SmtpServer
) -> None:
    reference = post(app.test_client(), "demo", message="Buy cheap pills at spam.example").json[
        "reference"
    ]
    assert deliver(app) == outbox.Delivery(sent=2, failed=0)
    assert sorted(smtp.envelopes) == [["grace@example.org"], ["sales@carecaller.test"]]
    [receipt] = receipts(smtp)
    assert receipt["To"] == "grace@example.org"
    assert receipt["Reply-To"] == "sales@carecaller.test"
    assert unfold(receipt["Subject"]) == (
        f"We have received your demo request (reference {reference})"
    )
    text = body(receipt)
    assert reference in text and "in touch to arrange your demo" in text
    # Someone else's address may have been typed in: nothing the sender wrote goes to it.
    for written in ("Grace", "Hopper", "Harvard", "Director", "555", "spam.example"):
        assert written not in receipt.as_string()


def test_a_privacy_request_is_confirmed_with_its_reference(app: Flask, smtp: SmtpServer) -> None:
    reference = post(app.test_client(), "contact", topic="privacy").json["reference"]
    deliver(app)
    [receipt] = receipts(smtp)
    assert receipt["To"] == "ada@example.com"
    assert unfold(receipt["Subject"]) == (
        f"We have received your privacy request (reference {reference})"
    )
    assert "Please keep the reference ID" in body(receipt)
    [sales] = [m for m in smtp.inbox.messages if m["To"] == "sales@carecaller.test"]
    assert unfold(sales["Subject"]).startswith("New privacy request: Analytical Engines")


def test_one_receipt_per_address_per_hour_however_many_inquiries(
    app: Flask, smtp: SmtpServer
) -> None:
    client = app.test_client()
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            assert post(client, "demo").status_code == 201
        assert post(client, "demo", email="other@example.org").status_code == 201
        assert deliver(app).sent == 4 + 2  # every lead reaches sales; two addresses, two receipts
    with time_machine.travel(start + dt.timedelta(minutes=59), tick=False):
        post(client, "demo")
        deliver(app)
    assert [m["To"] for m in receipts(smtp)] == ["grace@example.org", "other@example.org"]
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=1), tick=False):
        post(client, "demo")
        deliver(app)
    assert [m["To"] for m in receipts(smtp)].count("grace@example.org") == 2


@pytest.mark.redis
def test_the_limit_is_shared_through_redis_under_a_keyed_hash_never_the_address(
    app_config: dict[str, Any], redis_url: str, smtp: SmtpServer
) -> None:
    prefix = f"ack-{secrets.token_hex(4)}"
    config = {**app_config, "RATELIMIT_STORAGE_URI": redis_url, "RATELIMIT_KEY_PREFIX": prefix}
    first, second = create_app(config), create_app(config)  # two instances, one limit
    post(first.test_client(), "demo")
    post(second.test_client(), "demo")
    deliver(first)
    assert [m["To"] for m in receipts(smtp)] == ["grace@example.org"]
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys(f"*{prefix}*")]
    assert any("acknowledgements" in key for key in keys)
    assert not any("grace" in key.lower() or "example.org" in key for key in keys)
    for app in (first, second):
        storage.dispose(app)


def test_receipts_are_off_by_default(app_config: dict[str, Any], smtp: SmtpServer) -> None:
    app = create_app({**app_config, "ACKNOWLEDGE": False})
    post(app.test_client(), "demo")
    assert deliver(app).sent == 1
    assert receipts(smtp) == []
    storage.dispose(app)


def test_receipts_need_smtp(app_config: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="CONSENT_API_ACKNOWLEDGE needs CONSENT_API_SMTP_HOST"):
        create_app({**app_config, "SMTP_HOST": ""})
