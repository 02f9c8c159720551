"""The cookie banner in a real browser, on the real built site, recording with the real service."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from consentkit import NECESSARY_KEYS, Visitor

from consent_api.site import registry

CATEGORIES = registry.load(ROOT / "mkdocs.yml").categories
ANALYTICS = "assets/javascripts/analytics.js"


def test_first_visit_shows_the_banner_and_stores_nothing(visitor: Visitor) -> None:
    visitor.open()
    assert visitor.banner.is_visible()
    assert visitor.page.get_by_role("region", name="Cookie preferences").is_visible()
    assert not visitor.analytics_ran()
    assert visitor.cookie_names() == set()
    assert visitor.storage_keys() == set()
    assert not any(url.endswith(ANALYTICS) for url in visitor.requested)


def test_reject_all_runs_nothing_stores_nothing_optional_and_records_every_category_off(
    visitor: Visitor,
) -> None:
    visitor.open()
    visitor.click("Reject all")
    assert visitor.banner.is_hidden()
    choice = visitor.wait_recorded()
    record = visitor.record(choice["receipt"])
    assert record["action"] == "reject_all"
    assert record["choices"] == {"necessary": True, **dict.fromkeys(CATEGORIES, False)}
    assert record["consent_id"] == choice["consent_id"]
    visitor.open("/platform/")
    assert visitor.banner.is_hidden()
    assert not visitor.analytics_ran()
    assert not any(url.endswith(ANALYTICS) for url in visitor.requested)
    assert visitor.cookie_names() == set()
    assert visitor.storage_keys() <= NECESSARY_KEYS


def test_accept_all_runs_gated_scripts_without_reload_and_records_every_category_on(
    visitor: Visitor,
) -> None:
    visitor.open()
    visitor.page.evaluate("window.sameDocument = true")
    visitor.click("Accept all")
    visitor.wait_analytics()
    assert visitor.page.evaluate("window.sameDocument") is True
    assert visitor.cookie_names() == set()  # the analytics script sets no cookie
    record = visitor.record(visitor.wait_recorded()["receipt"])
    assert record["action"] == "accept_all"
    assert record["choices"] == {"necessary": True, **dict.fromkeys(CATEGORIES, True)}
    visitor.open("/company/")
    assert visitor.banner.is_hidden()
    visitor.wait_analytics()


def test_withdrawing_from_the_footer_stops_scripts_deletes_cookies_and_records_again(
    visitor: Visitor,
) -> None:
    visitor.open()
    visitor.click("Choose")
    visitor.page.get_by_role("checkbox", name="Analytics").check()
    visitor.click("Save choices")
    visitor.wait_analytics()
    first_receipt = visitor.wait_recorded()["receipt"]
    assert visitor.cookie_names() == set()

    visitor.page.locator("footer").get_by_role("link", name="Cookie settings").click()
    assert visitor.banner.is_visible()
    assert visitor.page.evaluate("location.pathname") == "/"  # reopened in place
    box = visitor.page.get_by_role("checkbox", name="Analytics")
    assert box.is_checked()
    box.uncheck()
    visitor.click("Save choices")
    choice = visitor.wait_recorded()
    assert choice["choices"]["analytics"] is False
    assert visitor.cookie_names() == set()

    visitor.open("/platform/")
    assert not visitor.analytics_ran()
    assert visitor.cookie_names() == set()
    assert visitor.recorded_count() == 2
    first, second = visitor.record(first_receipt), visitor.record(choice["receipt"])
    assert first["consent_id"] == second["consent_id"] == choice["consent_id"]
    assert first["choices"]["analytics"] is True
    assert second["choices"]["analytics"] is False
    assert second["action"] == "save_choices"


def test_global_privacy_control_is_honoured_said_and_recorded(
    browser: Any, site_server: LiveServer
) -> None:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    try:
        visitor = Visitor(context.new_page(), site_server.url)
        visitor.open()
        assert visitor.page.get_by_text("Global Privacy Control signal").is_visible()
        visitor.click("Choose")
        assert not visitor.page.get_by_role("checkbox", name="Analytics").is_checked()
        visitor.click("Save choices")
        record = visitor.record(visitor.wait_recorded()["receipt"])
        assert record["gpc"] is True
        assert record["choices"]["analytics"] is False
    finally:
        context.close()


def test_without_global_privacy_control_the_banner_says_nothing_of_it(visitor: Visitor) -> None:
    visitor.open()
    assert visitor.page.get_by_text("Global Privacy Control signal").is_hidden()
    visitor.click("Reject all")
    assert visitor.record(visitor.wait_recorded()["receipt"])["gpc"] is False


@pytest.mark.parametrize(
    "stale",
    [
        {"policy_version": "2000-01-01"},
        {"banner_fingerprint": "0123456789abcdef"},
        {"expires": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()},
    ],
    ids=["policy-version-changed", "banner-fingerprint-changed", "choice-expired"],
)
def test_banner_asks_again_and_runs_nothing_when_the_choice_is_stale(
    visitor: Visitor, stale: dict[str, str]
) -> None:
    visitor.open()
    visitor.click("Accept all")
    visitor.wait_recorded()
    visitor.edit_choice(**stale)
    assert visitor.banner.is_visible()
    assert not visitor.analytics_ran()
    visitor.click("Choose")
    assert not visitor.page.get_by_role("checkbox", name="Analytics").is_checked()


def test_a_choice_lasts_about_six_months(visitor: Visitor) -> None:
    visitor.open()
    visitor.click("Reject all")
    choice = visitor.wait_recorded()
    lasts = dt.datetime.fromisoformat(choice["expires"]) - dt.datetime.fromisoformat(
        choice["chosen_at"]
    )
    assert lasts == dt.timedelta(days=182)


def test_service_down_the_choice_applies_and_the_record_arrives_when_it_is_back(
    visitor: Visitor,
) -> None:
    visitor.page.route("**/api/consent", lambda route: route.abort())
    visitor.open()
    visitor.click("Accept all")
    visitor.wait_analytics()
    assert visitor.recorded_count() == 0
    assert len(visitor.pending()) == 1
    visitor.open("/platform/")  # still down: the choice holds, the record waits
    assert visitor.banner.is_hidden()
    visitor.wait_analytics()
    assert len(visitor.pending()) == 1

    visitor.page.unroute("**/api/consent")
    visitor.open("/company/")
    choice = visitor.wait_recorded()
    record = visitor.record(choice["receipt"])
    assert record["choices"]["analytics"] is True
    assert record["page"] == "/"  # the page the choice was made on
    assert record["consent_id"] == choice["consent_id"]


def test_with_javascript_off_no_gated_resource_is_requested_and_no_banner_shows(
    browser: Any, site_server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        visitor = Visitor(context.new_page(), site_server.url)
        visitor.open()
        assert visitor.banner.is_hidden()
        visitor.open("/legal/cookies/")
        assert visitor.page.get_by_text("nothing optional is used").is_visible()
        assert [url for url in visitor.requested if url.endswith(ANALYTICS)] == []
        assert visitor.cookie_names() == set()
    finally:
        context.close()


def test_cookie_notice_shows_the_choice_and_verifies_its_receipt(visitor: Visitor) -> None:
    visitor.open("/legal/cookies/")
    assert visitor.page.get_by_text("You have not made a choice").is_visible()
    assert visitor.page.get_by_text("nothing optional is used").is_hidden()
    visitor.click("Choose")
    visitor.page.get_by_role("checkbox", name="Analytics").check()
    visitor.click("Save choices")
    choice = visitor.wait_recorded()
    status = visitor.page.locator("#cc-consent-status")
    assert choice["consent_id"] in status.inner_text()
    assert "Analytics: on" in status.inner_text()
    assert choice["policy_version"] in status.inner_text()
    visitor.click("Verify the receipt")
    result = status.locator("[data-cc-verified]")
    visitor.wait_verified()
    assert result.get_attribute("data-result") == "verified", result.inner_text()


def test_cookie_notice_says_a_damaged_receipt_does_not_verify(visitor: Visitor) -> None:
    visitor.open("/legal/cookies/")
    visitor.click("Reject all")
    receipt = visitor.wait_recorded()["receipt"]
    visitor.edit_choice(receipt=receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB"))
    visitor.click("Verify the receipt")
    visitor.wait_verified()
    assert visitor.page.locator("[data-cc-verified]").get_attribute("data-result") == "failed"


@pytest.mark.parametrize(
    "stale",
    [
        {"policy_version": "2000-01-01"},
        {"banner_fingerprint": "0123456789abcdef"},
        {"expires": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()},
    ],
    ids=["policy-version-changed", "banner-fingerprint-changed", "choice-expired"],
)
def test_optional_cookies_are_deleted_when_the_choice_lapses(
    visitor: Visitor, stale: dict[str, str]
) -> None:
    # A cookie for every name and pattern each optional category declares in extra.consent,
    # as its scripts may set them, and one cookie of no category, which stays.
    optional = {
        name.replace("*", "campaign")
        for entry in registry.load(ROOT / "mkdocs.yml").consent["cookies"].values()
        for name in entry.get("cookies", [])
    }
    visitor.open()
    visitor.click("Accept all")
    visitor.wait_recorded()
    for name in [*optional, "site_theme"]:
        visitor.page.evaluate(f"document.cookie = '{name}=1; path=/; max-age=600'")
    assert optional | {"site_theme"} <= visitor.cookie_names()
    visitor.edit_choice(**stale)
    assert visitor.banner.is_visible()
    assert visitor.cookie_names() == {"site_theme"}
    assert not visitor.analytics_ran()


def gpc_visitor(browser: Any, base_url: str) -> tuple[Any, Visitor]:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    return context, Visitor(context.new_page(), base_url)


def test_after_a_choice_with_gpc_the_footer_and_cookie_notice_say_it_was_honoured(
    browser: Any, site_server: LiveServer
) -> None:
    said = registry.load(ROOT / "mkdocs.yml").consent["labels"]["gpc_honoured"]
    context, visitor = gpc_visitor(browser, site_server.url)
    try:
        visitor.open("/legal/cookies/")
        footer = visitor.page.locator("footer").get_by_text(said, exact=True)
        notice = visitor.page.locator("article").get_by_text(said, exact=True)
        assert footer.is_hidden() and notice.is_hidden()  # nothing chosen, nothing processed
        visitor.click("Reject all")
        assert footer.is_visible() and notice.is_visible()
        visitor.open("/platform/")  # and on every page after
        assert visitor.page.locator("footer").get_by_text(said, exact=True).is_visible()
    finally:
        context.close()


def test_without_gpc_no_page_claims_an_opt_out_signal(visitor: Visitor) -> None:
    said = registry.load(ROOT / "mkdocs.yml").consent["labels"]["gpc_honoured"]
    visitor.open("/legal/cookies/")
    visitor.click("Accept all")
    visitor.wait_recorded()
    assert visitor.page.get_by_text(said).first.is_hidden()
    assert all(not element.is_visible() for element in visitor.page.get_by_text(said).all())


def test_cookie_notice_offers_verify_only_once_there_is_a_receipt(visitor: Visitor) -> None:
    visitor.open("/legal/cookies/")
    assert visitor.page.get_by_text("You have not made a choice").is_visible()
    assert visitor.button("Verify the receipt").is_hidden()
    visitor.click("Reject all")
    visitor.wait_recorded()
    assert visitor.button("Verify the receipt").is_visible()
