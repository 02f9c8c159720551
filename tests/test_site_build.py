"""The site: a strict build, the pages marketing expects, nothing loaded from other hosts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from conftest import ROOT, SiteBuild
from sitecheck import css_urls, html_pages, is_external, parse, parse_fragment

MARKETING_PAGES = [
    "index.html",
    "platform/index.html",
    "security/index.html",
    "company/index.html",
    "contact/index.html",
    "demo/index.html",
]


def test_strict_build_passes_without_warnings(site_build: SiteBuild) -> None:
    # The build every other test reads, checked here for what it said while building.
    assert site_build.result.returncode == 0, site_build.result.stderr
    assert "WARNING" not in site_build.result.stderr


@pytest.mark.parametrize("page", MARKETING_PAGES)
def test_marketing_page_exists_and_names_carecaller(built_site: Path, page: str) -> None:
    html = (built_site / page).read_text(encoding="utf-8")
    assert "CareCaller" in html


def test_home_page_uses_its_landing_template(built_site: Path) -> None:
    assert 'class="cc-home"' in (built_site / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("page", ["index.html", "company/index.html"])
def test_site_says_carecaller_is_not_a_healthcare_provider(built_site: Path, page: str) -> None:
    text = " ".join(parse(built_site / page).article_lines())
    assert "not a healthcare provider" in text


def test_every_page_footer_links_policy_requests_and_support(built_site: Path) -> None:
    policy = (built_site / "legal/privacy/index.html").resolve()
    requests = (built_site / "legal/privacy/requests/index.html").resolve()
    for path in html_pages(built_site):
        html = path.read_text(encoding="utf-8")
        footer = html[html.index('<footer class="md-footer">') :]
        assert "CareCaller, Inc." in footer, path
        assert "mailto:support@carecaller.com" in footer, path
        links = [_target(built_site, path, href) for href in parse_fragment(footer).links]
        assert policy in links, path
        assert requests in links, path


def test_no_page_loads_anything_from_another_host(built_site: Path) -> None:
    external = [
        (str(path.relative_to(built_site)), url)
        for path in html_pages(built_site)
        for url in parse(path).loaded
        if is_external(url)
    ]
    external += [
        (str(path.relative_to(built_site)), url)
        for path in sorted(built_site.rglob("*.css"))
        for url in css_urls(path)
        if is_external(url)
    ]
    assert external == []


def _target(site_dir: Path, page: Path, href: str) -> Path:
    path = unquote(urlsplit(href).path)
    base = site_dir if path.startswith("/") else page.parent
    target = (base / path.lstrip("/")).resolve()
    return target / "index.html" if target.is_dir() or href.endswith("/") else target


def test_every_internal_link_resolves(built_site: Path) -> None:
    broken = []
    for page in html_pages(built_site):
        for href in parse(page).links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path:
                continue
            if not _target(built_site, page, href).exists():
                broken.append((str(page.relative_to(built_site)), href))
    assert broken == []


@pytest.mark.parametrize(
    "page", sorted(str(p.relative_to(ROOT / "docs")) for p in (ROOT / "docs").rglob("*.md"))
)
def test_every_front_matter_is_valid_yaml(page: str) -> None:
    # MkDocs shows broken front matter as page text instead of failing: catch it here.
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    if text.startswith("---\n"):
        assert isinstance(yaml.safe_load(text.split("---\n", 2)[1]), dict), page


def test_the_build_hooks_load_none_of_the_services_libraries() -> None:
    """Marketers build the site often: the hooks read the service's declarations, not Flask,
    pydantic or the database layer, whose imports alone would slow every build."""
    script = (
        "import importlib.util, sys\n"
        f"for hook in sorted(__import__('pathlib').Path({str(ROOT / 'overrides/hooks')!r})"
        ".glob('*.py')):\n"
        "    spec = importlib.util.spec_from_file_location(hook.stem, hook)\n"
        "    sys.modules[hook.stem] = module = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "overrides" / "hooks",
    ).stdout.split()
    assert "consent_api" in loaded
    assert not {"flask", "pydantic", "sqlalchemy", "spectree", "werkzeug"} & set(loaded)
