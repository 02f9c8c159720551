"""A privacy request from the page to its answer, on both databases: the request, the emailed
link, the confirmation with its due date, and each type's fulfilment by staff."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from inquiry_support import SmtpServer, post
from request_support import body_of, delivered, link_in, mail_config, send_request

from consent_api.cli import cli
from consent_api.records import store as records
from consent_api.requests import log


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp: SmtpServer) -> dict[str, Any]:
    return {**app_config, **mail_config(smtp)}


def confirmed(
    app: Flask, client: FlaskClient, smtp: SmtpServer, request_type: str, **fields: Any
) -> str:
    """Send a request, follow its link, confirm it; its reference."""
    assert send_request(client, request_type, **fields).status_code == 201
    (verification,) = delivered(app, smtp)
    kind, token = link_in(verification)
    assert kind == "confirm"
    answer = client.post("/api/privacy-requests/confirm", json={"token": token})
    assert answer.status_code == 200, answer.json
    reference: str = answer.json["reference"]
    return reference


def fulfil(runner: FlaskCliRunner, reference: str) -> str:
    result = runner.invoke(cli, ["requests", "fulfil", reference])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_page_answers_the_same_whether_or_not_we_hold_anything(
    app: Flask, client: FlaskClient, smtp: SmtpServer
) -> None:
    post(client, "contact", email="ada@example.com")
    known = send_request(client, email="ada@example.com")
    unknown = send_request(client, email="nobody@example.net")
    assert (known.status_code, known.json) == (unknown.status_code, unknown.json)
    plain_known = send_request(client, plain=True, email="ada@example.com")
    plain_unknown = send_request(client, plain=True, email="nobody@example.net")
    assert plain_known.status_code == plain_unknown.status_code == 200
    assert "Check your email" in plain_known.text
    assert plain_known.text.replace("ada@example.com", "").count("nobody") == 0
    sent = [m for m in delivered(app, smtp) if m["Subject"] == "Confirm your privacy request"]
    assert sorted(m["To"] for m in sent) == sorted(["ada@example.com", "nobody@example.net"] * 2)


def test_access_request_ends_in_a_single_use_download_of_every_record(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer
) -> None:
    post(client, "contact", email="ada@example.com")
    post(client, "demo", email="ada@example.com")
    post(client, "contact", email="someone@example.org", name="Someone Else")
    delivered(app, smtp)
    reference = confirmed(app, client, smtp, "access")
    (confirmation,) = delivered(app, smtp)
    assert reference in confirmation["Subject"]
    assert "Our answer is due by:" in body_of(confirmation)

    fulfil(runner, reference)
    (answer,) = delivered(app, smtp)
    kind, token = link_in(answer)
    assert kind == "download"
    assert client.get(f"/api/privacy-requests/download/{token}").status_code == 200
    download = client.post("/api/privacy-requests/download", data={"token": token})
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    package = json.loads(archive.read("records.json"))
    kinds = sorted(record["kind"] for record in package["records"])
    assert kinds == ["contact", "demo", "privacy_request"]
    assert "Someone Else" not in archive.read("records.json").decode()
    assert "Ada Lovelace" in archive.read("summary.html").decode()
    again = client.post("/api/privacy-requests/download", json={"token": token})
    assert (again.status_code, again.json["error"]["code"]) == (409, "link_used")
    with app.app_context():
        assert log.get(reference).status == log.FULFILLED


def test_deletion_request_erases_that_address_only_and_repeats_nothing(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer
) -> None:
    post(client, "contact", email="ada@example.com")
    post(client, "contact", email="someone@example.org")
    delivered(app, smtp)
    reference = confirmed(app, client, smtp, "delete")
    fulfil(runner, reference)
    messages = delivered(app, smtp)
    assert "deleted 1 record(s)" in body_of(messages[-1])
    with app.app_context():
        left = [r.payload.get("email") for r in records.stored() if r.kind == "contact"]
        assert left == ["someone@example.org"]
        assert log.get(reference).counts == {"contact": 1}
    again = runner.invoke(cli, ["requests", "fulfil", reference])
    assert again.exit_code == 1 and "fulfilled" in again.output


def test_correction_resigns_the_record_and_logs_the_field_not_the_value(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer
) -> None:
    post(client, "contact", email="ada@example.com", name="Ada Lovelase")
    delivered(app, smtp)
    reference = confirmed(
        app, client, smtp, "correct", correct_field="name", correct_value="Ada Lovelace"
    )
    fulfil(runner, reference)
    messages = delivered(app, smtp)
    assert "to read: Ada Lovelace" in body_of(messages[-1])
    with app.app_context():
        (contact,) = [r for r in records.stored() if r.kind == "contact"]
        assert contact.payload["name"] == "Ada Lovelace"
        assert contact.is_authentic()
        entry = log.get(reference)
        assert (entry.corrected_field, entry.status) == ("name", log.FULFILLED)
        assert "Lovelase" not in repr(entry)


def test_a_correction_needs_the_field_and_a_value_that_field_accepts(client: FlaskClient) -> None:
    missing = send_request(client, "correct")
    assert set(missing.json["error"]["fields"]) == {"correct_field", "correct_value"}
    bad_phone = send_request(client, "correct", correct_field="phone", correct_value="call me")
    assert "phone number" in bad_phone.json["error"]["fields"]["correct_value"]
