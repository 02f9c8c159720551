"""Helpers for the inquiry tests: valid submissions, and form tokens of a chosen age."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from typing import Any

import time_machine
from aiosmtpd.controller import Controller
from conftest import free_port
from flask.testing import FlaskClient

CONTACT: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "organization": "Analytical Engines",
    "topic": "general",
    "message": "Please call me about scheduling workflows.",
}
DEMO: dict[str, Any] = {
    "name": "Grace Hopper",
    "email": "grace@example.org",
    "organization": "Harvard Clinic",
    "role": "Director",
    "phone": "+1 555 123 4567",
    "organization_type": "group",
    "message": "",
}
VALID = {"contact": CONTACT, "demo": DEMO}


def token(client: FlaskClient, age: float = 10) -> str:
    """A form token issued ``age`` seconds ago."""
    with time_machine.travel(time.time() - age, tick=False):
        answer: str = client.get("/api/form-token").json["form_token"]
    return answer


def post(client: FlaskClient, kind: str = "contact", *, plain: bool = False, **changes: Any) -> Any:
    """Submit ``kind``'s valid fields with ``changes`` (``...`` drops a field), a token 10
    seconds old unless one is given, as JSON or (``plain``) form-encoded."""
    body = {"form_token": token(client), **VALID[kind], **changes}
    body = {key: value for key, value in body.items() if value is not ...}
    if plain:
        return client.post(f"/api/{kind}", data=body)
    return client.post(f"/api/{kind}", json=body)


def unfold(header: str) -> str:
    """A header's value as written, without the line breaks a long header is folded at."""
    return re.sub(r"\r?\n(?=[ \t])", "", header).strip()


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        #: Each message's envelope recipients: who really got it, whatever its headers say.
        self.envelopes: list[list[str]] = []
        #: Addresses refused for good (550), as a server refuses an unknown mailbox.
        self.refused: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 OK"


class SmtpServer:
    """A real SMTP server on a loopback port that a test can stop and start again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    @property
    def envelopes(self) -> list[list[str]]:
        return self.inbox.envelopes

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None
