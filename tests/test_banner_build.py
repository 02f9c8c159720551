"""The banner as built: config checked, pages stamped, scripts external and inert, within budget."""

from __future__ import annotations

import gzip
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT, mkdocs_build
from sitecheck import html_pages, parse

from consent_api.site import banner, registry

#: Inline scripts mkdocs-material 9.8 still emits itself, by how they start (listed in README.md).
MATERIAL_INLINE = (
    "__md_scope=new URL(",  # partials/javascripts/base.html: __md_get/__md_set helpers
    "var target=document.getElementById(location.hash.slice(1))",  # javascripts/content.html
)
BUDGET = 5 * 1024  # bytes, gzipped: the project's own JavaScript and CSS on one page
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL)
REGISTRY = registry.load(ROOT / "mkdocs.yml")


def site_consent() -> dict[str, Any]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=registry.Loader)
    consent: dict[str, Any] = config["extra"]["consent"]
    return consent


def test_every_page_is_stamped_with_the_policy_version_and_banner_fingerprint(
    built_site: Path,
) -> None:
    version = f'<meta name="policy-version" content="{REGISTRY.current_version().id}">'
    fingerprint = f'<meta name="banner-fingerprint" content="{REGISTRY.banner_fingerprint}">'
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        assert version in html and fingerprint in html, page


def test_no_page_has_an_inline_script_of_the_project(built_site: Path) -> None:
    for page in html_pages(built_site):
        for attrs, body in SCRIPT.findall(page.read_text(encoding="utf-8")):
            if "src=" in attrs or 'type="application/json"' in attrs:
                continue
            assert body.strip().startswith(MATERIAL_INLINE), (page, body[:80])
        assert " onclick=" not in page.read_text(encoding="utf-8")


def test_gated_scripts_are_inert_and_name_a_configured_category(built_site: Path) -> None:
    html = (built_site / "index.html").read_text(encoding="utf-8")
    gated = [attrs for attrs, _ in SCRIPT.findall(html) if "data-category" in attrs]
    assert gated
    for attrs in gated:
        assert 'type="text/plain"' in attrs
        assert re.search(r'data-category="(\w+)"', attrs).group(1) in REGISTRY.categories  # type: ignore[union-attr]


def _site_path(site: Path, page: Path, url: str) -> str:
    target = site / url.lstrip("/") if url.startswith("/") else page.parent / url
    return target.resolve().relative_to(site.resolve()).as_posix()


def test_project_javascript_and_css_fit_the_budget_on_every_page(built_site: Path) -> None:
    """Everything of the project's own that a page loads, before and without consent. A gated
    category script is the operator's integration, loaded only after consent: not counted."""
    own = {
        path.relative_to(ROOT / "overrides").as_posix()
        for path in (ROOT / "overrides/assets").rglob("*")
        if path.suffix in {".js", ".css"}
    }
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        gated = {
            _site_path(built_site, page, src)
            for attrs, _ in SCRIPT.findall(html)
            if 'type="text/plain"' in attrs
            for src in re.findall(r'src="([^"]+)"', attrs)
        }
        loaded = {
            _site_path(built_site, page, url)
            for url in parse(page).loaded
            if not url.startswith(("http", "data:"))
        }
        assert "assets/javascripts/consent.js" in loaded, page
        counted = (loaded - gated) & own
        size = sum(len(gzip.compress((built_site / f).read_bytes(), 9)) for f in counted)
        assert size <= BUDGET, (page, size, sorted(counted))


def test_every_footer_offers_cookie_settings_and_no_box_is_pre_ticked(built_site: Path) -> None:
    for page in html_pages(built_site):
        html = page.read_text(encoding="utf-8")
        footer = html[html.index('<footer class="md-footer">') :]
        link = re.search(r'href="([^"]*)#__consent" data-cc-open>Cookie settings<', footer)
        assert link, page
        target = (
            built_site / link.group(1).lstrip("/")
            if link.group(1).startswith("/")
            else page.parent / link.group(1)
        )
        assert target.resolve() == (built_site / "legal/cookies").resolve(), page
        assert not re.search(
            r'<input type="checkbox"[^>]*\bchecked\b', html.split('id="__consent"')[1]
        )


