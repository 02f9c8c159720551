"""Helpers for the inquiry tests: valid submissions, and form tokens of a chosen age."""

from __future__ import annotations

import time
from typing import Any

import time_machine
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
