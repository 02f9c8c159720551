"""A visitor's consent records on the cookie notice, in Chromium on the real site and service: a
choice made, its records downloaded as a file, then deleted, and the banner asking again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer, serving
from consentkit import Visitor, get_record
from playwright.sync_api import expect

NOTICE = "/legal/cookies/"
NO_RECEIPT = "The records of a choice are downloaded or deleted in the browser where it was made"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    """A server of this module's own: its requests count against the rate limit of one client
    (every browser test is 127.0.0.1), which the shared server's form tests also use up."""
    yield from serving(tmp_path_factory.mktemp("records-server"), built_site)


@pytest.fixture
def visitor(page: Any, server: LiveServer) -> Visitor:
    return Visitor(page, server.url)


def records(visitor: Visitor) -> Any:
    return visitor.page.locator("#cc-consent-records")


def said(visitor: Visitor) -> Any:
    return records(visitor).get_by_role("status")


def wait_said(visitor: Visitor) -> None:
    """Wait until the section has said how its request ended."""
    visitor.page.wait_for_function("() => document.querySelector('[data-cc-said]').dataset.result")


def choose_twice(visitor: Visitor) -> dict[str, Any]:
    """Reject all, then turn analytics on in the settings: two records, one consent ID."""
    visitor.open(NOTICE)
    visitor.click("Reject all")
    visitor.wait_recorded()
    visitor.click("Cookie settings")
    visitor.page.get_by_role("checkbox", name="Analytics").check()
    visitor.click("Save choices")
    visitor.wait_analytics()
    choice = visitor.wait_recorded()
    assert visitor.recorded_count() == 2
    return choice


def test_without_a_receipt_the_section_says_where_records_are_reached(visitor: Visitor) -> None:
    visitor.open(NOTICE)
    expect(records(visitor).get_by_text(NO_RECEIPT)).to_be_visible()
    assert visitor.button("Download my consent records").is_hidden()
    assert visitor.button("Delete my consent records").is_hidden()
    link = records(visitor).get_by_role("link", name="privacy requests page")
    assert link.evaluate("a => new URL(a.href).pathname") == "/legal/privacy/requests/"


def test_with_javascript_off_the_section_says_where_records_are_reached(
    browser: Any, server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        visitor = Visitor(context.new_page(), server.url)
        visitor.open(NOTICE)
        expect(records(visitor).get_by_text(NO_RECEIPT)).to_be_visible()
        assert visitor.button("Download my consent records").is_hidden()
        assert visitor.button("Delete my consent records").is_hidden()
        expect(records(visitor).get_by_role("link", name="privacy requests page")).to_be_visible()
    finally:
        context.close()


def test_the_notice_links_the_privacy_requests_page(visitor: Visitor) -> None:
    visitor.open(NOTICE)
    article = visitor.page.locator("article")
    article.get_by_role("link", name="privacy requests page").first.click()
    assert visitor.page.evaluate("location.pathname") == "/legal/privacy/requests/"


def test_a_visitor_downloads_every_record_of_their_choices_as_a_file(visitor: Visitor) -> None:
    choice = choose_twice(visitor)
    with visitor.page.expect_download() as download:
        visitor.click("Download my consent records")
    assert download.value.suggested_filename == "carecaller-consent-records.json"
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved["consent_id"] == choice["consent_id"]
    assert len(saved["records"]) == 2
    newest = saved["records"][-1]
    assert newest["public_id"] == visitor.record(choice["receipt"])["record_id"]
    assert newest["payload"]["choices"] == choice["choices"]
    assert all(record["signature_valid"] for record in saved["records"])
    assert said(visitor).inner_text().startswith("Downloaded")
    # The receipt went in the request's body: no address the browser asked for holds it.
    assert not any(choice["receipt"] in url for url in visitor.requested)


def test_a_visitor_deletes_their_records_and_the_banner_asks_again(
    visitor: Visitor, server: LiveServer
) -> None:
    choice = choose_twice(visitor)
    confirm = visitor.page.get_by_role("dialog", name="Delete the records of your choices?")
    visitor.click("Delete my consent records")
    expect(confirm).to_be_visible()
    visitor.click("Keep them")  # changing one's mind deletes nothing
    assert confirm.is_hidden()
    assert get_record(server.url, choice["receipt"])[0] == 200

    visitor.click("Delete my consent records")
    visitor.click("Delete my records")
    wait_said(visitor)
    assert said(visitor).inner_text().startswith("Deleted")
    expect(visitor.banner).to_be_visible()
    assert visitor.choice() is None
    assert not visitor.pending()
    assert get_record(server.url, choice["receipt"])[0] == 404
    # Nothing optional runs any more, and the section says the records are gone from here.
    assert visitor.page.evaluate("document.documentElement.dataset.analytics") == "off"
    expect(records(visitor).get_by_text(NO_RECEIPT)).to_be_visible()
    assert visitor.button("Download my consent records").is_hidden()
    visitor.open("/platform/")
    expect(visitor.banner).to_be_visible()
    assert not visitor.analytics_ran()


def test_a_damaged_receipt_downloads_and_deletes_nothing(
    visitor: Visitor, server: LiveServer
) -> None:
    choice = choose_twice(visitor)
    receipt = choice["receipt"]
    damaged = receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB")
    visitor.edit_choice(receipt=damaged)
    visitor.click("Download my consent records")
    wait_said(visitor)
    assert said(visitor).inner_text().startswith("Nothing was done: This receipt is not one")
    visitor.page.reload()
    visitor.click("Delete my consent records")
    visitor.click("Delete my records")
    wait_said(visitor)
    assert said(visitor).get_attribute("data-result") == "failed"
    assert visitor.banner.is_hidden()
    assert visitor.choice() is not None
    assert get_record(server.url, receipt)[0] == 200


def test_with_the_service_unreachable_the_notice_says_so_and_keeps_the_choice(
    visitor: Visitor,
) -> None:
    choose_twice(visitor)
    visitor.page.route("**/api/consent-records**", lambda route: route.abort())
    visitor.click("Delete my consent records")
    visitor.click("Delete my records")
    wait_said(visitor)
    assert said(visitor).get_attribute("data-result") == "unreachable"
    assert visitor.choice() is not None
    assert visitor.banner.is_hidden()
