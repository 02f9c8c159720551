"""Done when (issue 14): a privacy request of each type goes from the page to a fulfilled state
in Chromium, with JavaScript on and off, on SQLite and PostgreSQL.

The requester uses the real site and service: the request page, the link in the email a real
SMTP server (aiosmtpd) receives, the confirmation page; support runs ``consent-api requests``
on the same database; the requester then gets the answer the request asked for:
a download of their records, their inquiry deleted, or their inquiry corrected.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import zipfile
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, free_port, fresh_schema
from flask.testing import FlaskCliRunner
from inquiry_support import CONTACT, SmtpServer
from playwright.sync_api import expect
from request_support import PAGE, body_of, fill_request, link_url, mail_to, press

from consent_api import create_app
from consent_api.cli import cli
from consent_api.records import storage
from consent_api.requests import deadlines
from consent_api.site.forms import PRIVACY_REQUEST

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Each backend in turn, for the whole module: one server per backend (see ``server``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('requests') / 'requests.sqlite3'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture(scope="module")
def server(database: str, built_site: Path, smtp: SmtpServer) -> Iterator[LiveServer]:
    # One server per backend: every test uses an address of its own. Its emails' links point
    # at it (PUBLIC_URL); its outbox sends at once; tokens are usable at once (their minimum
    # age is tested on the API) and no test reaches the rate limit.
    port = free_port()
    live = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": database,
            "CONSENT_API_AUTO_MIGRATE": "true",
            "CONSENT_API_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
            "CONSENT_API_INQUIRY_RATE_LIMIT": "1000 per minute",
            "CONSENT_API_SMTP_HOST": "127.0.0.1",
            "CONSENT_API_SMTP_PORT": str(smtp.port),
            "CONSENT_API_SMTP_STARTTLS": "false",
            "CONSENT_API_MAIL_FROM": "website@carecaller.test",
            "CONSENT_API_SALES_EMAIL": "sales@carecaller.test",
            "CONSENT_API_OUTBOX_INTERVAL": "0.2",
            "CONSENT_API_PURGE_INTERVAL": "0",
        },
        port=port,
    )
    live.start(timeout=60)
    yield live
    live.stop()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def tab(browser: Any, javascript: bool) -> Iterator[Any]:
    """A first-time visitor's tab on the smallest phone (320 x 568), JavaScript on or off."""
    context = browser.new_context(
        java_script_enabled=javascript,
        accept_downloads=True,
        viewport={"width": 320, "height": 568},
    )
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def support(server: LiveServer, database: str, built_site: Path) -> Iterator[FlaskCliRunner]:
    """Support's ``consent-api`` on the live server's database and signing key: the app's CLI
    runner, which runs the same commands without starting a process for each."""
    app = create_app(
        {
            "ENV": "development",
            "DATABASE_URL": database,
            "AUTO_MIGRATE": False,
            "SITE_DIR": str(built_site),
            "PUBLIC_URL": server.url,
        }
    )
    yield app.test_cli_runner()
    storage.dispose(app)


def staff(support: FlaskCliRunner, *args: str) -> str:
    """What ``consent-api ARGS`` prints, as support runs it."""
    result = support.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def inquiries_of(support: FlaskCliRunner, address: str) -> list[dict[str, Any]]:
    """The inquiries from ``address`` that staff's export lists."""
    rows = json.loads(staff(support, "inquiries", "export", "--format", "json"))
    return [row for row in rows if row["email"] == address]


def send_inquiry(tab: Any, server: LiveServer, javascript: bool, **values: str) -> None:
    """Send the contact form, as the requester did before asking about their data."""
    tab.goto(f"{server.url}/contact/")
    for name, value in {**CONTACT, **values}.items():
        control = tab.locator(f"#contact-{name}")
        if name == "topic":
            control.select_option(value)
        else:
            control.fill(value)
    press(tab, "Send message", loads=not javascript)
    if javascript:
        tab.locator(".cc-form__done").wait_for()
    else:
        assert tab.locator("h1").inner_text().startswith("Thank you")


def send_request(tab: Any, server: LiveServer, javascript: bool) -> str:
    """Send the filled request form; the answer the requester reads."""
    answer = press(tab, PRIVACY_REQUEST.submit, loads=not javascript)
    if javascript:
        done = tab.locator(".cc-form__done")
        done.wait_for()
        assert tab.url == f"{server.url}{PAGE}"
        expect(done).to_be_focused()  # where the form was: in view, though the page is shorter
        expect(done).to_be_in_viewport()
        return str(done.inner_text())
    assert answer.status == 200
    assert tab.url == f"{server.url}/api/privacy-requests"  # the answer to the post, no query
    return str(tab.locator(".cc-answer").inner_text())


