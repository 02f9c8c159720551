"""Hostile input on every endpoint: header injection, invalid UTF-8, deep nesting, oversized and
mistyped bodies are refused with the documented 4xx, and nothing is stored."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import LiveServer
from consentkit import consent_body
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import VALID, token

from consent_api.records import schema, storage
from consent_api.site import registry

INJECTION = "x\r\nBcc: victim@example.com\r\nX-Injected: 1"
#: Every table a request could leave something in: records, the request log and packages,
#: queued emails and webhooks, the analytics counts.
STORES = (
    schema.records,
    schema.request_log,
    schema.request_packages,
    schema.outbox,
    schema.analytics_daily,
    schema.analytics_sources,
    schema.analytics_seen,
)


def nothing_stored(app: Flask) -> bool:
    with storage.get_engine(app).connect() as connection:
        counts = [connection.scalar(sa.select(sa.func.count()).select_from(t)) for t in STORES]
    return counts == [0] * len(STORES)


@pytest.mark.parametrize("field", ["page", "banner_fingerprint", "policy_version", "consent_id"])
def test_header_injection_in_every_consent_field_is_400(
    app: Flask, client: FlaskClient, field: str
) -> None:
    response = client.post(
        "/api/consent", json={**consent_body(registry.get(app)), field: INJECTION}
    )
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]
    assert nothing_stored(app)


SINGLE_LINE = [
    (kind, field)
    for kind, fields in VALID.items()
    for field, value in fields.items()
    if isinstance(value, str) and field != "message"
]


@pytest.mark.parametrize(("kind", "field"), SINGLE_LINE)
def test_header_injection_in_every_inquiry_field_is_400(
    app: Flask, client: FlaskClient, kind: str, field: str
) -> None:
    body = {**VALID[kind], field: INJECTION, "form_token": token(client)}
    response = client.post(f"/api/{kind}", json=body)
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]
    assert nothing_stored(app)


PRIVACY_REQUEST = {"request_type": "correct", "email": "ada@example.com", "correct_field": "name"}


@pytest.mark.parametrize("field", ["request_type", "email", "correct_field", "correct_value"])
def test_header_injection_in_every_privacy_request_field_is_400(
    app: Flask, client: FlaskClient, field: str
) -> None:
    body = {**PRIVACY_REQUEST, "correct_value": "Ada", field: INJECTION}
    response = client.post("/api/privacy-requests", json={**body, "form_token": token(client)})
    assert response.status_code == 400
    assert field in response.json["error"]["fields"]
    assert nothing_stored(app)


@pytest.mark.parametrize("link", [INJECTION, 5, None, ["a"], "x" * 201])
@pytest.mark.parametrize("action", ["confirm", "download"])
def test_a_link_token_that_is_not_one_is_400(
    app: Flask, client: FlaskClient, action: str, link: object
) -> None:
    response = client.post(f"/api/privacy-requests/{action}", json={"token": link})
    assert response.status_code == 400
    assert response.json["error"]["code"] in {"invalid", "link_forged"}
    assert nothing_stored(app)


ENDPOINTS = [
    "/api/consent",
    "/api/contact",
    "/api/demo",
    "/api/privacy-requests",
    "/api/privacy-requests/confirm",
    "/api/privacy-requests/download",
    "/api/consent-records",
    "/api/consent-records/delete",
]
BAD_BODIES = [
    pytest.param(b'{"name": "\xff\xfe"}', "application/json", 400, id="invalid utf-8"),
    pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", 400, id="deep nesting"),
    pytest.param(b'{"a": ', "application/json", 400, id="malformed json"),
    pytest.param(b"<x/>", "application/xml", 415, id="wrong content type"),
    pytest.param(b'{"a": "' + b"x" * 40_000 + b'"}', "application/json", 413, id="huge body"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(("data", "content_type", "status"), BAD_BODIES)
def test_malformed_bodies_get_the_documented_4xx(
    app: Flask, client: FlaskClient, endpoint: str, data: bytes, content_type: str, status: int
) -> None:
    response = client.post(endpoint, data=data, content_type=content_type)
    assert response.status_code == status
    assert response.is_json
    assert response.json["error"]["code"]
    assert nothing_stored(app)


@pytest.mark.parametrize(("data", "content_type", "status"), BAD_BODIES)
def test_malformed_events_get_the_documented_4xx(
    app: Flask, client: FlaskClient, data: bytes, content_type: str, status: int
) -> None:
    # An event has a size limit of its own, far below the service's: past it, a 400.
    response = client.post("/api/events", data=data, content_type=content_type)
    assert response.status_code == (400 if status == 413 else status)
    assert response.is_json
    assert response.json["error"]["code"]
    assert nothing_stored(app)


def test_logs_never_hold_the_email_or_the_client_address(tmp_path: Any, built_site: Any) -> None:
    # Behind one trusted proxy the client's address arrives in X-Forwarded-For: it is what the
    # rate limit counts (in memory) and what must never reach a log.
    server = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{tmp_path / 'logs.sqlite3'}",
            "CONSENT_API_PROXY_HOPS": "1",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
        }
    )
    server.start()
    client_ip, email = "203.0.113.77", "private.person@example.net"
    headers = {"X-Forwarded-For": client_ip, "Content-Type": "application/json"}
    try:
        request = urllib.request.Request(f"{server.url}/api/form-token", headers=headers)
        with urllib.request.urlopen(request) as response:
            form_token = json.load(response)["form_token"]
        body = {**VALID["contact"], "email": email, "form_token": form_token}
        request = urllib.request.Request(
            f"{server.url}/api/contact", data=json.dumps(body).encode(), headers=headers
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 201
        bad = {**body, "email": "not-an-email " + email}
        request = urllib.request.Request(
            f"{server.url}/api/contact", data=json.dumps(bad).encode(), headers=headers
        )
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(request)
    finally:
        output = server.stop()
    assert '"path":"/api/contact"' in output
    for line in output.splitlines():
        assert email not in line
        assert client_ip not in line
