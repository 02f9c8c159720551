"""Helpers for the privacy-request tests: a request sent from the page (by the test client or
in a browser), the links in its emails, and the email that a step sent."""

from __future__ import annotations

import re
import time
from email.message import Message
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import SmtpServer, token, unfold

from consent_api.outbox import deliver as outbox
from consent_api.site.forms import PRIVACY_REQUEST

VERIFY_SUBJECT = "Confirm your privacy request"
LINK = re.compile(r"https?://\S+/api/privacy-requests/(confirm|download)/(\S+)")
#: The request page, and a selector of its form's fields by name.
PAGE = f"/{PRIVACY_REQUEST.page}"
FIELD = "#privacy_request-{}".format


def send_request(
    client: FlaskClient, request_type: str = "access", *, plain: bool = False, **changes: Any
) -> Any:
    """Send a request from the page (JSON, or form-encoded with ``plain``)."""
    body = {
        "form_token": token(client),
        "request_type": request_type,
        "email": "ada@example.com",
        **changes,
    }
    body = {key: value for key, value in body.items() if value is not ...}
    if plain:
        return client.post("/api/privacy-requests", data=body)
    return client.post("/api/privacy-requests", json=body)


def delivered(app: Flask, smtp: SmtpServer) -> list[Message]:
    """Deliver what the outbox holds; the messages that arrived by this delivery."""
    before = len(smtp.inbox.messages)
    with app.app_context():
        outbox.deliver()
    return smtp.inbox.messages[before:]


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


def link_in(message: Message) -> tuple[str, str]:
    """The kind (``confirm`` or ``download``) and token of the link in ``message``."""
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(1), match.group(2)


def mail_config(smtp: SmtpServer) -> dict[str, Any]:
    """The settings that send the service's emails to ``smtp`` and write links to the site."""
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 2,
        "MAIL_FROM": "website@carecaller.test",
        "SALES_EMAIL": "sales@carecaller.test",
        "PRIVACY_EMAIL": "privacy@carecaller.test",
        "PUBLIC_URL": "https://carecaller.test",
        "INQUIRY_RATE_LIMIT": "100 per minute",
    }


def confirmed(
    app: Flask,
    client: FlaskClient,
    smtp: SmtpServer,
    request_type: str = "access",
    **fields: Any,
) -> str:
    """Send a request, follow the link in its email and confirm it; its reference. What the
    outbox held before is delivered with the link; the email confirming receipt is left in it."""
    assert send_request(client, request_type, **fields).status_code == 201
    to = (VERIFY_SUBJECT, str(fields.get("email", "ada@example.com")).lower())
    (verification,) = [m for m in delivered(app, smtp) if (m["Subject"], m["To"].lower()) == to]
    kind, link_token = link_in(verification)
    assert kind == "confirm"
    answer = client.post("/api/privacy-requests/confirm", json={"token": link_token})
    assert answer.status_code == 200, answer.json
    reference: str = answer.json["reference"]
    return reference


def link_url(message: Message) -> str:
    """The whole link in ``message``, as the requester's mail program opens it."""
    match = LINK.search(body_of(message))
    assert match, body_of(message)
    return match.group(0)


def mail_to(smtp: SmtpServer, address: str, subject: str, timeout: float = 30) -> Message:
    """The first message to ``address`` whose subject starts with ``subject``, once the
    outbox has sent it (waited for)."""
    deadline = time.monotonic() + timeout
    while True:
        for message in smtp.inbox.messages:
            found: Message = message
            if found["To"] == address and unfold(str(found["Subject"])).startswith(subject):
                return found
        assert time.monotonic() < deadline, f"no email to {address} starting {subject!r}"
        time.sleep(0.1)


def fill_request(tab: Any, request_type: str, address: str, **correction: str) -> None:
    """Fill in the request page's form: the type, the address and, for a correction, its
    ``field`` and ``value``."""
    tab.locator(FIELD("request_type")).select_option(request_type)
    tab.locator(FIELD("email")).fill(address)
    if "field" in correction:
        tab.locator(FIELD("correct_field")).select_option(correction["field"])
    if "value" in correction:
        tab.locator(FIELD("correct_value")).fill(correction["value"])


def press(tab: Any, button: str, *, loads: bool) -> Any:
    """Press ``button`` by keyboard (the cookie banner takes no keystrokes); with ``loads``,
    wait for the page it loads and return its response."""
    control = tab.get_by_role("button", name=button)
    if not loads:
        control.press("Enter")
        return None
    with tab.expect_navigation() as answer:
        control.press("Enter")
    return answer.value