def confirm(tab: Any, smtp: SmtpServer, server: LiveServer, address: str) -> tuple[str, str]:
    """Follow the emailed link and press the button; the reference and the page's text."""
    link = link_url(mail_to(smtp, address, "Confirm your privacy request"))
    assert link.startswith(f"{server.url}/api/privacy-requests/confirm/")
    tab.goto(link)
    assert "Confirm your" in tab.locator(".cc-answer h2").inner_text()
    assert press(tab, "Confirm my request", loads=True).status == 200
    reference = str(tab.locator(".cc-answer__reference").inner_text())
    confirmed = str(tab.locator(".cc-answer").inner_text())
    tab.goto(link)  # the same link again, as a second click in the email would
    assert tab.locator(".cc-answer h2").inner_text() == "This link has been used"
    return reference, confirmed


def shown(support: FlaskCliRunner, reference: str) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(staff(support, "requests", "show", reference))
    return entry


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def request_until_fulfilled(
    tab: Any,
    smtp: SmtpServer,
    server: LiveServer,
    support: FlaskCliRunner,
    javascript: bool,
    request_type: str,
    address: str,
    **correction: str,
) -> tuple[str, Message]:
    """The request from the page to staff's ``fulfil``; its reference and the answer's email."""
    tab.goto(f"{server.url}{PAGE}")
    fill_request(tab, request_type, address, **correction)
    assert send_request(tab, server, javascript).startswith("Check your email")

    reference, confirmed = confirm(tab, smtp, server, address)
    entry = shown(support, reference)
    assert entry["status"] == "verified"
    due = moment(entry["due_at"])
    received = dt.date.fromisoformat(entry["received_date"])
    assert dt.date.fromisoformat(entry["due_date"]) == received + dt.timedelta(days=45)
    assert f"Our answer is due by {deadlines.day(due)}" in " ".join(confirmed.split())
    receipt = mail_to(smtp, address, f"We have received your privacy request {reference}")
    assert f"Our answer is due by: {deadlines.day(due)}" in body_of(receipt)

    staff(support, "requests", "fulfil", reference)
    return reference, mail_to(smtp, address, f"Our answer to your privacy request {reference}")


def test_access_request_ends_in_a_download_of_the_requesters_inquiry(
    tab: Any, smtp: SmtpServer, server: LiveServer, support: FlaskCliRunner, javascript: bool
) -> None:
    address = f"access.{secrets.token_hex(4)}@example.com"
    send_inquiry(tab, server, javascript, email=address, name="Ada Access")

    reference, answer = request_until_fulfilled(
        tab, smtp, server, support, javascript, "access", address
    )
    link = link_url(answer)
    assert link.startswith(f"{server.url}/api/privacy-requests/download/")
    tab.goto(link)
    with tab.expect_download() as download:
        press(tab, "Download my information", loads=False)
    assert download.value.suggested_filename == f"carecaller-{reference}.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        package = json.loads(archive.read("records.json"))
    assert package["reference"] == reference
    [inquiry] = [record for record in package["records"] if record["kind"] == "contact"]
    assert inquiry["payload"]["name"] == "Ada Access"
    assert inquiry["payload"]["message"] == CONTACT["message"]
    tab.goto(link)  # a copy is downloaded once
    assert tab.locator(".cc-answer h2").inner_text() == "This link has been used"
    assert shown(support, reference)["status"] == "fulfilled"


def test_deletion_request_deletes_the_requesters_inquiry(
    tab: Any, smtp: SmtpServer, server: LiveServer, support: FlaskCliRunner, javascript: bool
) -> None:
    address = f"delete.{secrets.token_hex(4)}@example.com"
    send_inquiry(tab, server, javascript, email=address)
    assert len(inquiries_of(support, address)) == 1

    reference, answer = request_until_fulfilled(
        tab, smtp, server, support, javascript, "delete", address
    )
    assert "We have deleted 1 record(s)" in " ".join(body_of(answer).split())
    assert inquiries_of(support, address) == []
    assert shown(support, reference)["status"] == "fulfilled"


def test_correction_request_corrects_the_requesters_inquiry(
    tab: Any, smtp: SmtpServer, server: LiveServer, support: FlaskCliRunner, javascript: bool
) -> None:
    address = f"correct.{secrets.token_hex(4)}@example.com"
    send_inquiry(tab, server, javascript, email=address, name="Ada Lovelase")

    reference, answer = request_until_fulfilled(
        tab,
        smtp,
        server,
        support,
        javascript,
        "correct",
        address,
        field="name",
        value="Ada Lovelace",
    )
    assert "to read: Ada Lovelace" in body_of(answer)
    [inquiry] = inquiries_of(support, address)
    assert (inquiry["name"], inquiry["signature_valid"]) == ("Ada Lovelace", True)
    assert shown(support, reference)["status"] == "fulfilled"
