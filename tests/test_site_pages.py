"""The site as a prospect sees it: the landing page's calls to action, the footer, the layout of
pages without siblings, the cookie notice on a phone and the printed policy. Real browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, LiveServer
from consentkit import Visitor

from consent_api.site import registry

HOME = yaml.safe_load((ROOT / "docs/index.md").read_text(encoding="utf-8").split("---")[1])


@pytest.fixture
def phone(browser: Any, site_server: LiveServer) -> Iterator[Visitor]:
    """A first-time visitor on the narrowest phone the site supports, 320 by 568."""
    context = browser.new_context(viewport={"width": 320, "height": 568})
    try:
        yield Visitor(context.new_page(), site_server.url)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("section", "text", "path"),
    [
        (section, action["text"], "/" + action["url"])
        for section in ("hero", "closing")
        for action in HOME[section]["actions"]
    ],
)
def test_landing_page_calls_to_action_reach_their_pages(
    visitor: Visitor, section: str, text: str, path: str
) -> None:
    visitor.open()
    visitor.click("Reject all")
    visitor.page.locator(f".cc-{section}").get_by_role("link", name=text, exact=True).click()
    visitor.page.wait_for_url(f"**{path}")
    assert visitor.page.locator("h1").first.is_visible()


def test_landing_page_offers_a_demo_and_the_platform_first(visitor: Visitor) -> None:
    visitor.open()
    hero = visitor.page.locator(".cc-hero")
    targets = [link.get_attribute("href") for link in hero.get_by_role("link").all()]
    assert targets == ["demo/", "platform/"]
    assert hero.get_by_role("heading", level=1).inner_text() == HOME["hero"]["title"]
    # Every feature from the front matter, each with its inline icon (no image request).
    cards = visitor.page.locator(".cc-cards > li")
    assert cards.count() == len(HOME["features"]["cards"])
    assert cards.locator("svg").count() == cards.count()


def test_every_footer_has_its_columns_and_the_support_address(
    visitor: Visitor, site_server: LiveServer
) -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=registry.Loader)
    visitor.open("/security/")
    footer = visitor.page.locator("footer")
    for column in config["extra"]["footer"]:
        assert footer.get_by_role("heading", name=column["title"], exact=True).is_visible()
        for link in column["links"]:
            href = footer.get_by_role("link", name=link["text"], exact=True).first
            assert href.evaluate("a => new URL(a.href).pathname") == "/" + link["url"]
    support = footer.get_by_role("link", name=config["extra"]["support_email"])
    assert support.get_attribute("href") == f"mailto:{config['extra']['support_email']}"


@pytest.mark.parametrize(("path", "sidebar"), [("/platform/", False), ("/legal/cookies/", True)])
def test_a_page_without_siblings_has_no_empty_navigation_column(
    browser: Any, site_server: LiveServer, path: str, sidebar: bool
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(site_server.url + path)
        assert page.locator(".md-sidebar--primary").is_visible() is sidebar
    finally:
        context.close()


def test_cookie_notice_table_reads_whole_on_a_narrow_phone(phone: Visitor) -> None:
    phone.open("/legal/cookies/")
    phone.click("Reject all")
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= 320
    table = phone.page.locator(".cc-categories")
    for cell in table.locator("td, th").all():
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 320, cell.inner_text()
    for code in table.locator("code").all():
        # One line box per name: never broken mid-word.
        assert code.evaluate("el => el.getClientRects().length") == 1, code.inner_text()
    # Each cell still says which column it is.
    assert "Until you choose" in table.locator("td").last.evaluate(
        "el => getComputedStyle(el, '::before').content"
    )


def test_the_printed_policy_is_its_text_alone(visitor: Visitor) -> None:
    visitor.open("/legal/privacy/")
    assert visitor.banner.is_visible()
    visitor.page.emulate_media(media="print")
    for hidden in (".md-header", ".md-tabs", "footer", "#__consent", ".md-sidebar--secondary"):
        assert visitor.page.locator(hidden).first.is_hidden(), hidden
    assert visitor.page.get_by_role("heading", name="5. Cookies & Analytics").is_visible()


def test_brand_logo_and_favicon_are_the_sites_own_svg(built_site: Path) -> None:
    html = (built_site / "index.html").read_text(encoding="utf-8")
    assert 'src="assets/images/logo.svg" alt="CareCaller"' in html
    assert 'href="assets/images/favicon.svg"' in html
    logo = (built_site / "assets/images/logo.svg").read_text(encoding="utf-8")
    assert 'aria-label="CareCaller"' in logo


def test_policy_section_on_cookies_is_followed_by_a_notice_that_opens_cookie_settings(
    visitor: Visitor,
) -> None:
    visitor.open("/legal/privacy/")
    visitor.click("Reject all")
    notice = visitor.page.locator(".admonition.cc-notice", has_text="Cookie settings")
    heading = visitor.page.get_by_role("heading", name="5. Cookies & Analytics")
    # Right after section 5's own text, before section B.
    assert notice.evaluate(
        """(el, heading) => heading.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING
           && el.previousElementSibling.previousElementSibling === heading""",
        heading.element_handle(),
    )
    notice.get_by_role("link", name="Cookie settings").click()
    assert visitor.banner.is_visible()
    assert visitor.button("Save choices").is_visible()
