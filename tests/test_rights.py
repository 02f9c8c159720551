"""Access and deletion requests staff take on the command line, on every backend: export and
erase one person, nobody else, each logged in the request log."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskCliRunner

from consent_api.cli import cli
from consent_api.outbox import queue
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox as queued
from consent_api.requests import log
from consent_api.retention import purge as retention


@pytest.fixture
def database_url(backend_url: str) -> str:
    # Every test here runs on SQLite and on PostgreSQL.
    return backend_url


def inquiry(email: str, kind: str = "contact") -> records.Record:
    return records.store(
        kind, {"email": email, "message": "Hi."}, "2026-03-24", subject_email=email
    )


def consent(consent_id: str) -> records.Record:
    return records.store("consent", {"action": "accept_all"}, "2026-03-24", consent_id=consent_id)


def invoke(runner: FlaskCliRunner, *args: str) -> Any:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.usefixtures("ctx")
def test_export_has_every_kind_for_that_email_and_nothing_about_anyone_else(
    runner: FlaskCliRunner,
) -> None:
    mine = [inquiry("Ada@Example.org"), inquiry("ada@example.org", kind="demo")]
    inquiry("bob@example.org")
    consent("a" * 22)
    exported = invoke(runner, "export", "--email", "ADA@example.org", "--reference", "T-1")
    assert exported["reference"] == "T-1"
    assert [r["public_id"] for r in exported["records"]] == [r.public_id for r in mine]
    assert {r["kind"] for r in exported["records"]} == {"contact", "demo"}
    assert all(r["signature_valid"] for r in exported["records"])
    assert "bob@" not in json.dumps(exported)


@pytest.mark.usefixtures("ctx")
def test_consent_records_are_exported_and_erased_by_consent_id(
    app: Flask, runner: FlaskCliRunner
) -> None:
    first, change = consent("a" * 22), consent("a" * 22)
    other = consent("b" * 22)
    exported = invoke(runner, "export", "--consent-id", "a" * 22)
    assert [r["public_id"] for r in exported["records"]] == [first.public_id, change.public_id]
    erased = invoke(runner, "erase", "--consent-id", "a" * 22)
    assert erased["counts"] == {"consent": 2}
    assert records.stored() == [other]


@pytest.mark.usefixtures("ctx")
def test_erase_removes_that_persons_records_leaves_others_and_is_idempotent(
    app: Flask, runner: FlaskCliRunner
) -> None:
    mine = [inquiry("ada@example.org"), inquiry("Ada@example.org", kind="demo")]
    retention.hold(mine[0].public_id, None, "ongoing relationship")
    others = [inquiry("bob@example.org"), consent("a" * 22)]
    erased = invoke(runner, "erase", "--email", "ada@example.org", "--reference", "T-2")
    assert [r["public_id"] for r in erased["deleted"]] == [r.public_id for r in mine]
    assert erased["deleted"][0]["was_on_hold"] is True
    assert erased["counts"] == {"contact": 1, "demo": 1}
    assert records.stored() == others
    again = invoke(runner, "erase", "--email", "ada@example.org", "--reference", "T-2")
    assert (again["deleted"], again["counts"]) == ([], {})
    assert records.stored() == others


@pytest.mark.usefixtures("ctx")
def test_each_staff_request_is_logged_as_answered_with_counts_and_no_address(
    app: Flask, runner: FlaskCliRunner
) -> None:
    inquiry("ada@example.org")
    invoke(runner, "export", "--email", "ada@example.org", "--reference", "T-3")
    generated = invoke(runner, "erase", "--email", "ada@example.org")["reference"]
    access, deletion = log.get("T-3"), log.get(generated)
    assert (access.request_type, access.method, access.status) == ("access", "staff", "fulfilled")
    assert (deletion.request_type, deletion.method, deletion.status) == (
        "delete",
        "staff",
        "fulfilled",
    )
    assert access.counts == deletion.counts == {"contact": 1}
    assert access.responded_at is not None and deletion.responded_at is not None
    with storage.get_engine(app).connect() as connection:
        logged = [tuple(row) for row in connection.execute(sa.select(log.table))]
    assert "ada" not in repr(logged)
    listing = runner.invoke(cli, ["requests", "list"])
    assert listing.exit_code == 0, listing.output
    assert "T-3" in listing.output and generated in listing.output
    assert "fulfilled" in listing.output


def test_a_reference_cannot_carry_an_email(runner: FlaskCliRunner) -> None:
    result = runner.invoke(cli, ["erase", "--email", "a@b.org", "--reference", "a@b.org"])
    assert result.exit_code == 2
    assert "never an email" in result.output


def test_erase_needs_exactly_one_way_to_find_the_person(runner: FlaskCliRunner) -> None:
    assert runner.invoke(cli, ["erase"]).exit_code == 2
    assert runner.invoke(cli, ["export", "--email", "a@b.org", "--consent-id", "x"]).exit_code == 2


@pytest.mark.usefixtures("ctx")
def test_erase_and_purge_take_the_persons_pending_notifications_with_them(
    app: Flask, runner: FlaskCliRunner
) -> None:
    def inquiry_with_notification(email: str) -> records.Record:
        record = records.new("contact", {"email": email}, "2026-03-24", subject_email=email)
        storage.write(
            lambda c: (
                records.insert(c, record),
                queue.enqueue(c, record, "email", "notify"),
                queue.enqueue(c, record, "webhook", "notify", target="crm"),
            )
        )
        return record

    def pending() -> set[str]:
        with storage.get_engine(app).connect() as connection:
            return set(connection.scalars(sa.select(queued.c.record_id)))

    with time_machine.travel(records.now() - dt.timedelta(days=400), tick=False):
        expired = inquiry_with_notification("old@example.org")
    mine, other = (
        inquiry_with_notification("ada@example.org"),
        inquiry_with_notification("bob@example.org"),
    )
    assert pending() == {expired.public_id, mine.public_id, other.public_id}
    erased = invoke(runner, "erase", "--email", "ada@example.org")
    assert [r["public_id"] for r in erased["deleted"]] == [mine.public_id]
    assert retention.purge()["contact"] == 1
    assert pending() == {other.public_id}
