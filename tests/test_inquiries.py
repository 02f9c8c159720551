"""``POST /api/contact`` and ``/api/demo``: leads are stored once, bots are refused or dropped."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from conftest import ONE_BACKEND
from flask import Flask
from flask.testing import FlaskClient
from inquiry_support import CONTACT, post, token

from consent_api import create_app
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox
from consent_api.site.forms import HONEYPOT


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Storing, single use of tokens and the outbox run on SQLite and on PostgreSQL.
    return backend_url


def stored(app: Flask, kind: str = "contact") -> list[records.Record]:
    with app.app_context():
        return records.of_kind(kind)


def queued(app: Flask) -> list[Any]:
    with storage.get_engine(app).connect() as connection:
        return list(connection.execute(sa.select(outbox)))


def test_contact_inquiry_is_stored_signed_with_the_policy_version(
    app: Flask, client: FlaskClient
) -> None:
    response = post(client)
    assert response.status_code == 201
    assert response.json["thanks_url"] == "/contact/thanks/"
    [record] = stored(app)
    assert record.public_id == response.json["reference"]
    assert record.payload == {**CONTACT}
    assert record.policy_version == "2026-03-24"
    assert record.subject == records.subject_of("ada@example.com")
    with app.app_context():
        assert record.is_authentic()


def test_demo_request_stores_exactly_its_fields(app: Flask, client: FlaskClient) -> None:
    response = post(client, "demo", role="", extra=..., **{HONEYPOT: ""})
    assert response.status_code == 201
    [record] = stored(app, "demo")
    assert record.payload == {
        "name": "Grace Hopper",
        "email": "grace@example.org",
        "organization": "Harvard Clinic",
        "role": None,
        "phone": "+1 555 123 4567",
        "organization_type": "group",
        "message": None,
    }


def test_plain_form_post_redirects_to_the_thank_you_page(app: Flask, client: FlaskClient) -> None:
    response = post(client, "demo", plain=True)
    assert response.status_code == 303
    assert response.headers["Location"] == "/demo/thanks/"
    assert len(stored(app, "demo")) == 1


def test_privacy_request_is_acknowledged_with_its_reference(
    app: Flask, client: FlaskClient
) -> None:
    thanks = post(client, plain=True, topic="privacy")  # the thank-you page itself
    [record] = stored(app)
    assert thanks.status_code == 200
    assert "Location" not in thanks.headers
    assert f"reference ID is <strong>{record.public_id}</strong>" in thanks.text
    answer = post(client, topic="privacy").json
    assert answer["reference"] in answer["message"]


def test_invalid_fields_are_refused_with_the_servers_messages(
    app: Flask, client: FlaskClient
) -> None:
    response = post(client, email="nope", message="")
    assert response.status_code == 400
    assert response.json["error"]["fields"] == {
        "email": "Enter a valid email address, like name@example.com.",
        "message": "Enter your message.",
    }
    assert stored(app) == []


def test_plain_form_errors_come_back_in_the_answer_with_the_input_in_no_url(
    app: Flask, client: FlaskClient
) -> None:
    response = post(client, plain=True, email="nope", name="Ada Secretname")
    assert response.status_code == 422
    assert "Location" not in response.headers
    assert all("Secretname" not in value for value in response.headers.values())
    page = response.text
    assert "Enter a valid email address, like name@example.com." in page
    assert 'value="Ada Secretname"' in page
    assert stored(app) == []


@pytest.mark.parametrize("plain", [False, True])
def test_honeypot_gets_the_usual_answer_but_nothing_is_stored_or_queued(
    app_config: dict[str, Any], plain: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(
        {**app_config, "SMTP_HOST": "127.0.0.1", "SALES_EMAIL": "s@x.io", "MAIL_FROM": "w@x.io"}
    )
    client = app.test_client()
    real = post(client, plain=plain)
    caplog.set_level(logging.INFO)
    trapped = post(client, plain=plain, **{HONEYPOT: "http://spam.example"})
    assert trapped.status_code == real.status_code
    # Counted in the log, one line per rejection, with nothing that was sent.
    counted = [r.getMessage() for r in caplog.records if "honeypot" in r.getMessage()]
    assert counted == ["honeypot: a contact post was dropped as a bot's"]
    assert "spam.example" not in caplog.text and CONTACT["email"] not in caplog.text
    if plain:
        assert trapped.headers["Location"] == real.headers["Location"]
    else:
        assert set(trapped.json) == set(real.json)
    assert len(stored(app)) == 1
    assert len(queued(app)) == 1
    storage.dispose(app)


def test_a_token_too_fresh_is_refused(app: Flask, client: FlaskClient) -> None:
    response = post(client, form_token=token(client, age=0.5))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "form_token"
    assert stored(app) == []


def test_a_token_too_old_is_refused(app: Flask, client: FlaskClient) -> None:
    response = post(client, form_token=token(client, age=4 * 3600 + 60))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "form_token"
    assert "expired" in response.json["error"]["message"]
    assert stored(app) == []


def test_a_token_is_accepted_once(app: Flask, client: FlaskClient) -> None:
    used = token(client)
    assert post(client, form_token=used).status_code == 201
    again = post(client, form_token=used, name="Someone Else")
    assert again.status_code == 400
    assert again.json["error"]["code"] == "form_token"
    assert [record.payload["name"] for record in stored(app)] == ["Ada Lovelace"]


def test_a_used_token_is_refused_by_another_instance(
    app_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    other = create_app(app_config)
    used = token(client)
    assert post(client, form_token=used).status_code == 201
    assert post(other.test_client(), form_token=used).status_code == 400
    assert len(stored(app)) == 1
    storage.dispose(other)


@ONE_BACKEND
@pytest.mark.parametrize(
    "forged",
    [
        "",
        "not-a-token",
        "WyJhYWFhYWFhYWFhYWFhYWFhYWFhYWFhIiwxLjBd.forgedsignature",
        ...,
    ],
)
def test_a_missing_or_forged_token_is_refused(app: Flask, client: FlaskClient, forged: Any) -> None:
    response = post(client, form_token=forged)
    assert response.status_code == 400
    assert response.json["error"] == {
        "code": "form_token",
        "message": "This form could not be verified. Please send it again.",
    }
    assert stored(app) == []


def test_a_token_signed_with_another_key_is_refused(
    app_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    stranger = create_app({**app_config, "SECRET_KEYS": ["someone-elses-key"]})
    response = post(client, form_token=token(stranger.test_client()))
    assert response.status_code == 400
    assert stored(app) == []
    storage.dispose(stranger)


def test_rate_limit_refuses_a_client_that_sends_too_many(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "INQUIRY_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    assert [post(client).status_code for _ in range(2)] == [201, 201]
    refused = post(client, "demo")
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert len(stored(app)) == 2 and stored(app, "demo") == []
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    assert post(elsewhere).status_code == 201  # counted per client
    storage.dispose(app)


def test_notification_is_queued_with_the_record_when_smtp_is_configured(
    app_config: dict[str, Any], app: Flask, client: FlaskClient
) -> None:
    post(client)
    assert queued(app) == []  # no SMTP settings: nothing to deliver to
    notifying = create_app(
        {**app_config, "SMTP_HOST": "127.0.0.1", "SALES_EMAIL": "s@x.io", "MAIL_FROM": "w@x.io"}
    )
    response = post(notifying.test_client(), "demo")
    [row] = queued(app)
    assert (row.record_id, row.kind) == (response.json["reference"], "demo")
    storage.dispose(notifying)


def test_the_token_endpoint_says_when_its_token_may_be_used(client: FlaskClient) -> None:
    with time_machine.travel(1_800_000_000, tick=False):
        answer = client.get("/api/form-token").json
    assert answer["usable_from"] == "2027-01-15T08:00:03Z"
    assert answer["expires_at"] == "2027-01-15T12:00:00Z"
