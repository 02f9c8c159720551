"""A visitor's consent records reached with their receipt, on both databases: the download, the
deletion, each logged as a privacy request answered at once, and every refusal changing nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ONE_BACKEND, ROOT
from consentkit import consent_body
from flask import Flask
from flask.testing import FlaskClient

from consent_api.records import signing, storage
from consent_api.records.schema import request_log
from consent_api.requests import log
from consent_api.site import registry
from consent_api.web import access_log

DOWNLOAD, DELETE = "/api/consent-records", "/api/consent-records/delete"
REGISTRY = registry.load(ROOT / "mkdocs.yml")


@pytest.fixture
def database_url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def app_config(app_config: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """The test mapping, with the changes a test gives by indirect parametrisation."""
    return {**app_config, **getattr(request, "param", {})}


def choose(
    client: FlaskClient, earlier: dict[str, Any] | None = None, *, accept: bool = False
) -> Any:
    """Make a choice as the banner does (continuing ``earlier``'s consent ID); its receipt."""
    body = consent_body(REGISTRY, accept=accept)
    if earlier is not None:
        body |= {"consent_id": earlier["consent_id"], "previous_receipt": earlier["receipt"]}
    response = client.post("/api/consent", json=body)
    assert response.status_code == 201, response.json
    return response.json


def held(client: FlaskClient, receipt: dict[str, Any]) -> bool:
    """Whether the service still holds the record of ``receipt``, as its owner would see."""
    status = client.get(f"/api/consent/{receipt['receipt']}").status_code
    assert status in (200, 404)
    return status == 200


def logged(app: Flask) -> list[log.Entry]:
    with app.app_context():
        return log.listing()


@pytest.fixture
def visitor(client: FlaskClient) -> list[dict[str, Any]]:
    """The receipts of a visitor who chose twice in one browser: one consent ID, two records."""
    first = choose(client)
    second = choose(client, first, accept=True)
    assert second["consent_id"] == first["consent_id"]
    return [first, second]


@pytest.fixture
def other(client: FlaskClient) -> dict[str, Any]:
    """Another browser's choice, which no request of the visitor may touch."""
    return choose(client)


def test_the_receipt_downloads_every_record_of_its_consent_id_and_nobody_elses(
    app: Flask, client: FlaskClient, visitor: list[dict[str, Any]], other: dict[str, Any]
) -> None:
    response = client.post(DOWNLOAD, json={"receipt": visitor[-1]["receipt"]})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["consent_id"] == visitor[0]["consent_id"]
    assert [r["public_id"] for r in body["records"]] == [v["record_id"] for v in visitor]
    assert {r["consent_id"] for r in body["records"]} == {visitor[0]["consent_id"]}
    assert [r["payload"]["action"] for r in body["records"]] == ["reject_all", "accept_all"]
    assert all(r["signature_valid"] for r in body["records"])
    assert other["record_id"] not in response.get_data(as_text=True)
    # A download deletes nothing.
    assert all(held(client, receipt) for receipt in [*visitor, other])


def test_an_older_receipt_of_the_same_browser_reaches_the_same_records(
    client: FlaskClient, visitor: list[dict[str, Any]]
) -> None:
    body = client.post(DOWNLOAD, json={"receipt": visitor[0]["receipt"]}).json
    assert len(body["records"]) == 2


def test_the_receipt_deletes_every_record_of_its_consent_id_and_nobody_elses(
    client: FlaskClient, visitor: list[dict[str, Any]], other: dict[str, Any]
) -> None:
    response = client.post(DELETE, json={"receipt": visitor[-1]["receipt"]})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["counts"] == {"consent": 2}
    assert sorted(r["public_id"] for r in body["deleted"]) == sorted(
        v["record_id"] for v in visitor
    )
    assert not any(held(client, receipt) for receipt in visitor)
    assert held(client, other)


def test_each_answer_is_logged_as_a_fulfilled_request_by_receipt_without_any_identifier(
    app: Flask, client: FlaskClient, visitor: list[dict[str, Any]]
) -> None:
    receipt = visitor[-1]["receipt"]
    downloaded = client.post(DOWNLOAD, json={"receipt": receipt}).json
    deleted = client.post(DELETE, json={"receipt": receipt}).json
    entries = {entry.reference: entry for entry in logged(app)}
    assert set(entries) == {downloaded["reference"], deleted["reference"]}
    access, deletion = entries[downloaded["reference"]], entries[deleted["reference"]]
    assert (access.request_type, deletion.request_type) == ("access", "delete")
    for entry in (access, deletion):
        assert (entry.method, entry.status, entry.subject_key) == ("receipt", log.FULFILLED, None)
        assert entry.counts == {"consent": 2}
        assert entry.verified_at == entry.responded_at == entry.received_at
    # The log names no consent ID, receipt or record: nothing that leads back to the browser.
    with app.app_context(), storage.reading() as connection:
        rows = json.dumps(
            [list(row) for row in connection.execute(request_log.select())], default=str
        )
    for identifier in [visitor[0]["consent_id"], receipt, *(v["record_id"] for v in visitor)]:
        assert identifier not in rows


def test_a_repeated_deletion_deletes_and_logs_nothing_more(
    app: Flask, client: FlaskClient, visitor: list[dict[str, Any]], other: dict[str, Any]
) -> None:
    receipt = {"receipt": visitor[-1]["receipt"]}
    assert client.post(DELETE, json=receipt).status_code == 200
    for path in (DELETE, DOWNLOAD):
        again = client.post(path, json=receipt)
        assert again.status_code == 404
        assert again.json["error"]["code"] == "not_found"
    assert [entry.request_type for entry in logged(app)] == ["delete"]
    assert held(client, other)


def _forged(receipt: str) -> str:
    return receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB")


#: Bodies refused before anything is read or changed: (body from a genuine receipt, status, code).
REFUSED = {
    "forged-signature": (lambda r: {"receipt": _forged(r)}, 400, "bad_receipt"),
    "truncated": (lambda r: {"receipt": r[: len(r) // 2]}, 400, "bad_receipt"),
    "not-a-receipt": (lambda r: {"receipt": "hello"}, 400, "bad_receipt"),
    "another-kinds-receipt": (
        lambda r: {"receipt": signing.receipt("contact", "x" * 22)},
        400,
        "bad_receipt",
    ),
    "no-receipt": (lambda r: {}, 400, "invalid"),
    "empty": (lambda r: {"receipt": ""}, 400, "invalid"),
    "not-a-string": (lambda r: {"receipt": 12}, 400, "invalid"),
    "too-long": (lambda r: {"receipt": r + "x" * 200}, 400, "invalid"),
    "extra-field": (lambda r: {"receipt": r, "consent_id": "x"}, 400, "invalid"),
}


@ONE_BACKEND
@pytest.mark.parametrize("path", [DOWNLOAD, DELETE])
@pytest.mark.parametrize("case", list(REFUSED.values()), ids=list(REFUSED))
def test_a_bad_receipt_is_refused_and_changes_and_logs_nothing(
    app: Flask,
    client: FlaskClient,
    visitor: list[dict[str, Any]],
    path: str,
    case: tuple[Any, int, str],
) -> None:
    make, status, code = case
    with app.app_context():
        response = client.post(path, json=make(visitor[-1]["receipt"]))
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert logged(app) == []
    assert all(held(client, receipt) for receipt in visitor)


@ONE_BACKEND
@pytest.mark.parametrize("path", [DOWNLOAD, DELETE])
@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"receipt": "\xff\xfe"}', "invalid_json"),
        (b"{", "invalid_json"),
        (b"[" * 5000 + b"]" * 5000, "invalid_json"),
        (b"[]", "invalid"),
    ],
    ids=["invalid-utf-8", "not-json", "deep-nesting", "not-an-object"],
)
def test_a_malformed_body_is_refused_and_changes_and_logs_nothing(
    app: Flask,
    client: FlaskClient,
    visitor: list[dict[str, Any]],
    path: str,
    data: bytes,
    code: str,
) -> None:
    response = client.post(path, data=data, content_type="application/json")
    assert (response.status_code, response.json["error"]["code"]) == (400, code)
    assert logged(app) == []
    assert all(held(client, receipt) for receipt in visitor)


@ONE_BACKEND
@pytest.mark.parametrize("path", [DOWNLOAD, DELETE])
def test_the_receipt_is_taken_in_a_json_body_only(
    client: FlaskClient, visitor: list[dict[str, Any]], path: str
) -> None:
    receipt = visitor[-1]["receipt"]
    assert client.post(path, data={"receipt": receipt}).status_code == 415
    assert client.get(f"{path}?receipt={receipt}").status_code == 405
    assert all(held(client, receipt) for receipt in visitor)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    handler = Lines()
    access_log.logger.addHandler(handler)
    yield handler.lines
    access_log.logger.removeHandler(handler)


@ONE_BACKEND
def test_the_access_log_names_the_endpoints_and_never_the_receipt(
    client: FlaskClient, visitor: list[dict[str, Any]], access_lines: list[str]
) -> None:
    receipt = visitor[-1]["receipt"]
    for path in (DOWNLOAD, DELETE):
        client.post(path, json={"receipt": receipt}).close()
    assert [json.loads(line)["path"] for line in access_lines] == [DOWNLOAD, DELETE]
    for identifier in [receipt, visitor[0]["consent_id"]]:
        assert all(identifier not in line for line in access_lines)


@ONE_BACKEND
@pytest.mark.parametrize("app_config", [{"INQUIRY_RATE_LIMIT": "1 per minute"}], indirect=True)
def test_requests_beyond_the_rate_limit_are_refused_and_delete_nothing(
    app: Flask, client: FlaskClient, visitor: list[dict[str, Any]]
) -> None:
    receipt = {"receipt": visitor[-1]["receipt"]}
    assert client.post(DOWNLOAD, json=receipt).status_code == 200
    refused = client.post(DELETE, json=receipt)
    assert refused.status_code == 429
    assert all(held(client, receipt) for receipt in visitor)
    assert [entry.request_type for entry in logged(app)] == ["access"]


@ONE_BACKEND
def test_both_endpoints_are_documented_with_their_bodies_and_refusals(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").json["paths"]
    for path in (DOWNLOAD, DELETE):
        operation = paths[path]["post"]
        assert set(paths[path]) == {"post"}
        assert {"200", "400", "404", "409", "415", "429", "503"} <= set(operation["responses"])
        content = operation["requestBody"]["content"]
        assert list(content) == ["application/json"]
        assert content["application/json"]["schema"]["$ref"].endswith("ReceiptBody")
