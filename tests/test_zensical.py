"""The same sources built with Zensical, Material's successor, publish the same site.

Zensical runs no MkDocs hooks: ``consent_api.site.stage`` writes what the hook generates, Zensical
builds it, and ``consent_api.site.postbuild`` adds the CSP and minifies, as ``make build
BUILDER=zensical`` does. Each test compares the Zensical build with the MkDocs one, page by page,
or drives the Zensical build in a browser against the real service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import BIN, ROOT, LiveServer, mkdocs_build
from inquiry_support import VALID
from lxml import html as lxml_html
from sitecheck import parse
from test_policy_text import seed_lines

from consent_api.site import registry
from consent_api.site.forms import FORMS

REGISTRY = registry.load(ROOT / "mkdocs.yml")
#: The pages whose text must match the MkDocs build word for word.
PAGES = [
    "legal/privacy/index.html",
    *(f"legal/privacy/{v.id}/index.html" for v in REGISTRY.versions),
    "legal/privacy/history/index.html",
    "legal/retention/index.html",
    "legal/cookies/index.html",
    "contact/index.html",
    "demo/index.html",
]


def _run(*command: str | Path, cwd: Path) -> None:
    result = subprocess.run(
        [str(part) for part in command], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def zensical_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real sources built as ``make build BUILDER=zensical`` builds them, in a copy of the
    project's site sources (the staging step writes beside ``mkdocs.yml``)."""
    project = tmp_path_factory.mktemp("zensical")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    for folder in ("docs", "overrides"):
        shutil.copytree(ROOT / folder, project / folder)
    python = sys.executable
    _run(python, "-m", "consent_api.site.stage", "--config", "mkdocs.yml", cwd=project)
    _run(
        BIN / "zensical", "build", "--clean", "--strict", "--config-file", ".build.yml", cwd=project
    )
    _run(python, "-m", "consent_api.site.postbuild", "site", cwd=project)
    _run(python, "-m", "whitenoise.compress", "--quiet", "--no-brotli", "site", cwd=project)
    return project / "site"


@pytest.mark.parametrize("page", PAGES)
def test_zensical_publishes_each_page_with_the_mkdocs_builds_text(
    built_site: Path, zensical_site: Path, page: str
) -> None:
    assert parse(zensical_site / page).article_lines() == parse(built_site / page).article_lines()


@pytest.mark.parametrize(
    "page",
    ["legal/privacy/index.html", *(f"legal/privacy/{v.id}/index.html" for v in REGISTRY.versions)],
)
def test_zensical_publishes_the_policy_verbatim(zensical_site: Path, page: str) -> None:
    rendered = parse(zensical_site / page).article_lines()
    position = 0
    for line in seed_lines():
        assert line in rendered[position:], f"missing or out of order: {line!r}"
        position = rendered.index(line, position) + 1


def _fields(site: Path, kind: str) -> list[tuple[str, str, bool]]:
    document = lxml_html.parse(str(site / FORMS[kind].page / "index.html"))
    (form,) = [f for f in document.iter("form") if f.get("action", "").endswith(f"/{kind}")]
    return [
        (control.get("name", ""), control.get("type", control.tag), "required" in control.attrib)
        for control in form.iter("input", "select", "textarea")
    ]


@pytest.mark.parametrize("kind", sorted(FORMS))
def test_zensical_forms_have_the_same_fields(
    built_site: Path, zensical_site: Path, kind: str
) -> None:
    fields = _fields(zensical_site, kind)
    assert {name for name, _, _ in fields} >= {field.name for field in FORMS[kind].fields}
    assert fields == _fields(built_site, kind)


def _stamps(site: Path, page: str) -> dict[str, str]:
    return {
        meta.get("name", ""): meta.get("content", "")
        for meta in lxml_html.parse(str(site / page)).iter("meta")
        if meta.get("name") in ("banner-fingerprint", "policy-version")
    }


