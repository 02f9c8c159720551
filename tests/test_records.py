"""Signed records on every backend: storing, reading, expiry, tampering, keys, minimality."""

from __future__ import annotations

import base64
import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api import create_app
from consent_api.cli import cli
from consent_api.exc import BadReceipt, NotFound, RecordTampered
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def store_consent(**overrides: Any) -> records.Record:
    values: dict[str, Any] = {
        "kind": "consent",
        "payload": {"action": "reject_all", "choices": {"necessary": True, "analytics": False}},
        "policy_version": "2026-03-24",
        "consent_id": records.new_id(),
    }
    values.update(overrides)
    return records.store(
        values.pop("kind"), values.pop("payload"), values.pop("policy_version"), **values
    )


def store_inquiry(email: str = "Ada@Example.org") -> records.Record:
    payload = {"name": "Ada", "email": email, "message": "Call me."}
    return records.store("contact", payload, "2026-03-24", subject_email=email)


def tamper(app: Flask, public_id: str, **values: Any) -> None:
    """Change a stored row behind the service's back, as someone with database access could."""
    with storage.get_engine(app).begin() as connection:
        connection.execute(table.update().where(table.c.public_id == public_id).values(**values))


def verify(app: Flask) -> Any:
    return app.test_cli_runner().invoke(cli, ["verify"])


@pytest.mark.usefixtures("ctx")
def test_stored_record_reads_back_exactly() -> None:
    record = store_consent()
    assert records.get(record.public_id) == record
    assert record.is_authentic()
    assert record.created_at.tzinfo == dt.UTC
    assert record.expires_at - record.created_at == dt.timedelta(days=395)


@pytest.mark.usefixtures("ctx")
def test_payload_is_stored_as_canonical_json(app: Flask) -> None:
    record = records.store("demo", {"b": 1, "a": {"é": [1, 2]}}, "2026-03-24")
    with storage.get_engine(app).connect() as connection:
        stored = connection.scalar(sa.select(table.c.payload))
    assert stored == '{"a":{"é":[1,2]},"b":1}'
    assert record.payload == {"a": {"é": [1, 2]}, "b": 1}


@pytest.mark.usefixtures("ctx")
def test_public_ids_are_random_and_url_safe() -> None:
    ids = {store_consent().public_id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(public_id) == 22 and public_id.isascii() for public_id in ids)


@pytest.mark.usefixtures("ctx")
def test_inquiries_are_found_by_email_whatever_its_case() -> None:
    mine = [store_inquiry("ada@example.org"), store_inquiry(" ADA@example.org ")]
    store_inquiry("bob@example.org")
    store_consent()
    assert records.stored(table.c.subject == records.subject_of("Ada@Example.org")) == mine


@pytest.mark.usefixtures("ctx")
def test_a_consent_ids_choices_are_listed_in_order() -> None:
    consent_id = records.new_id()
    first = store_consent(consent_id=consent_id)
    change = store_consent(consent_id=consent_id, payload={"action": "accept_all"})
    store_consent()
    assert records.stored(table.c.consent_id == consent_id) == [first, change]
    assert first.subject is None


@pytest.mark.usefixtures("ctx")
def test_expired_records_are_absent_before_any_purge() -> None:
    record = store_consent()
    inquiry = store_inquiry()
    with time_machine.travel(record.expires_at + dt.timedelta(seconds=1)):
        with pytest.raises(NotFound):
            records.get(record.public_id)
        with pytest.raises(NotFound):
            records.from_receipt("consent", records.receipt(record))
        assert records.of_kind("contact") == []
        assert records.of_kind("consent") == []
    assert records.of_kind("contact") == [inquiry]


@pytest.mark.usefixtures("ctx")
def test_receipt_names_its_record_and_only_for_its_kind() -> None:
    record = store_consent()
    token = records.receipt(record)
    assert records.from_receipt("consent", token) == record
    with pytest.raises(BadReceipt):
        records.from_receipt("contact", token)
    with pytest.raises(BadReceipt):
        records.from_receipt("consent", token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))


def _shift_back(record: records.Record) -> dict[str, Any]:
    return {"created_at": record.created_at - dt.timedelta(seconds=1)}


def _flip_a_payload_byte(record: records.Record) -> dict[str, Any]:
    return {"payload": record.payload_json.replace("reject_all", "reject_alL")}


@pytest.mark.parametrize(
    "change",
    [
        _flip_a_payload_byte,
        _shift_back,
        lambda record: {"expires_at": record.expires_at + dt.timedelta(days=3650)},
        lambda record: {"kind": "contact"},
        lambda record: {"policy_version": "2025-01-01"},
        lambda record: {"consent_id": records.new_id()},
    ],
    ids=["payload-byte", "created-at", "expires-at", "kind", "policy-version", "consent-id"],
)
def test_tampering_is_reported_for_exactly_that_record(app: Flask, change: Any) -> None:
    with app.app_context():
        honest = store_consent()
        victim = store_consent()
        token = records.receipt(victim)
        tamper(app, victim.public_id, **change(victim))
    result = verify(app)
    assert result.exit_code == 1
    assert victim.public_id in result.output
    assert honest.public_id not in result.output
    assert "2 records checked, 1 failed" in result.output
    with app.app_context(), pytest.raises((RecordTampered, NotFound, BadReceipt)):
        records.from_receipt("consent", token)


