"""A privacy request's links and form when what arrives is not what we sent, on both databases.

Every bad link (forged, signed with another key, meant for the other step, expired, used, or
naming a request we no longer hold) is answered with a page that says what happened when a
browser opens or posts it, and with a JSON error and its code when a script posts it; none of
them changes anything stored. The request form refuses bots, reused form tokens and floods as
the inquiry forms do.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from inquiry_support import SmtpServer, post, token
from request_support import delivered, link_in, mail_config, send_request

from consent_api import create_app
from consent_api.cli import cli
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import outbox, request_log, request_packages
from consent_api.records.schema import records as records_table
from consent_api.requests import links
from consent_api.retention import purge as retention
from consent_api.site.forms import HONEYPOT

#: What a bad link may never change.
TABLES = (records_table, request_log, request_packages, outbox)
#: The heading of the page a browser gets for each kind of bad link.
HEADINGS = {
    "link_forged": "This link does not work",
    "link_expired": "This link has expired",
    "link_used": "This link has been used",
    "link_unknown": "We cannot find this request",
}


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


def contents(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a privacy request touches, in a fixed order."""
    with storage.get_engine(app).connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(sa.select(table).order_by(*table.primary_key))
            ]
            for table in TABLES
        }


@dataclass
class Requester:
    """Someone who makes requests on the page and follows the links in their emails, and the
    staff who answer them."""

    app: Flask
    client: FlaskClient
    runner: FlaskCliRunner
    smtp: SmtpServer
    app_config: dict[str, Any]

    def link(self, expected: str) -> str:
        """The token of the link in the one email this delivery sends."""
        (message,) = delivered(self.app, self.smtp)
        kind, found = link_in(message)
        assert kind == expected
        return found

    def requested(self, request_type: str = "access") -> str:
        """Make a request; the token of the link in its email."""
        assert send_request(self.client, request_type).status_code == 201
        return self.link("confirm")

    def reference(self, confirm_token: str) -> str:
        with self.app.app_context():
            return links.read(links.VERIFY, confirm_token)

    def confirm(self, confirm_token: str) -> str:
        """Confirm the request as the page's button does; its reference."""
        answer = self.client.post("/api/privacy-requests/confirm", json={"token": confirm_token})
        assert answer.status_code == 200, answer.json
        delivered(self.app, self.smtp)  # the confirmation of receipt
        reference: str = answer.json["reference"]
        return reference

    def staff(self, *args: str) -> None:
        result = self.runner.invoke(cli, ["requests", *args])
        assert result.exit_code == 0, result.output

    def download_link(self) -> str:
        """A verified access request, fulfilled; the token of the download link."""
        self.staff("fulfil", self.confirm(self.requested()))
        return self.link("download")

    def signed(self, purpose: str, reference: str, keys: list[str] | None = None) -> str:
        """A token for ``reference`` as a service with ``keys`` (ours by default) signs it."""
        if keys is None:
            with self.app.app_context():
                return links.make(purpose, reference)
        other = create_app({**self.app_config, "SECRET_KEYS": keys})
        try:
            with other.app_context():
                return links.make(purpose, reference)
        finally:
            storage.dispose(other)

    def purge(self, later: dt.timedelta) -> None:
        with time_machine.travel(records.now() + later, tick=False), self.app.app_context():
            retention.purge()


@pytest.fixture
def requester(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    smtp: SmtpServer,
    app_config: dict[str, Any],
) -> Requester:
    return Requester(app, client, runner, smtp, app_config)


def reused_confirmation(who: Requester) -> str:
    link = who.requested()
    who.confirm(link)
    return link


def purged_unverified(who: Requester) -> str:
    link = who.requested()
    who.purge(dt.timedelta(days=8))
    return link


def purged_after_its_answer(who: Requester) -> str:
    # Denied, its email sent, its record (the address) purged: the link is followed again.
    link = who.requested("delete")
    who.staff("deny", who.confirm(link), "--reason", "We could not match the request.")
    delivered(who.app, who.smtp)
    who.purge(dt.timedelta(minutes=1))
    return link


def reused_download(who: Requester) -> str:
    link = who.download_link()
    downloaded = who.client.post("/api/privacy-requests/download", data={"token": link})
    assert downloaded.mimetype == "application/zip"
    return link


@dataclass(frozen=True)
class BadLink:
    """A link that cannot be used: how it comes about, which page it opens, what it answers."""

    make: Callable[[Requester], str]
    action: str
    status: int
    code: str
    #: How long after it was made the link is followed.
    later: dt.timedelta = dt.timedelta(0)


HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
BAD_LINKS = [
    pytest.param(BadLink(lambda who: "not-a-link", "confirm", 400, "link_forged"), id="forged"),
    pytest.param(
        BadLink(lambda who: who.requested()[:-6], "confirm", 400, "link_forged"), id="cut short"
    ),
    pytest.param(
        BadLink(
            lambda who: who.signed(
                links.VERIFY, who.reference(who.requested()), ["someone-elses-key"]
            ),
            "confirm",
            400,
            "link_forged",
        ),
        id="another key",
    ),
    pytest.param(
        BadLink(
            lambda who: who.signed(links.PACKAGE, who.reference(who.requested())),
            "confirm",
            400,
            "link_forged",
        ),
        id="download token to confirm",
    ),
    pytest.param(
        BadLink(lambda who: who.requested(), "confirm", 410, "link_expired", 25 * HOUR),
        id="expired after 24 hours",
    ),
    pytest.param(BadLink(reused_confirmation, "confirm", 409, "link_used"), id="confirmed"),
    pytest.param(
        BadLink(purged_unverified, "confirm", 410, "link_expired", 8 * DAY),
        id="unverified and purged",
    ),
    pytest.param(
        BadLink(purged_after_its_answer, "confirm", 409, "link_used"), id="answered and purged"
    ),
    pytest.param(
        BadLink(
            lambda who: who.signed(links.VERIFY, records.new_id()), "confirm", 404, "link_unknown"
        ),
        id="no such request",
    ),
    pytest.param(
        BadLink(lambda who: "not-a-link", "download", 400, "link_forged"), id="download forged"
    ),
    pytest.param(
        BadLink(
            lambda who: who.signed(links.PACKAGE, records.new_id(), ["someone-elses-key"]),
            "download",
            400,
            "link_forged",
        ),
        id="download another key",
    ),
    pytest.param(
        BadLink(lambda who: who.requested(), "download", 400, "link_forged"),
        id="confirm token to download",
    ),
    pytest.param(
        BadLink(lambda who: who.download_link(), "download", 410, "link_expired", 8 * DAY),
        id="download after 7 days",
    ),
    pytest.param(BadLink(reused_download, "download", 409, "link_used"), id="downloaded"),
    pytest.param(
        BadLink(
            lambda who: who.signed(links.PACKAGE, records.new_id()), "download", 404, "link_unknown"
        ),
        id="no such package",
    ),
]


@pytest.mark.parametrize("bad", BAD_LINKS)
def test_a_bad_link_gets_a_page_or_a_json_error_saying_why_and_changes_nothing(
    app: Flask, client: FlaskClient, requester: Requester, bad: BadLink
) -> None:
    link = bad.make(requester)
    with time_machine.travel(records.now() + bad.later, tick=False):
        before = contents(app)
        opened = client.get(f"/api/privacy-requests/{bad.action}/{link}")
        posted = client.post(f"/api/privacy-requests/{bad.action}", data={"token": link})
        scripted = client.post(f"/api/privacy-requests/{bad.action}", json={"token": link})
        after = contents(app)
    assert (scripted.status_code, scripted.json["error"]["code"]) == (bad.status, bad.code)
    message = scripted.json["error"]["message"]
    for page in (opened, posted):
        assert (page.status_code, page.mimetype) == (bad.status, "text/html")
        assert f">{HEADINGS[bad.code]}</h2>" in page.text
        assert html.escape(message) in page.text  # the same words for a browser and a script
        assert 'legal/privacy/requests/">Make a new request</a>' in page.text  # a way on
    assert after == before


def answer_of(page: str) -> str:
    """The part of the answer page that says what happened."""
    found = re.search(r'<section class="cc-answer.*?</section>', page, re.DOTALL)
    assert found, page
    return found.group(0)


@pytest.mark.parametrize("plain", [False, True], ids=["json", "plain"])
def test_a_filled_honeypot_stores_nothing_and_answers_as_a_real_request_does(
    app: Flask, client: FlaskClient, smtp: SmtpServer, plain: bool
) -> None:
    real = send_request(client, plain=plain)
    before = contents(app)
    trapped = send_request(client, plain=plain, email="bot@example.net", **{HONEYPOT: "x"})
    assert contents(app) == before
    assert trapped.status_code == real.status_code
    if plain:
        assert answer_of(trapped.text) == answer_of(real.text)
    else:
        assert trapped.json == real.json
    sent = delivered(app, smtp)
    assert [message["To"] for message in sent] == ["ada@example.com"]


def test_a_form_token_is_used_once(app: Flask, client: FlaskClient) -> None:
    used = token(client)
    assert send_request(client, form_token=used).status_code == 201
    before = contents(app)
    again = send_request(client, form_token=used, email="grace@example.org")
    assert (again.status_code, again.json["error"]["code"]) == (400, "form_token")
    plain = send_request(client, plain=True, form_token=used, email="grace@example.org")
    assert plain.status_code == 422
    assert html.escape(again.json["error"]["message"]) in plain.text
    assert 'value="grace@example.org"' in plain.text
    assert contents(app) == before


def test_the_request_form_shares_the_inquiry_forms_rate_limit(
    app_config: dict[str, Any],
) -> None:
    app = create_app({**app_config, "INQUIRY_RATE_LIMIT": "2 per minute"})
    client = app.test_client()
    try:
        assert post(client).status_code == 201
        assert send_request(client).status_code == 201
        before = contents(app)
        refused = send_request(client, email="grace@example.org")
        assert (refused.status_code, refused.json["error"]["code"]) == (429, "rate_limited")
        assert refused.headers["Retry-After"]
        assert post(client, "demo").status_code == 429  # and the other way round
        plain = send_request(client, plain=True, email="grace@example.org")
        assert plain.status_code == 429
        assert "Too many messages" in plain.text
        assert contents(app) == before
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.9"
        assert send_request(elsewhere).status_code == 201  # counted per client
    finally:
        storage.dispose(app)


def test_a_plain_post_with_errors_gets_the_form_back_with_the_input_in_no_url(
    app: Flask, client: FlaskClient
) -> None:
    before = contents(app)
    answer = send_request(
        client, "correct", plain=True, email="ada@", correct_value="Ada Secretname"
    )
    assert answer.status_code == 422
    assert "Location" not in answer.headers
    assert all("Secretname" not in value for value in answer.headers.values())
    page = answer.text
    assert "Enter a valid email address, like name@example.com." in page
    assert 'value="ada@"' in page and 'value="Ada Secretname"' in page
    assert re.search(r'<option value="correct"[^>]*selected', page)
    assert contents(app) == before
