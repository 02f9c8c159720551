"""``POST /api/consent`` and ``GET /api/consent/<receipt>``: the contract the banner relies on."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from conftest import ONE_BACKEND
from flask import Flask
from flask.testing import FlaskClient

from consent_api import create_app
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table

VALID: dict[str, Any] = {
    "consent_id": None,
    "choices": {"necessary": True, "analytics": False},
    "action": "save_choices",
    "policy_version": "2026-03-24",
    "banner_fingerprint": "0123456789abcdef",
    "gpc": False,
    "page": "/platform/",
}


def with_(**changes: Any) -> dict[str, Any]:
    body = {**VALID, **changes}
    return {key: value for key, value in body.items() if value is not ...}


@pytest.fixture
def database_url(backend_url: str) -> str:
    # The endpoint tests run on SQLite and on PostgreSQL.
    return backend_url


def test_first_choice_gets_a_new_consent_id_and_a_receipt(client: FlaskClient) -> None:
    response = client.post("/api/consent", json=VALID)
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"consent_id", "record_id", "created_at", "expires_at", "receipt"}
    assert len(body["consent_id"]) == 22
    created = dt.datetime.fromisoformat(body["created_at"])
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert created.tzinfo == dt.UTC
    assert expires - created == dt.timedelta(days=395)


def test_receipt_shows_what_was_recorded(client: FlaskClient) -> None:
    posted = client.post(
        "/api/consent",
        json=with_(action="accept_all", choices={"necessary": True, "analytics": True}, gpc=True),
    ).json
    shown = client.get(f"/api/consent/{posted['receipt']}")
    assert shown.status_code == 200
    assert shown.json == {
        "consent_id": posted["consent_id"],
        "record_id": posted["record_id"],
        "created_at": posted["created_at"],
        "expires_at": posted["expires_at"],
        "policy_version": "2026-03-24",
        "action": "accept_all",
        "choices": {"necessary": True, "analytics": True},
        "banner_fingerprint": "0123456789abcdef",
        "gpc": True,
        "page": "/platform/",
    }


def test_a_change_with_its_receipt_keeps_the_consent_id(client: FlaskClient) -> None:
    first = client.post("/api/consent", json=VALID).json
    change = client.post(
        "/api/consent",
        json=with_(
            consent_id=first["consent_id"],
            previous_receipt=first["receipt"],
            action="accept_all",
            choices={"necessary": True, "analytics": True},
        ),
    ).json
    assert change["consent_id"] == first["consent_id"]
    assert change["record_id"] != first["record_id"]
    again = client.post(
        "/api/consent",
        json=with_(consent_id=first["consent_id"], previous_receipt=change["receipt"]),
    ).json
    assert again["consent_id"] == first["consent_id"]


def other_receipt(client: FlaskClient) -> str:
    receipt: str = client.post("/api/consent", json=VALID).json["receipt"]
    return receipt


@pytest.mark.parametrize(
    "proof",
    [
        pytest.param(lambda client, first: ..., id="no receipt"),
        pytest.param(lambda client, first: None, id="null receipt"),
        pytest.param(lambda client, first: first["receipt"][::-1], id="forged receipt"),
        pytest.param(lambda client, first: other_receipt(client), id="another id's receipt"),
    ],
)
def test_a_known_consent_id_without_its_receipt_starts_a_new_one(
    app: Flask, client: FlaskClient, proof: Any
) -> None:
    first = client.post("/api/consent", json=VALID).json
    appended = client.post(
        "/api/consent",
        json=with_(consent_id=first["consent_id"], previous_receipt=proof(client, first)),
    )
    assert appended.status_code == 201  # recorded, but not under someone else's consent ID
    assert appended.json["consent_id"] != first["consent_id"]
    with app.app_context():
        under_first = records.stored(table.c.consent_id == first["consent_id"])
        assert [r.public_id for r in under_first] == [first["record_id"]]


def test_sec_gpc_header_is_recorded(client: FlaskClient) -> None:
    posted = client.post("/api/consent", json=VALID, headers={"Sec-GPC": "1"}).json
    assert client.get(f"/api/consent/{posted['receipt']}").json["gpc"] is True


def test_any_well_formed_fingerprint_is_kept(client: FlaskClient) -> None:
    posted = client.post("/api/consent", json=with_(banner_fingerprint="ffff0000")).json
    assert client.get(f"/api/consent/{posted['receipt']}").json["banner_fingerprint"] == "ffff0000"


def test_forged_receipt_is_400_bad_receipt(client: FlaskClient) -> None:
    receipt = client.post("/api/consent", json=VALID).json["receipt"]
    public_id, signature = receipt.split(".")
    for forged in (f"{public_id}.{signature[::-1]}", "nonsense", f"{public_id[:-1]}x.{signature}"):
        response = client.get(f"/api/consent/{forged}")
        assert response.status_code == 400
        assert response.json["error"]["code"] == "bad_receipt"


def test_expired_record_is_404(client: FlaskClient) -> None:
    posted = client.post("/api/consent", json=VALID).json
    later = dt.datetime.fromisoformat(posted["expires_at"]) + dt.timedelta(seconds=1)
    with time_machine.travel(later):
        response = client.get(f"/api/consent/{posted['receipt']}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_unreachable_database_is_503_and_nothing_claims_success(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "DATABASE_URL": "sqlite:////nonexistent/dir/x.sqlite3"})
    response = app.test_client().post("/api/consent", json=VALID)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "storage_unavailable"


def test_unmigrated_database_is_503_not_500(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "AUTO_MIGRATE": False})
    client = app.test_client()
    assert client.post("/api/consent", json=VALID).status_code == 503
    health = client.get("/api/health")
    assert health.status_code == 503
    assert "consent-api migrate" in health.json["error"]["message"]
    storage.dispose(app)


# Every rejection: (what is wrong, the body, the status, the code, the field named).
BAD_INPUT = [
    ("unknown field", with_(ip="1.2.3.4"), 400, "invalid", "ip"),
    (
        "unknown category",
        with_(choices={"necessary": True, "analytics": False, "ads": True}),
        400,
        "invalid",
        "choices",
    ),
    ("missing category", with_(choices={"necessary": True}), 400, "invalid", "choices"),
    (
        "necessary false",
        with_(choices={"necessary": False, "analytics": False}),
        400,
        "invalid",
        "choices",
    ),
    ("necessary missing", with_(choices={"analytics": False}), 400, "invalid", "choices"),
    (
        "choice not boolean",
        with_(choices={"necessary": True, "analytics": "yes"}),
        400,
        "invalid",
        "choices.analytics",
    ),
    ("accept_all with a refusal", with_(action="accept_all"), 400, "invalid", "choices"),
    (
        "reject_all with a grant",
        with_(action="reject_all", choices={"necessary": True, "analytics": True}),
        400,
        "invalid",
        "choices",
    ),
    ("unknown action", with_(action="maybe"), 400, "invalid", "action"),
    (
        "unknown policy version",
        with_(policy_version="2020-01-01"),
        400,
        "invalid",
        "policy_version",
    ),
    (
        "malformed policy version",
        with_(policy_version="yesterday"),
        400,
        "invalid",
        "policy_version",
    ),
    (
        "malformed fingerprint",
        with_(banner_fingerprint="<script>"),
        400,
        "invalid",
        "banner_fingerprint",
    ),
    (
        "oversized fingerprint",
        with_(banner_fingerprint="a" * 65),
        400,
        "invalid",
        "banner_fingerprint",
    ),
    ("malformed consent id", with_(consent_id="short"), 400, "invalid", "consent_id"),
    ("consent id not a string", with_(consent_id=12), 400, "invalid", "consent_id"),
    ("receipt not a string", with_(previous_receipt=12), 400, "invalid", "previous_receipt"),
    ("gpc not boolean", with_(gpc="1"), 400, "invalid", "gpc"),
    ("page with a query", with_(page="/contact/?email=a@b.c"), 400, "invalid", "page"),
    ("page not a path", with_(page="https://evil.example/"), 400, "invalid", "page"),
    ("oversized page", with_(page="/" + "a" * 600), 400, "invalid", "page"),
    ("missing action", with_(action=...), 400, "invalid", "action"),
    ("missing page", with_(page=...), 400, "invalid", "page"),
    ("not an object", [VALID], 400, "invalid", "body"),
]


@ONE_BACKEND
@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_INPUT],
)
def test_bad_input_is_rejected_with_its_field(
    client: FlaskClient, body: Any, status: int, code: str, field: str
) -> None:
    response = client.post("/api/consent", json=body)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert field in response.json["error"]["fields"]


@ONE_BACKEND
@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        pytest.param("{", "application/json", 400, "invalid_json", id="broken json"),
        pytest.param(b"\xff\xfe", "application/json", 400, "invalid_json", id="not utf-8"),
        pytest.param("", "application/json", 400, "invalid_json", id="empty body"),
        pytest.param(
            json.dumps(VALID), "text/plain", 415, "unsupported_media_type", id="wrong content type"
        ),
        pytest.param(
            "choices=1",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            id="form encoded",
        ),
        pytest.param(
            json.dumps(with_(page="/" + "a" * 20000)),
            "application/json",
            413,
            "too_large",
            id="over the size limit",
        ),
    ],
)
def test_bad_bodies_are_rejected(
    client: FlaskClient, data: Any, content_type: str, status: int, code: str
) -> None:
    response = client.post("/api/consent", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.json["error"]["code"] == code


def test_wrong_method_is_405(client: FlaskClient) -> None:
    response = client.put("/api/consent", json=VALID)
    assert response.status_code == 405
    assert response.json["error"]["code"] == "method_not_allowed"


def test_rejected_posts_store_nothing(app: Flask, client: FlaskClient) -> None:
    client.post("/api/consent", json=with_(action="accept_all"))
    with app.app_context():
        assert records.of_kind("consent") == []