@pytest.mark.parametrize("page", [*PAGES, "index.html", "platform/index.html"])
def test_zensical_pages_carry_the_banner_with_the_same_fingerprint_and_policy_version(
    built_site: Path, zensical_site: Path, page: str
) -> None:
    html = (zensical_site / page).read_text(encoding="utf-8")
    assert 'id="cc-consent-title"' in html
    assert "assets/javascripts/consent.js" in html
    assert _stamps(zensical_site, page) == _stamps(built_site, page)
    assert _stamps(zensical_site, page) == {
        "banner-fingerprint": REGISTRY.banner_fingerprint,
        "policy-version": REGISTRY.current_version().id,
    }


def test_zensical_build_has_a_content_security_policy_and_publishes_no_hook(
    zensical_site: Path,
) -> None:
    assert (zensical_site / "csp.txt").read_text().startswith("default-src 'self'")
    for page in zensical_site.rglob("*.html"):
        assert 'http-equiv="Content-Security-Policy"' in page.read_text(encoding="utf-8"), page
    assert not list(zensical_site.rglob("*.py"))


@pytest.fixture(scope="module")
def zensical_server(
    tmp_path_factory: pytest.TempPathFactory, zensical_site: Path
) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("zensical-server") / "live.sqlite3"
    server = LiveServer(
        {
            "CONSENT_API_SITE_DIR": str(zensical_site),
            "CONSENT_API_DATABASE_URL": f"sqlite:///{database}",
            "CONSENT_API_FORM_TOKEN_MIN_SECONDS": "0",
        }
    )
    server.start()
    yield server
    server.stop()


def _payloads(server: LiveServer, kind: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(server.env["CONSENT_API_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT payload FROM records WHERE kind = :kind"), {"kind": kind}
        ).all()
    engine.dispose()
    return [json.loads(row[0]) for row in rows]


@pytest.mark.browser
def test_on_the_zensical_build_the_banner_records_a_rejection(
    browser: Any, zensical_server: LiveServer
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(zensical_server.url + "/")
    banner = page.locator("#__consent .md-consent__inner")
    banner.wait_for(state="visible")
    with page.expect_response(lambda response: response.url.endswith("/api/consent")) as posted:
        page.get_by_role(
            "button", name=REGISTRY.consent["labels"]["reject_all"], exact=True
        ).click()
    assert posted.value.status == 201
    assert banner.is_hidden()
    choices = [payload["choices"] for payload in _payloads(zensical_server, "consent")]
    assert {registry.NECESSARY: True, **dict.fromkeys(REGISTRY.categories, False)} in choices
    context.close()


@pytest.mark.browser
def test_on_the_zensical_build_a_form_is_sent_without_javascript(
    browser: Any, zensical_server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{zensical_server.url}/contact/")
    name = "Zensical visitor"
    for field in FORMS["contact"].fields:
        value = {**VALID["contact"], "name": name}.get(field.name) or ""
        control = page.locator(f"#contact-{field.name}")
        if field.control == "select":
            control.select_option(value)
        else:
            control.fill(value)
    page.get_by_role("button", name=FORMS["contact"].submit).press("Enter")
    assert page.url == f"{zensical_server.url}/{FORMS['contact'].thanks}"
    assert [payload["name"] for payload in _payloads(zensical_server, "contact")] == [name]
    context.close()


def test_mkdocs_builds_the_staged_sources_into_the_same_pages_as_with_its_hook(
    built_site: Path, tmp_path: Path
) -> None:
    # The staging step and the hook hand over the same generated site: MkDocs itself, given the
    # staged sources and no hook, publishes every page with the text its hooked build has.
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    for folder in ("docs", "overrides"):
        shutil.copytree(ROOT / folder, project / folder)
    _run(sys.executable, "-m", "consent_api.site.stage", "--config", "mkdocs.yml", cwd=project)
    result = mkdocs_build(project / ".build.yml", project / "site")
    assert result.returncode == 0, result.stderr
    pages = sorted(page.relative_to(built_site) for page in built_site.rglob("*.html"))
    assert pages == sorted(
        page.relative_to(project / "site") for page in (project / "site").rglob("*.html")
    )
    for page in pages:
        assert (
            parse(project / "site" / page).article_lines()
            == parse(built_site / page).article_lines()
        ), page
