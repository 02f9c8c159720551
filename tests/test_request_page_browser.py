"""The privacy-request page in Chromium: reached from every footer and from the policy's section
11, its mistakes shown inline with JavaScript and in the refused page without it (in no URL),
and the pages the service answers at other URLs linking where the site does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from playwright.sync_api import expect
from request_support import FIELD, PAGE, fill_request, press

from consent_api.site.forms import PRIVACY_REQUEST

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    # Nothing here is stored, so one backend does: tokens usable at once (their minimum age is
    # tested on the API) and a limit no test reaches.
    database = tmp_path_factory.mktemp("request-page") / "request-page.sqlite3"
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


def test_the_page_is_linked_from_every_footer_and_from_the_policys_rights_section(
    page: Any, site_server: LiveServer
) -> None:
    page.goto(f"{site_server.url}/")
    page.locator(".md-footer").get_by_role("link", name="Privacy requests").click()
    expect(page).to_have_url(f"{site_server.url}{PAGE}")
    expect(page.locator(FIELD("request_type"))).to_be_visible()

    page.goto(f"{site_server.url}/legal/privacy/")
    # The notice after section 11, "Your Rights & Requests" (the policy's words are untouched).
    rights = page.locator('h2[id^="11-"] ~ .cc-notice').first
    assert rights.locator(".admonition-title").inner_text() == "Privacy requests"
    rights.get_by_role("link", name="privacy request form").click()
    expect(page).to_have_url(f"{site_server.url}{PAGE}")


def site_links(page: Any) -> list[str]:
    """Where the header, tabs and footer of the page in ``page`` lead."""
    links: list[str] = page.eval_on_selector_all(
        ":is(.md-header, .md-tabs, .md-footer) a[href]", "links => links.map(link => link.href)"
    )
    return links


def test_pages_the_service_answers_link_where_the_site_does(
    browser: Any, server: LiveServer
) -> None:
    # They are built pages served at other URLs (the email's link, the post's answer).
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/legal/privacy/requests/answer/")
    expected = site_links(page)
    assert f"{server.url}/legal/cookies/" in expected
    for kind in ("confirm", "download"):
        page.goto(f"{server.url}/api/privacy-requests/{kind}/not-a-link-we-sent")
        assert site_links(page) == expected
        page.get_by_role("link", name="privacy requests page").click()
        assert page.url == f"{server.url}{PAGE}"

    page.goto(f"{server.url}{PAGE}")
    expected = site_links(page)
    press(page, PRIVACY_REQUEST.submit, loads=True)  # refused: nothing filled in
    assert site_links(page) == expected
    page.locator("article").get_by_role("link", name="Privacy Policy").first.click()
    assert page.url == f"{server.url}/legal/privacy/"
    context.close()


#: What the requester gets wrong, and the message beside the field.
WRONG = [
    pytest.param(
        {"request_type": "access", "email": "ada@"},
        "email",
        "Enter a valid email address",
        id="invalid-email",
    ),
    pytest.param(
        {"request_type": "correct", "email": "ada@example.com", "field": "name"},
        "correct_value",
        "Enter what it should say.",
        id="correction-without-value",
    ),
]


@pytest.mark.parametrize(("values", "field", "message"), WRONG)
def test_with_javascript_mistakes_are_shown_beside_their_fields(
    page: Any, server: LiveServer, values: dict[str, str], field: str, message: str
) -> None:
    page.goto(f"{server.url}{PAGE}")
    fill_request(page, values["request_type"], values["email"], **_correction(values))
    press(page, PRIVACY_REQUEST.submit, loads=False)
    error = page.locator(FIELD(f"{field}-error"))
    error.filter(has_text=message).wait_for()
    assert page.url == f"{server.url}{PAGE}"  # no page load: the errors came inline
    assert page.locator(FIELD(field)).get_attribute("aria-invalid") == "true"
    expect(page.locator(FIELD(field))).to_be_focused()
    # Scrolled to, the field's message shows below the sticky header, not behind it.
    assert error.bounding_box()["y"] >= page.locator(".md-header").bounding_box()["height"]


@pytest.mark.parametrize(("values", "field", "message"), WRONG)
def test_without_javascript_mistakes_come_back_with_the_input_and_in_no_url(
    browser: Any, server: LiveServer, values: dict[str, str], field: str, message: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    navigations: list[Any] = []
    page.on("request", lambda request: navigations.append(request))
    page.goto(f"{server.url}{PAGE}")
    fill_request(page, values["request_type"], values["email"], **_correction(values))
    assert press(page, PRIVACY_REQUEST.submit, loads=True).status == 422
    assert page.locator(FIELD(f"{field}-error")).inner_text().startswith(message)
    summary = page.locator(".cc-form__summary")
    assert message in summary.inner_text()
    expect(summary).to_be_focused()  # the page opens at the mistakes, not at its top
    expect(summary).to_be_in_viewport()
    assert page.locator(FIELD("request_type")).input_value() == values["request_type"]
    assert page.locator(FIELD("email")).input_value() == values["email"]
    assert page.locator(FIELD("correct_field")).input_value() == values.get("field", "")
    for request in navigations:
        if request.is_navigation_request():
            sent = request.url + request.headers.get("referer", "")
            assert "?" not in sent and "ada" not in sent, sent
    context.close()


def _correction(values: dict[str, str]) -> dict[str, str]:
    return {key: values[key] for key in ("field", "value") if key in values}
