"""Both forms in a real browser, with JavaScript on and off, against the real service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import LiveServer
from inquiry_support import VALID

from consent_api.site.forms import FORMS

pytestmark = pytest.mark.browser

#: For each form: a field to get wrong, the wrong value, and the message the service gives.
WRONG = {
    "contact": ("email", "ada@", "Enter a valid email address, like name@example.com."),
    "demo": ("phone", "12", "Enter a phone number of 7 to 15 digits, like +1 555 123 4567."),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    # One server for the module; tokens usable at once (their minimum age is tested on the API)
    # and a limit no test reaches.
    database = tmp_path_factory.mktemp("forms") / "forms.sqlite3"
    live = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{database}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
            "CONSENT_API_INQUIRY_RATE_LIMIT": "1000 per minute",
        }
    )
    live.start()
    yield live
    live.stop()


def stored_names(server: LiveServer, kind: str) -> list[str]:
    engine = sa.create_engine(server.env["CONSENT_API_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT payload FROM records WHERE kind = :kind"), {"kind": kind}
        )
        names = [json.loads(row[0])["name"] for row in rows]
    engine.dispose()
    return names


def fill(page: Any, kind: str, values: dict[str, Any]) -> None:
    for field in FORMS[kind].fields:
        control = page.locator(f"#{kind}-{field.name}")
        value = values.get(field.name) or ""
        if field.control == "select":
            control.select_option(value)
        else:
            control.fill(value)


def send(page: Any, kind: str) -> None:
    # By keyboard, as a keyboard user would: the cookie banner's overlay takes no keystrokes.
    page.get_by_role("button", name=FORMS[kind].submit).press("Enter")


def send_and_load(page: Any, kind: str) -> None:
    """Send without JavaScript: the browser posts and loads the answer, which is waited for
    (reading the page at once could find the old one, or none yet)."""
    with page.expect_navigation():
        send(page, kind)


def required_messages(kind: str) -> dict[str, str]:
    return {field.name: field.missing for field in FORMS[kind].fields if field.required}


def error_of(page: Any, kind: str, name: str) -> str:
    error = page.locator(f"#{kind}-{name}-error")
    return str(error.inner_text()) if error.is_visible() else ""


@pytest.mark.parametrize("kind", ["contact", "demo"])
def test_form_without_javascript_shows_errors_keeps_input_and_thanks(
    browser: Any, server: LiveServer, kind: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/{kind}/")
    send_and_load(page, kind)
    assert page.url == f"{server.url}/api/{kind}"  # the answer to the post, no query
    for name, message in required_messages(kind).items():
        assert error_of(page, kind, name) == message

    field, wrong, message = WRONG[kind]
    name = f"No-JS {kind} visitor"
    fill(page, kind, {**VALID[kind], "name": name, field: wrong})
    send_and_load(page, kind)
    assert error_of(page, kind, field) == message
    assert error_of(page, kind, "name") == ""
    assert page.locator(f"#{kind}-name").input_value() == name
    assert page.locator(f"#{kind}-{field}").input_value() == wrong
    assert page.locator(f"#{kind}-organization").input_value() == VALID[kind]["organization"]
    assert name not in page.url

    page.locator(f"#{kind}-{field}").fill(VALID[kind][field])
    send_and_load(page, kind)
    assert page.url == f"{server.url}/{FORMS[kind].thanks}"
    assert page.locator("h1").inner_text().startswith("Thank you")
    assert stored_names(server, kind).count(name) == 1
    context.close()


def test_long_cjk_message_with_a_bad_email_comes_back_with_no_input_in_any_url(
    browser: Any, server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    navigations: list[Any] = []
    page.on("request", lambda request: navigations.append(request))
    page.goto(f"{server.url}/contact/")
    message = "予約の確認をお願いします。" * 115 + "以上"  # 1,497 characters
    name, email = "山田 花子", "hanako@"
    fill(page, "contact", {**VALID["contact"], "name": name, "email": email, "message": message})
    with page.expect_navigation() as answer:
        send(page, "contact")
    assert answer.value.status == 422
    assert error_of(page, "contact", "email").startswith("Enter a valid email address")
    assert page.locator("#contact-message").input_value() == message
    assert page.locator("#contact-name").input_value() == name

    # The Privacy Policy link of the answered page: what its Referer tells nginx's log.
    with page.expect_request("**/legal/privacy/") as followed:
        page.locator(".cc-form__notice a", has_text="Privacy Policy").click()
    assert followed.value.headers["referer"] == f"{server.url}/api/contact"
    assert page.locator("h1").inner_text().startswith("Privacy Policy")
    # Every URL the tab went to (its history) and every Referer it sent: none holds the input.
    for request in navigations:
        if request.is_navigation_request():
            sent = request.url + request.headers.get("referer", "")
            assert "?" not in sent  # signed or not, no input travels in a query
            assert "hanako" not in sent and "%E4%BA%88" not in sent and "予" not in sent
    context.close()


def test_privacy_request_without_javascript_shows_its_reference(
    browser: Any, server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/contact/")
    fill(page, "contact", {**VALID["contact"], "topic": "privacy"})
    send_and_load(page, "contact")
    assert "reference ID is" in page.locator(".cc-form__reference").inner_text()
    assert page.url == f"{server.url}/api/contact"  # the reference is in no URL
    context.close()


@pytest.mark.parametrize("kind", ["contact", "demo"])
def test_form_with_javascript_shows_errors_inline_and_says_when_it_worked(
    page: Any, server: LiveServer, kind: str
) -> None:
    url = f"{server.url}/{kind}/"
    page.goto(url)
    send(page, kind)
    for name, message in required_messages(kind).items():
        page.locator(f"#{kind}-{name}-error").filter(has_text=message).wait_for()
    assert page.url == url  # no page load: the errors came inline

    field, wrong, message = WRONG[kind]
    name = f"JS {kind} visitor"
    fill(page, kind, {**VALID[kind], "name": name, field: wrong})
    send(page, kind)
    page.locator(f"#{kind}-{field}-error").filter(has_text=message).wait_for()
    assert error_of(page, kind, "name") == ""
    assert page.locator(f"#{kind}-{field}").get_attribute("aria-invalid") == "true"

    held: list[Any] = []
    page.route(f"**/api/{kind}", lambda route: held.append(route))
    page.locator(f"#{kind}-{field}").fill(VALID[kind][field])
    send(page, kind)
    page.wait_for_function("() => document.querySelector('.cc-form button[type=submit]').disabled")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    done = page.locator(".cc-form__done")
    done.wait_for()
    assert done.inner_text().startswith("Thank you")
    assert page.url == url
    assert stored_names(server, kind).count(name) == 1
