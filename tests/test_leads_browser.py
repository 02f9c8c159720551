"""Done when: a demo request sent from the site in a browser reaches sales' inbox (a real SMTP
server) with its contents and a Reply-To to the prospect, and a CRM's webhook receiver (real
HTTPS) signed and verifiable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import getaddresses
from pathlib import Path
from typing import Any

import pytest
import trustme
from conftest import LiveServer
from inquiry_support import DEMO, SmtpServer, unfold
from webhook_support import Receiver, ca_bundle, events, new_secret

from consent_api.site.forms import DEMO as DEMO_FORM

pytestmark = pytest.mark.browser


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def crm() -> Iterator[Receiver]:
    receiver = Receiver(trustme.CA(), {"/inbound": new_secret()})
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def server(
    tmp_path: Path, built_site: Path, smtp: SmtpServer, crm: Receiver
) -> Iterator[LiveServer]:
    live = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{tmp_path / 'leads.sqlite3'}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
            "CONSENT_API_SMTP_HOST": "127.0.0.1",
            "CONSENT_API_SMTP_PORT": str(smtp.port),
            "CONSENT_API_SMTP_STARTTLS": "false",
            "CONSENT_API_MAIL_FROM": "website@carecaller.test",
            "CONSENT_API_SALES_EMAIL": "sales@carecaller.test",
            "CONSENT_API_WEBHOOK_URLS": crm.url("/inbound"),
            "CONSENT_API_WEBHOOK_SECRETS": crm.secrets["/inbound"],
            "CONSENT_API_WEBHOOK_CA_BUNDLE": ca_bundle(crm.ca, tmp_path),
            "CONSENT_API_OUTBOX_INTERVAL": "0.2",
            "CONSENT_API_PURGE_INTERVAL": "0",
        }
    )
    live.start()
    yield live
    live.stop()


def wait_for(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert condition()


def test_a_demo_request_from_the_site_reaches_sales_and_the_crm(
    page: Any, server: LiveServer, smtp: SmtpServer, crm: Receiver
) -> None:
    page.goto(f"{server.url}/demo/")
    for field in DEMO_FORM.fields:
        control = page.locator(f"#demo-{field.name}")
        value = DEMO.get(field.name) or ""
        if field.control == "select":
            control.select_option(value)
        else:
            control.fill(value)
    page.get_by_role("button", name=DEMO_FORM.submit).press("Enter")
    page.locator(".cc-form__done").wait_for()

    wait_for(lambda: smtp.inbox.messages and crm.delivered)
    [email] = smtp.inbox.messages
    assert unfold(email["Subject"]).startswith("New demo request: Harvard Clinic")
    assert getaddresses([email["Reply-To"]]) == [("Grace Hopper", "grace@example.org")]
    text = email.get_payload()[0].get_payload(decode=True).decode()
    for value in ("Grace Hopper", "Harvard Clinic", "Director", "+1 555 123 4567"):
        assert value in text
    assert crm.unverified == []  # the receiver checked the signature with standardwebhooks
    [event] = events(crm)
    assert event["data"]["fields"]["organization"] == "Harvard Clinic"
    assert event["data"]["reference"] in unfold(email["Subject"])
