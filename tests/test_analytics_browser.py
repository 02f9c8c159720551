"""The analytics script in a real browser, on the real site and service: it sends nothing before
consent, nothing after withdrawal, nothing with GPC and no choice, and a conversion per form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import LiveServer
from consentkit import Visitor
from inquiry_support import VALID

from consent_api.records.schema import analytics_daily
from consent_api.site.forms import FORMS

pytestmark = pytest.mark.browser

EVENTS = "/api/events"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, built_site: Path) -> Iterator[LiveServer]:
    # Its own database, so that the counts are this module's; forms usable at once.
    database = tmp_path_factory.mktemp("analytics") / "analytics.sqlite3"
    live = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(built_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{database}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
            "CONSENT_API_INQUIRY_RATE_LIMIT": "1000 per minute",
            "CONSENT_API_EVENTS_RATE_LIMIT": "1000 per minute",
        }
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture
def visitor(page: Any, server: LiveServer) -> Visitor:
    return Visitor(page, server.url)


def counted(server: LiveServer, path: str, event: str = "pageview") -> int:
    """How many events the service has counted for ``path`` (summed over days)."""
    engine = sa.create_engine(server.env["CONSENT_API_DATABASE_URL"])
    query = sa.select(sa.func.coalesce(sa.func.sum(analytics_daily.c.events), 0)).where(
        analytics_daily.c.path == path, analytics_daily.c.event == event
    )
    with engine.connect() as connection:
        total = int(connection.scalar(query) or 0)
    engine.dispose()
    return total


def sent(visitor: Visitor) -> list[str]:
    """The events this browser sent (their URLs), whatever the answer."""
    return [url for url in visitor.requested if url.endswith(EVENTS)]


def answered(visitor: Visitor) -> list[int]:
    return [status for method, url, status in visitor.answers if url.endswith(EVENTS)]


def wait_answers(visitor: Visitor, count: int) -> None:
    while len(answered(visitor)) < count:
        visitor.page.wait_for_timeout(50)


def settle(visitor: Visitor) -> None:
    # A beacon leaves at once; this is time enough for one that would have been sent.
    visitor.page.wait_for_load_state("networkidle")
    visitor.page.wait_for_timeout(300)


def test_no_event_before_consent_then_one_page_view_per_page(
    visitor: Visitor, server: LiveServer
) -> None:
    before = counted(server, "/security/")
    visitor.open("/security/")
    settle(visitor)
    assert sent(visitor) == []
    visitor.click("Accept all")
    wait_answers(visitor, 1)
    assert answered(visitor) == [204]
    assert counted(server, "/security/") == before + 1
    visitor.open("/company/")
    wait_answers(visitor, 2)
    assert answered(visitor) == [204, 204]
    assert visitor.cookie_names() == set()  # counted without any cookie


def test_no_event_after_withdrawal_on_the_page_or_after(
    visitor: Visitor, server: LiveServer
) -> None:
    visitor.open("/platform/")
    visitor.click("Accept all")
    wait_answers(visitor, 1)
    visitor.page.locator("footer").get_by_role("link", name="Cookie settings").click()
    visitor.page.get_by_role("checkbox", name="Analytics").uncheck()
    visitor.click("Save choices")
    visitor.wait_recorded()
    # Whatever the page does next sends nothing: a form sent here would not be counted.
    visitor.page.evaluate("document.dispatchEvent(new CustomEvent('cc:inquiry-sent'))")
    visitor.open("/company/")
    visitor.open("/platform/")
    settle(visitor)
    assert len(sent(visitor)) == 1
    assert not visitor.analytics_ran()


@pytest.fixture
def gpc_visitor(browser: Any, server: LiveServer) -> Iterator[Visitor]:
    """A browser that sends Global Privacy Control, as the banner tests set it up."""
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    yield Visitor(context.new_page(), server.url)
    context.close()


def test_no_event_with_gpc_and_no_stored_choice(gpc_visitor: Visitor) -> None:
    gpc_visitor.open("/")
    gpc_visitor.click("Close without choosing")
    gpc_visitor.open("/platform/")
    gpc_visitor.open("/demo/")
    settle(gpc_visitor)
    assert sent(gpc_visitor) == []
    assert gpc_visitor.choice() is None


def test_with_gpc_a_visitor_who_turns_analytics_on_is_counted(
    gpc_visitor: Visitor, server: LiveServer
) -> None:
    before = counted(server, "/company/")
    gpc_visitor.open("/company/")
    gpc_visitor.click("Choose")
    gpc_visitor.page.get_by_role("checkbox", name="Analytics").check()
    gpc_visitor.click("Save choices")
    wait_answers(gpc_visitor, 1)
    assert answered(gpc_visitor) == [204]
    assert counted(server, "/company/") == before + 1


def test_a_conversion_is_counted_when_the_demo_form_is_sent(
    visitor: Visitor, server: LiveServer
) -> None:
    before = counted(server, "/demo/", "conversion")
    visitor.open("/demo/")
    visitor.click("Accept all")
    wait_answers(visitor, 1)
    for field in FORMS["demo"].fields:
        control = visitor.page.locator(f"#demo-{field.name}")
        value = VALID["demo"].get(field.name) or ""
        if field.control == "select":
            control.select_option(value)
        else:
            control.fill(value)
    visitor.page.get_by_role("button", name=FORMS["demo"].submit).press("Enter")
    visitor.page.locator(".cc-form__done").wait_for()
    wait_answers(visitor, 2)
    assert answered(visitor) == [204, 204]
    assert counted(server, "/demo/", "conversion") == before + 1