def test_holding_a_record_does_not_break_its_signature(app: Flask) -> None:
    with app.app_context():
        record = store_inquiry()
    tamper(app, record.public_id, hold=True, hold_reason="customer", held_at=records.now())
    assert verify(app).exit_code == 0


def test_untampered_store_verifies(app: Flask) -> None:
    with app.app_context():
        store_consent()
        store_inquiry()
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "2 records checked, 0 failed" in result.output


def test_adding_a_key_keeps_old_records_verifiable_and_removing_it_fails_loudly(
    app_config: dict[str, Any],
) -> None:
    def app_with(*keys: str) -> Flask:
        return create_app({**app_config, "SECRET_KEYS": list(keys)})

    old = app_with("old-key")
    with old.app_context():
        old_record = store_consent()
    rotated = app_with("old-key", "new-key")
    with rotated.app_context():
        new_record = store_consent()
        assert records.from_receipt("consent", records.receipt(old_record)) == old_record
    assert verify(rotated).exit_code == 0

    removed = app_with("new-key")
    result = verify(removed)
    assert result.exit_code == 1
    assert old_record.public_id in result.output
    assert new_record.public_id not in result.output
    assert "no longer in SECRET_KEYS" in result.output
    for each in (old, rotated, removed):
        storage.dispose(each)


FOOTPRINTS = {
    "REMOTE_ADDR": "198.51.100.7",
    "HTTP_X_FORWARDED_FOR": "203.0.113.9",
    "HTTP_USER_AGENT": "Mozilla/5.0 (X11) FootprintAgent/9.9",
    "HTTP_REFERER": "https://referrer.example/landing?q=1",
}


def every_stored_value(app: Flask) -> list[str]:
    engine = storage.get_engine(app)
    values = []
    with engine.connect() as connection:
        for name in sa.inspect(engine).get_table_names():
            values.append(name)
            for row in connection.execute(sa.text(f"SELECT * FROM {name}")):
                values.extend(str(value) for value in row)
    return values


def test_stored_rows_hold_no_address_agent_or_referrer(app: Flask) -> None:
    client = app.test_client()
    body = {
        "choices": {"necessary": True, "analytics": True},
        "action": "accept_all",
        "policy_version": "2026-03-24",
        "banner_fingerprint": "0123456789abcdef",
        "gpc": False,
        "page": "/platform/",
    }
    response = client.post("/api/consent", json=body, environ_base=FOOTPRINTS)
    assert response.status_code == 201
    with app.test_request_context("/api/contact", method="POST", environ_base=FOOTPRINTS):
        inquiry = store_inquiry()
    stored = " ".join(every_stored_value(app))
    assert response.json["record_id"] in stored and inquiry.public_id in stored
    for footprint in ("198.51.100", "203.0.113", "FootprintAgent", "referrer.example"):
        assert footprint not in stored
    columns = {column.name for column in table.columns}
    assert not columns & {"ip", "ip_address", "user_agent", "referrer", "referer"}


@pytest.mark.usefixtures("ctx")
def test_of_kind_filters_by_creation_time() -> None:
    before = store_inquiry()
    cut = records.now()
    after = store_inquiry()
    assert records.of_kind("contact", since=cut) == [after]
    assert records.of_kind("contact", until=cut) == [before]


def test_show_prints_a_record_and_refuses_an_unknown_id(app: Flask) -> None:
    with app.app_context():
        record = store_inquiry()
    runner: FlaskCliRunner = app.test_cli_runner()
    shown = runner.invoke(cli, ["show", record.public_id])
    assert shown.exit_code == 0, shown.output
    assert '"signature_valid": true' in shown.output
    assert "Call me." in shown.output
    missing = runner.invoke(cli, ["show", "no-such-record-id-here"])
    assert missing.exit_code == 1
    assert "No such record" in missing.output


def test_ids_are_unguessable_and_sort_by_the_time_they_were_made() -> None:
    start = dt.datetime(2026, 3, 24, 12, 0, tzinfo=dt.UTC)
    ids = [records.new_id(start + dt.timedelta(minutes=10 * n)) for n in range(300)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(records.ID_PATTERN, value) for value in ids)
    decoded = [base64.urlsafe_b64decode(value + "==") for value in ids]
    # The first 6 bytes are the millisecond the ID was made; the other 10 are random.
    assert [int.from_bytes(raw[:6], "big") for raw in decoded] == [
        int((start + dt.timedelta(minutes=10 * n)).timestamp() * 1000) for n in range(300)
    ]
    assert len({raw[6:] for raw in decoded}) == len(ids)
    # Made in the same few hours, IDs share their first characters: neighbours in an index.
    assert len({value[:4] for value in ids[:24]}) <= 2
