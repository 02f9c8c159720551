"""``consent-api requests``, as staff use it, on both databases: the list with its deadlines and
filters, one request as JSON, fulfil, deny and extend (each emailed to the requester through a
real SMTP server), and ``overdue`` for a timer to alert on. The clock is moved with
time-machine; the request log is read row by row for any trace of an address."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from click.testing import Result
from conftest import ONE_BACKEND
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from inquiry_support import SmtpServer, post, unfold
from request_support import body_of, confirmed, delivered, mail_config, send_request

from consent_api.cli import cli
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import request_log

#: A Monday morning: every request here is received then unless a test says otherwise.
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


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


@pytest.fixture(autouse=True)
def monday() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as clock:
        yield clock


def on_day(clock: time_machine.Coordinates, days: float) -> None:
    clock.move_to(START + dt.timedelta(days=days))


def requests(runner: FlaskCliRunner, *args: str) -> Result:
    result: Result = runner.invoke(cli, ["requests", *args])
    return result


def ok(runner: FlaskCliRunner, *args: str) -> str:
    result = requests(runner, *args)
    assert result.exit_code == 0, result.output
    return result.output


def show(runner: FlaskCliRunner, reference: str) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(ok(runner, "show", reference))
    return shown


def line_of(output: str, reference: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith(reference)]
    return " ".join(line.split())


def test_list_shows_each_request_with_its_dates_and_days_left(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    assert ok(runner, "list").strip() == "no requests"
    access = confirmed(app, client, smtp, "access")
    send_request(client, "delete", email="bob@example.org")  # never confirmed
    on_day(monday, 3)
    correct = confirmed(
        app,
        client,
        smtp,
        "correct",
        email="grace@example.org",
        correct_field="name",
        correct_value="Grace Hopper",
    )
    on_day(monday, 10)
    listed = ok(runner, "list")
    assert line_of(listed, access) == (
        f"{access} access verified received 2026-03-02 due 2026-04-16 35 days left"
    )
    assert line_of(listed, correct) == (
        f"{correct} correct verified received 2026-03-05 due 2026-04-19 38 days left"
    )
    (unconfirmed,) = [line for line in listed.splitlines() if " delete " in line]
    assert " ".join(unconfirmed.split()).endswith(
        "delete unverified received 2026-03-02 due 2026-04-16"
    )
    # The soonest due first.
    assert listed.index(access) < listed.index(correct)


def test_list_filters_by_status_and_by_what_is_due_soon(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    access = confirmed(app, client, smtp, "access")
    send_request(client, "delete", email="bob@example.org")
    on_day(monday, 3)
    later = confirmed(app, client, smtp, "delete", email="grace@example.org")
    denied = confirmed(app, client, smtp, "access", email="alan@example.org")
    ok(runner, "deny", denied, "--reason", "We could not match the request to any customer.")

    verified = ok(runner, "list", "--status", "verified")
    assert access in verified and later in verified and denied not in verified
    assert " unverified " not in verified
    unverified = ok(runner, "list", "--status", "unverified").splitlines()
    assert len(unverified) == 1 and " unverified " in unverified[0]
    assert denied in ok(runner, "list", "--status", "denied")
    assert ok(runner, "list", "--status", "expired").strip() == "no requests"

    # On 11 April the first request is due in 5 days, the later one in 8.
    on_day(monday, 40)
    soon = ok(runner, "list", "--due-within", "7d").splitlines()
    assert [line.split()[0] for line in soon] == [access]
    within_ten = ok(runner, "list", "--due-within", "10d")
    assert access in within_ten and later in within_ten
    # Only open requests: the unverified and the denied ones are due nothing.
    assert " unverified " not in within_ten and denied not in within_ten


@ONE_BACKEND
@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--due-within", "7"], "a number of days, like 7d", id="no unit"),
        pytest.param(["--due-within", "7 days"], "a number of days, like 7d", id="words"),
        pytest.param(["--due-within", "1w"], "a number of days, like 7d", id="weeks"),
        pytest.param(["--due-within", "-7d"], "a number of days, like 7d", id="negative"),
        pytest.param(["--due-within", ""], "a number of days, like 7d", id="empty"),
        pytest.param(
            ["--due-within", "9999999999d"], "a number of days, like 7d", id="beyond any date"
        ),
        pytest.param(["--status", "open"], "'unverified'", id="no such status"),
    ],
)
def test_a_bad_filter_is_a_usage_error(runner: FlaskCliRunner, args: list[str], says: str) -> None:
    result = requests(runner, "list", *args)
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert "Traceback" not in result.output


def test_show_prints_one_request_as_json(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    reference = confirmed(app, client, smtp, "delete")
    on_day(monday, 5)
    shown = show(runner, reference)
    assert shown["reference"] == reference
    assert (shown["request_type"], shown["method"], shown["status"]) == (
        "delete",
        "web",
        "verified",
    )
    assert shown["received_at"].startswith("2026-03-02T09:00")
    assert (shown["received_date"], shown["due_date"]) == ("2026-03-02", "2026-04-16")
    assert shown["due_at"] == "2026-04-17T06:59:59.999999Z"  # the end of the day in California
    assert shown["confirm_by"] == "2026-03-16"
    assert shown["days_left"] == 40
    assert shown["responded_at"] is None and shown["extended_at"] is None


@pytest.mark.parametrize("reference", ["NOPE", "ada@example.com"])
def test_show_of_an_unknown_reference_says_so(runner: FlaskCliRunner, reference: str) -> None:
    result = requests(runner, "show", reference)
    assert result.exit_code == 1
    assert f"No privacy request has the reference {reference}." in result.output
    assert "Traceback" not in result.output


def test_fulfil_emails_the_answer_and_show_records_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    post(client, "contact", email="ada@example.com")
    reference = confirmed(app, client, smtp, "delete")
    on_day(monday, 20)
    output = ok(runner, "fulfil", reference)
    assert f"{reference}: fulfilled, the requester is emailed" in output
    subject = f"Our answer to your privacy request {reference}"
    (answer,) = [m for m in delivered(app, smtp) if unfold(m["Subject"]) == subject]
    assert answer["To"] == "ada@example.com"
    assert "We have deleted 1 record(s)" in body_of(answer)
    shown = show(runner, reference)
    assert (shown["status"], shown["response"], shown["counts"]) == (
        "fulfilled",
        "records erased",
        {"contact": 1},
    )
    assert shown["responded_at"].startswith("2026-03-22T09:00")
    assert shown["days_left"] is None


def test_deny_emails_the_reason_and_show_records_it(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer
) -> None:
    reference = confirmed(app, client, smtp, "access")
    delivered(app, smtp)
    reason = "We could not confirm that you are a California resident."
    assert "denied, the requester is emailed the reason" in ok(
        runner, "deny", reference, "--reason", f"  {reason}\n"
    )
    (denial,) = delivered(app, smtp)
    assert (denial["To"], unfold(denial["Subject"])) == (
        "ada@example.com",
        f"Our answer to your privacy request {reference}",
    )
    assert f"Why: {reason}" in body_of(denial)
    shown = show(runner, reference)
    assert (shown["status"], shown["denial_reason"], shown["response"]) == (
        "denied",
        reason,
        "denied",
    )
    again = requests(runner, "fulfil", reference)
    assert again.exit_code == 1 and f"{reference} is denied" in again.output
    assert delivered(app, smtp) == []


def test_extend_moves_the_due_date_once_and_tells_the_requester(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    reference = confirmed(app, client, smtp, "access")
    delivered(app, smtp)
    on_day(monday, 30)
    reason = "Your records are in our backups, which take longer to search."
    assert "extended by 30 days" in ok(
        runner, "extend", reference, "--reason", reason, "--days", "30"
    )
    (notice,) = delivered(app, smtp)
    assert notice["To"] == "ada@example.com"
    assert unfold(notice["Subject"]) == f"We need more time for your privacy request {reference}"
    assert f"Why: {reason}" in body_of(notice)
    assert "Our answer is now due by: 16 May 2026" in body_of(notice)
    shown = show(runner, reference)
    assert (shown["status"], shown["extension_reason"]) == ("extended", reason)
    assert shown["due_date"] == "2026-05-16"
    assert shown["extended_at"].startswith("2026-04-01T09:00")
    assert shown["days_left"] == 45

    second = requests(runner, "extend", reference, "--reason", "Still looking.", "--days", "5")
    assert second.exit_code == 1
    assert f"{reference} is extended" in second.output
    assert show(runner, reference)["due_at"] == shown["due_at"]
    assert delivered(app, smtp) == []


def test_a_request_past_its_due_date_can_no_longer_be_extended(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    reference = confirmed(app, client, smtp, "access")
    delivered(app, smtp)
    on_day(monday, 46)
    late = requests(runner, "extend", reference, "--reason", "Our backups take longer.")
    assert late.exit_code == 1
    assert "was due on 16 April 2026: an extension is given before the due date" in late.output
    assert show(runner, reference)["status"] == "verified"
    assert delivered(app, smtp) == []
    assert requests(runner, "overdue").exit_code == 1


@ONE_BACKEND
@pytest.mark.parametrize("action", ["deny", "extend"])
@pytest.mark.parametrize(
    ("reason", "says"),
    [
        pytest.param("", "give the reason", id="empty"),
        pytest.param(" \n\t ", "give the reason", id="blank"),
        pytest.param(
            "Ada asked us to write to ada@example.com instead.",
            "must not hold an email address",
            id="an address",
        ),
        pytest.param("x" * 501, "at most 500 characters", id="too long"),
    ],
)
def test_a_reason_that_cannot_be_sent_or_logged_is_refused(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    action: str,
    reason: str,
    says: str,
) -> None:
    reference = confirmed(app, client, smtp, "access")
    delivered(app, smtp)
    result = requests(runner, action, reference, "--reason", reason)
    assert result.exit_code == 1, result.output
    assert says in result.output
    assert show(runner, reference)["status"] == "verified"
    assert delivered(app, smtp) == []


@ONE_BACKEND
@pytest.mark.parametrize("days", ["0", "46", "-1", "ten"])
def test_an_extension_outside_1_to_45_days_is_a_usage_error(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, days: str
) -> None:
    reference = confirmed(app, client, smtp, "access")
    result = requests(runner, "extend", reference, "--reason", "Backups.", "--days", days)
    assert result.exit_code == 2, result.output
    assert "--days" in result.output
    assert show(runner, reference)["status"] == "verified"


def test_overdue_fails_while_an_open_request_is_past_due(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    assert "no privacy request is overdue" in ok(runner, "overdue")
    reference = confirmed(app, client, smtp, "access")
    send_request(client, "delete", email="bob@example.org")  # unverified: nothing is due
    on_day(monday, 45)
    assert requests(runner, "overdue").exit_code == 0  # the due day itself

    on_day(monday, 46)
    late = requests(runner, "overdue")
    assert late.exit_code == 1
    assert "1 privacy request(s) past their due date" in late.output
    assert line_of(late.output, reference).endswith("OVERDUE by 1 day")
    ok(runner, "fulfil", reference)
    assert "no privacy request is overdue" in ok(runner, "overdue")


def test_an_extended_request_is_overdue_only_after_its_new_due_date(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer, monday: Any
) -> None:
    reference = confirmed(app, client, smtp, "delete")
    on_day(monday, 40)
    ok(runner, "extend", reference, "--reason", "Our backups take longer to search.")
    on_day(monday, 46)
    assert requests(runner, "overdue").exit_code == 0
    on_day(monday, 90)
    assert requests(runner, "overdue").exit_code == 0
    on_day(monday, 91)
    late = requests(runner, "overdue")
    assert late.exit_code == 1 and reference in late.output


def test_the_request_log_never_holds_an_address(
    app: Flask, client: FlaskClient, runner: FlaskCliRunner, smtp: SmtpServer
) -> None:
    email = "Ada.Lovelace@Example.com"
    post(client, "contact", email=email, name="Ada Lovelase")
    handled = [
        confirmed(app, client, smtp, kind, email=email, **fields)
        for kind, fields in [
            ("access", {}),
            ("delete", {}),
            ("correct", {"correct_field": "name", "correct_value": "Ada Lovelace"}),
            ("access", {}),
            ("access", {}),
        ]
    ]
    send_request(client, "delete", email=email)  # never confirmed
    for reference in handled[:3]:
        ok(runner, "fulfil", reference)
    ok(runner, "deny", handled[3], "--reason", "We already answered this request last week.")
    ok(runner, "extend", handled[4], "--reason", "Our backups take longer to search.")
    erased = runner.invoke(cli, ["erase", "--email", email, "--reference", "ticket-7"])
    assert erased.exit_code == 0, erased.output
    refused = runner.invoke(cli, ["erase", "--email", email, "--reference", email])
    assert refused.exit_code == 2 and "never an email" in refused.output
    delivered(app, smtp)

    with storage.get_engine(app).connect() as connection:
        rows = connection.execute(sa.select(request_log)).all()
    assert len(rows) == 7
    with app.app_context():
        traces = {email.lower(), records.subject_of(email)}
    for row in rows:
        text = " ".join(str(value) for value in row).lower()
        assert not any(trace in text for trace in traces), row
        assert row.subject_key and len(row.subject_key) == 64
    assert len({row.subject_key for row in rows}) == 1  # one requester, one keyed hash
