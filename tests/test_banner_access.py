"""The banner for everyone: keyboard only, small screens and zoom, no dark patterns, and an
axe-core scan.

axe-core's ``axe.min.js`` is vendored in ``tests/vendor/axe-core/`` (MPL-2.0, unmodified, with its
licence) so that the scan runs offline and the same version runs everywhere; to update it, run
``npm pack axe-core@4`` and copy ``package/axe.min.js`` over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, LiveServer
from consentkit import Visitor
from sitecheck import site_paths

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
FIRST_LAYER = ["Accept all", "Reject all", "Choose"]
LOOKS = """el => { const s = getComputedStyle(el);
  return [s.backgroundColor, s.color, s.fontSize, s.fontWeight, s.borderStyle, s.display,
          el.getBoundingClientRect().height]; }"""


def focused(page: Any) -> dict[str, Any]:
    info: dict[str, Any] = page.evaluate(
        """() => { const el = document.activeElement;
        return {name: el.getAttribute('aria-label') || el.textContent.trim(),
                tag: el.tagName, inBanner: !!el.closest('#__consent'),
                outline: getComputedStyle(el).outlineStyle}; }"""
    )
    return info


def axe_violations(page: Any) -> list[str]:
    # The site's Content-Security-Policy refuses inline scripts, add_script_tag(path=...)
    # included: serve axe from the site's own origin instead, the policy left intact.
    url = page.url.split("/", 3)[:3]
    page.route("**/__axe__/axe.min.js", lambda route: route.fulfill(path=AXE))
    page.add_script_tag(url="/".join(url) + "/__axe__/axe.min.js")
    found: list[dict[str, Any]] = page.evaluate("axe.run(document).then(r => r.violations)")
    return [f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes']]}" for v in found]


def test_keyboard_users_reach_the_banner_first_and_operate_every_control(
    visitor: Visitor,
) -> None:
    page = visitor.page
    visitor.open()
    page.keyboard.press("Tab")
    assert focused(page)["inBanner"], focused(page)
    assert focused(page)["outline"] != "none"  # focus is visible
    for _ in range(5):
        if focused(page)["name"] == "Choose":
            break
        page.keyboard.press("Tab")
        assert focused(page)["inBanner"]
    page.keyboard.press("Enter")
    assert visitor.button("Choose").get_attribute("aria-expanded") == "true"
    page.keyboard.press("Tab")
    assert focused(page)["name"] == ""  # the checkbox, labelled by its <label>
    assert page.get_by_role("checkbox", name="Analytics").evaluate(
        "el => el === document.activeElement"
    )
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Save choices"
    page.keyboard.press("Enter")
    assert visitor.banner.is_hidden()
    assert not focused(page)["inBanner"] and focused(page)["tag"] != "BODY"
    assert visitor.wait_recorded()["choices"]["analytics"] is True

    settings = page.locator("footer").get_by_role("link", name="Cookie settings")
    settings.focus()
    page.keyboard.press("Enter")
    assert visitor.banner.is_visible()
    assert focused(page)["name"] == "Cookie preferences"  # the banner's heading
    page.keyboard.press("Escape")
    assert visitor.banner.is_hidden()
    assert settings.evaluate("el => el === document.activeElement")  # focus returns


def test_closing_the_banner_decides_nothing(visitor: Visitor) -> None:
    visitor.open()
    visitor.click("Close without choosing")
    assert visitor.banner.is_hidden()
    assert visitor.storage_keys() == set()
    visitor.open("/platform/")
    assert visitor.banner.is_visible()


def test_first_layer_actions_carry_equal_visual_weight(visitor: Visitor) -> None:
    visitor.open()
    looks = [visitor.button(name).evaluate(LOOKS) for name in FIRST_LAYER]
    assert looks[0] == looks[1] == looks[2]


@pytest.mark.parametrize(
    ("width", "height", "scale"),
    [(320, 640, 1), (640, 360, 2)],
    ids=["320px-wide", "200pc-zoom-of-1280x720"],
)
def test_banner_works_on_a_narrow_screen_and_at_double_zoom(
    browser: Any, site_server: LiveServer, width: int, height: int, scale: int
) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    try:
        visitor = Visitor(context.new_page(), site_server.url)
        visitor.open()
        visitor.click("Choose")
        for name in [*FIRST_LAYER, "Save choices", "Close without choosing"]:
            button = visitor.button(name)
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, name
        assert visitor.page.evaluate("document.documentElement.scrollWidth") <= width
        visitor.page.get_by_role("checkbox", name="Analytics").check()
        visitor.click("Save choices")
        assert visitor.wait_recorded()["choices"]["analytics"] is True
    finally:
        context.close()


def test_axe_finds_no_violation_on_the_home_page_with_the_banner_open(visitor: Visitor) -> None:
    visitor.open()
    visitor.click("Choose")
    assert axe_violations(visitor.page) == []


def test_axe_finds_no_violation_on_the_cookie_notice_with_a_choice(visitor: Visitor) -> None:
    visitor.open("/legal/cookies/")
    visitor.click("Reject all")
    visitor.wait_recorded()
    assert axe_violations(visitor.page) == []


@pytest.mark.parametrize("path", site_paths(ROOT / "docs"))
def test_axe_finds_no_violation_with_the_banner_open_the_settings_open_and_after_a_choice(
    visitor: Visitor, path: str
) -> None:
    visitor.open(path)
    found = {"banner open": axe_violations(visitor.page)}
    visitor.click("Choose")
    found["settings open"] = axe_violations(visitor.page)
    visitor.click("Save choices")
    visitor.wait_recorded()
    found["after a choice"] = axe_violations(visitor.page)
    assert found == {state: [] for state in found}