def test_cookie_notice_lists_every_category_with_its_cookies(built_site: Path) -> None:
    notice = built_site / "legal/cookies/index.html"
    html = notice.read_text(encoding="utf-8")
    consent = site_consent()
    assert consent["necessary"]["name"] in html
    for entry in consent["cookies"].values():
        assert entry["name"] in html and entry["description"].split()[0] in html
        for name in entry["cookies"]:
            assert f"<code>{name}</code>" in html
    assert "nothing optional is used" in " ".join(html.split())


def test_cookie_notice_is_in_the_nav_under_legal() -> None:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=registry.Loader)
    legal = next(
        item["Legal"] for item in config["nav"] if isinstance(item, dict) and "Legal" in item
    )
    assert {"Cookie notice": "legal/cookies.md"} in legal


def test_site_banner_configuration_passes_the_hooks_checks() -> None:
    assert banner.problems(site_consent()) == []


def _broken(change: str) -> dict[str, Any]:
    consent = site_consent()
    analytics = consent["cookies"]["analytics"]
    changes = {
        "pre-ticked": lambda: analytics.update(checked=True),
        "label-missing": lambda: consent["labels"].pop("reject_all"),
        "category-with-spaces": lambda: consent["cookies"].update({"Ad cookies": analytics}),
        "necessary-as-category": lambda: consent["cookies"].update(necessary=analytics),
        "cookie-list-a-string": lambda: analytics.update(cookies="cc_analytics"),
        "zero-days": lambda: consent.update(expires_after_days=0),
        "no-description": lambda: analytics.pop("description"),
        "unknown-key": lambda: consent.update(actions=["accept"]),
    }
    changes[change]()
    return consent


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("pre-ticked", "extra.consent.cookies.analytics.checked is unknown"),
        ("label-missing", "extra.consent.labels.reject_all needs text"),
        ("category-with-spaces", "a category is lower-case letters"),
        ("necessary-as-category", "not necessary"),
        ("cookie-list-a-string", "cookies must be a list of names"),
        ("zero-days", "expires_after_days must be a whole number"),
        ("no-description", "analytics.description needs text"),
        ("unknown-key", "extra.consent.actions is unknown"),
    ],
)
def test_hook_names_what_is_wrong_in_the_banner_configuration(change: str, message: str) -> None:
    assert any(message in problem for problem in banner.problems(_broken(change)))


def test_build_fails_loudly_on_a_pre_ticked_category(tmp_path: Path) -> None:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    broken = (
        config.replace(
            "        name: Analytics\n", "        name: Analytics\n        checked: true\n"
        )
        .replace("custom_dir: overrides", f"custom_dir: {ROOT / 'overrides'}")
        .replace("  - overrides/hooks/", f"  - {ROOT / 'overrides/hooks'}/")
    )
    assert "checked: true" in broken
    copy = tmp_path / "mkdocs.yml"
    copy.write_text(f"docs_dir: {ROOT / 'docs'}\n{broken}", encoding="utf-8")
    result = mkdocs_build(copy, tmp_path / "site")
    assert result.returncode != 0
    assert "extra.consent.cookies.analytics.checked is unknown" in result.stderr


def test_the_banners_links_are_part_of_its_fingerprint(tmp_path: Path) -> None:
    base = REGISTRY.banner_fingerprint
    consent = site_consent()
    consent["links"][0]["url"] = "legal/privacy/2026-03-24/"
    changed = registry.build(ROOT / "mkdocs.yml", {**_extra(), "consent": consent}, ROOT / "docs")
    assert changed.banner_fingerprint != base


def test_banner_links_stay_on_this_site() -> None:
    consent = site_consent()
    consent["links"].append({"text": "Partner", "url": "https://partner.example/"})
    assert any("must be a path on this site" in problem for problem in banner.problems(consent))


def test_built_banner_carries_the_storage_key_and_lifetime_from_the_registry(
    built_site: Path,
) -> None:
    html = (built_site / "index.html").read_text(encoding="utf-8")
    assert f'data-storage-key="{registry.STORAGE_KEY}"' in html
    assert f'data-expires-after-days="{REGISTRY.expires_after_days}"' in html
    for link in site_consent()["links"]:
        assert f'<a href="{link["url"]}">{link["text"]}</a>' in html.split('id="__consent"')[1]


def _extra() -> dict[str, Any]:
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=registry.Loader)
    extra: dict[str, Any] = config["extra"]
    return extra
