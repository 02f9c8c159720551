"""The open banner and the page beside it: how much of a phone it takes, that it covers nothing
(no content, no footer, no focus target), and where its links lead. Real browser, built site."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from consentkit import Visitor
from sitecheck import html_pages, site_paths

from consent_api.site import registry

REGISTRY = registry.load(ROOT / "mkdocs.yml")
PHONES = [(375, 667, 0.35), (320, 568, 0.45)]
SIZES = [(1280, 800), (375, 667), (320, 568)]


PATHS = site_paths(ROOT / "docs")


@pytest.fixture
def sized(browser: Any, site_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A first-time visitor with the viewport given by the test's ``size`` parameter."""
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        yield Visitor(context.new_page(), site_server.url)
    finally:
        context.close()


def banner_box(visitor: Visitor) -> dict[str, float]:
    box: dict[str, float] = visitor.banner.bounding_box()
    return box


def wait_room(visitor: Visitor) -> None:
    """Wait until the banner has slid in and the page has reserved its height (consent.js)."""
    visitor.page.wait_for_function(
        """() => {
          const panel = document.querySelector('#__consent .md-consent__inner');
          const room = parseFloat(getComputedStyle(document.body).paddingBottom);
          const still = !panel.getAnimations().some((a) => a.playState === 'running');
          return still && panel.offsetHeight > 0 && Math.abs(room - panel.offsetHeight) <= 1;
        }"""
    )


def overlaps(box: dict[str, float], banner: dict[str, float], free: float) -> bool:
    """Whether the banner hides any of ``box`` (by more than a rounding pixel). A box taller than
    the room left above the banner (``free``) cannot be wholly clear: its start must be."""
    if box["x"] + box["width"] <= banner["x"] or box["x"] >= banner["x"] + banner["width"]:
        return False
    if box["height"] > free:
        return box["y"] >= banner["y"] - 1
    return box["y"] + box["height"] > banner["y"] + 1


def focused_box(page: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          // Each stop once: the walk ends when focus comes round to one it has seen.
          window.ccStops ??= new Map();
          if (!window.ccStops.has(el)) window.ccStops.set(el, window.ccStops.size);
          const r = el.getBoundingClientRect();
          const text = (el.getAttribute('aria-label') || el.textContent || el.name || '').trim();
          // Material's closed search results take focus unseen: not a target anyone sees.
          const seen = el.checkVisibility({opacityProperty: true, visibilityProperty: true});
          return {x: r.x, y: r.y, width: seen ? r.width : 0, height: r.height,
                  inBanner: !!el.closest('#__consent'), key: window.ccStops.get(el),
                  name: `${el.tagName} ${text.slice(0, 40)}`};
        }"""
    )
    return found


@pytest.mark.parametrize(
    ("sized", "share"),
    [((w, h), share) for w, h, share in PHONES],
    ids=[f"{w}x{h}" for w, h, _ in PHONES],
    indirect=["sized"],
)
def test_open_banner_leaves_most_of_a_phone_screen_to_the_page(
    sized: Visitor, share: float
) -> None:
    sized.open()
    height = sized.page.viewport_size["height"]
    assert banner_box(sized)["height"] <= share * height, banner_box(sized)
    # The detail is a link away, and the description unfolds on demand.
    sized.click("More")
    assert sized.page.locator("#cc-consent-description").evaluate(
        "el => el.scrollHeight <= el.clientHeight + 1"
    )


@pytest.mark.parametrize("sized", [(w, h) for w, h, _ in PHONES], indirect=True)
def test_with_the_choices_open_save_choices_stays_in_view(sized: Visitor) -> None:
    sized.open()
    sized.click("Choose")
    save = sized.button("Save choices")
    box = save.bounding_box()
    height = sized.page.viewport_size["height"]
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    # Visible, not merely in the viewport: nothing else is painted on top of it.
    assert save.evaluate(
        """el => { const r = el.getBoundingClientRect();
          return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"""
    )


# The widest and the narrowest screen: what fits on both fits in between, and the walk is slow.
@pytest.mark.parametrize(
    "sized",
    [SIZES[0], SIZES[-1]],
    ids=[f"{w}x{h}" for w, h in (SIZES[0], SIZES[-1])],
    indirect=True,
)
@pytest.mark.parametrize("path", PATHS)
def test_no_tab_stop_is_covered_by_the_open_banner(sized: Visitor, path: str) -> None:
    sized.open(path)
    assert sized.banner.is_visible()
    wait_room(sized)
    banner = banner_box(sized)
    free = banner["y"] - sized.page.locator(".md-header").bounding_box()["height"]
    covered, seen = [], set()
    for _ in range(400):
        sized.page.keyboard.press("Tab")
        stop = focused_box(sized.page)
        if stop is None:
            continue
        if stop["key"] in seen:
            break
        seen.add(stop["key"])
        if not stop["inBanner"] and stop["width"] and overlaps(stop, banner, free):
            covered.append(
                f"{stop['name']} {stop['y']:.0f}+{stop['height']:.0f} banner {banner['y']:.0f}"
            )
    assert len(seen) > 5  # the walk went through the page
    assert covered == []


@pytest.mark.parametrize("sized", SIZES, ids=[f"{w}x{h}" for w, h in SIZES], indirect=True)
@pytest.mark.parametrize("path", ["/", "/contact/thanks/", "/legal/cookies/"])
def test_the_footer_can_be_scrolled_clear_of_the_open_banner(sized: Visitor, path: str) -> None:
    sized.open(path)
    wait_room(sized)
    sized.page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    footer = sized.page.locator("footer.md-footer").bounding_box()
    assert footer["y"] + footer["height"] <= banner_box(sized)["y"] + 1
    settings = sized.page.locator("footer").get_by_role("link", name="Cookie settings")
    settings.click()  # a real click lands on it: nothing lies on top
    assert sized.button("Save choices").is_visible()


@pytest.mark.parametrize(
    ("text", "path"),
    [(link["text"], "/" + link["url"]) for link in REGISTRY.consent["links"]],
)
def test_the_banner_links_to_the_detail_before_any_choice(
    visitor: Visitor, text: str, path: str
) -> None:
    visitor.open("/platform/")
    visitor.banner.get_by_role("link", name=text, exact=True).click()
    visitor.page.wait_for_url(f"**{path}")
    assert visitor.page.evaluate("location.pathname") == path
    assert visitor.banner.is_visible()  # still no choice: the banner asks on that page too
    assert visitor.storage_keys() == set()


def test_the_room_follows_the_banner_and_is_given_back_after_a_choice(visitor: Visitor) -> None:
    visitor.open("/contact/")
    wait_room(visitor)
    closed = banner_box(visitor)["height"]
    visitor.click("Choose")
    wait_room(visitor)
    assert banner_box(visitor)["height"] > closed
    visitor.click("Reject all")
    visitor.page.wait_for_function("() => getComputedStyle(document.body).paddingBottom === '0px'")


def test_the_site_pages_are_all_tabbed_through(built_site: Any) -> None:
    """The walk above covers every built page but the 404 page."""
    built = {
        "/" + page.relative_to(built_site).as_posix().removesuffix("index.html")
        for page in html_pages(built_site)
    } - {"/404.html"}
    assert built == set(PATHS)
