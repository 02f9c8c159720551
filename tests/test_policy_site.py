"""The versioned Privacy Policy as a reader finds it: built from fixture versions on a set date."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BIN, ROOT, mkdocs_build
from sitecheck import html_pages, parse

from consent_api.site import registry

SEED = (ROOT / "docs" / "legal" / "privacy" / "2026-03-24.md").read_text(encoding="utf-8")
SEED_BODY = SEED.split("\n---\n", 1)[1]
INSERTED = "We keep a record of each cookie choice you make."
DELETED = "No system can guarantee absolute security."
UPCOMING_INSERTED = "We now publish a retention schedule for website records."
ATOM = "{http://www.w3.org/2005/Atom}"

PAST, CURRENT, UPCOMING = "2026-03-24", "2026-06-01", "2026-09-01"
BUILD_DATE = "2026-07-01"


def version_file(effective: str, summary: str, body: str) -> str:
    return f"---\neffective: {effective}\nsummary: {summary}\n---\n{body}"


def current_body() -> str:
    body = SEED_BODY.replace(
        "CareCaller does not sell personal information.",
        f"CareCaller does not sell personal information.\n\n{INSERTED}",
    )
    return body.replace(f"\n\n{DELETED}", "")


FIXTURE_VERSIONS = {
    PAST: version_file(PAST, "The first version.", SEED_BODY),
    CURRENT: version_file(CURRENT, "Cookie choices are recorded.", current_body()),
    UPCOMING: version_file(
        UPCOMING,
        "A retention schedule is published.",
        current_body().replace(INSERTED, f"{INSERTED} {UPCOMING_INSERTED}"),
    ),
}


#: Legal pages that are pages of docs/, which this minimal site does not copy: out of its nav.
DOCS_PAGES = (
    {"Cookie notice": "legal/cookies.md"},
    {"Privacy requests": "legal/privacy/requests/index.md"},
)


@dataclass
class PolicySite:
    """A throwaway site using the real overrides and hooks, with its own policy versions."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def policy_dir(self) -> Path:
        return self.root / "docs" / "legal" / "privacy"

    def write(self, versions: dict[str, str], **extra: Any) -> PolicySite:
        real = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
        legal = real["nav"][-1]["Legal"]
        self.policy_dir.mkdir(parents=True, exist_ok=True)
        (self.root / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
        for name, text in versions.items():
            (self.policy_dir / f"{name}.md").write_text(text, encoding="utf-8")
        config = {
            "site_name": "CareCaller",
            "site_url": "https://example.test/",
            "theme": {**real["theme"], "custom_dir": str(ROOT / "overrides")},
            "hooks": [str(ROOT / hook) for hook in real["hooks"]],
            "extra": {**real["extra"], **extra},
            "markdown_extensions": real["markdown_extensions"],
            "validation": real["validation"],
            "nav": [{"Home": "index.md"}, {"Legal": [p for p in legal if p not in DOCS_PAGES]}],
        }
        self.config.write_text(yaml.safe_dump(config), encoding="utf-8")
        return self

    def build(self, build_date: str = BUILD_DATE) -> subprocess.CompletedProcess[str]:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("CARECALLER_BUILD_DATE", build_date)
            return mkdocs_build(self.config, self.root / "site")

    def built(self, build_date: str = BUILD_DATE) -> Path:
        result = self.build(build_date)
        assert result.returncode == 0, result.stderr
        assert "WARNING" not in result.stderr, result.stderr
        return self.root / "site"


@pytest.fixture(scope="module")
def policy_site(tmp_path_factory: pytest.TempPathFactory) -> PolicySite:
    """Three versions (past, current, upcoming) built on a day between the last two, once for
    the module: the tests only read it, or copy it."""
    policy = PolicySite(tmp_path_factory.mktemp("policy")).write(FIXTURE_VERSIONS)
    policy.built()
    return policy


@pytest.fixture(scope="module")
def site(policy_site: PolicySite) -> Path:
    """The built fixture site's folder."""
    return policy_site.root / "site"


def text(page: Path) -> str:
    return "\n".join(parse(page).article_lines())


def html(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def policy_page(site: Path, version: str = "") -> Path:
    return site / "legal" / "privacy" / version / "index.html"


def marked(page: Path, tag: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", "", found).split())
        for found in re.findall(rf"<{tag}>(.*?)</{tag}>", html(page), re.DOTALL)
    ]


def test_policy_page_shows_the_version_in_force_on_the_build_date(site: Path) -> None:
    shown = text(policy_page(site))
    assert "Last Updated: June 1, 2026" in shown
    assert INSERTED in shown
    assert DELETED not in shown
    assert UPCOMING_INSERTED not in shown


def test_policy_page_has_a_canonical_link_and_links_the_history(site: Path) -> None:
    page = html(policy_page(site))
    assert '<link rel="canonical" href="https://example.test/legal/privacy/">' in page
    assert "history/" in parse(policy_page(site)).links


@pytest.mark.parametrize(
    ("version", "updated"),
    [(PAST, "March 24, 2026"), (CURRENT, "June 1, 2026"), (UPCOMING, "September 1, 2026")],
)
def test_every_version_has_a_permanent_page_with_its_own_date(
    site: Path, version: str, updated: str
) -> None:
    assert f"Last Updated: {updated}" in text(policy_page(site, version))


def test_past_version_says_it_is_no_longer_in_force_and_links_the_current_one(
    site: Path,
) -> None:
    page = policy_page(site, PAST)
    assert "This version is no longer in force" in text(page)
    assert "It applied from March 24, 2026 until June 1, 2026." in text(page)
    assert "../" in parse(page).links
    assert "no longer in force" not in text(policy_page(site, CURRENT))


def test_current_page_announces_the_upcoming_version_and_links_it_and_its_changes(
    site: Path,
) -> None:
    page = policy_page(site)
    assert "An updated policy takes effect on September 1, 2026" in text(page)
    assert {f"{UPCOMING}/", f"{UPCOMING}/changes/"} <= set(parse(page).links)


def test_upcoming_version_page_says_when_it_takes_effect(site: Path) -> None:
    assert "This version takes effect on September 1, 2026" in text(policy_page(site, UPCOMING))


def test_upcoming_version_becomes_current_on_its_date_without_an_edit(tmp_path: Path) -> None:
    built = PolicySite(tmp_path).write(FIXTURE_VERSIONS).built(build_date=UPCOMING)
    shown = text(policy_page(built))
    assert "Last Updated: September 1, 2026" in shown
    assert "An updated policy takes effect" not in shown
    assert f'<meta name="policy-version" content="{UPCOMING}">' in html(built / "index.html")


def test_every_page_carries_the_policy_version_in_force(site: Path) -> None:
    for page in html_pages(site):
        assert f'<meta name="policy-version" content="{CURRENT}">' in html(page), page


def test_history_lists_every_version_newest_first_with_summaries(site: Path) -> None:
    lines = parse(site / "legal" / "privacy" / "history" / "index.html").article_lines()
    dated = [line for line in lines if re.match(r"^\w+ \d+, 2026 \(", line)]
    assert dated == [
        "September 1, 2026 (upcoming)",
        "June 1, 2026 (in force)",
        "March 24, 2026 (no longer in force)",
    ]
    for summary in ("The first version.", "Cookie choices are recorded."):
        assert summary in lines


def test_redline_marks_the_inserted_and_the_deleted_sentence(site: Path) -> None:
    changes = policy_page(site, CURRENT).parent / "changes" / "index.html"
    assert INSERTED in marked(changes, "ins")
    assert DELETED in marked(changes, "del")
    assert "Last Updated: March 24, 2026" not in text(changes)
    assert "March 24," in marked(changes, "del")
    assert "June 1," in marked(changes, "ins")


def test_redline_between_later_versions_marks_only_their_change(site: Path) -> None:
    changes = policy_page(site, UPCOMING).parent / "changes" / "index.html"
    assert UPCOMING_INSERTED in marked(changes, "ins")
    assert INSERTED not in marked(changes, "ins")


def test_redlines_leave_out_the_notices_around_the_text(site: Path) -> None:
    redline = html(policy_page(site, CURRENT).parent / "changes" / "index.html").split(
        'class="cc-redline"'
    )[1]
    assert "This version is no longer in force" not in redline
    assert "retention schedule" not in redline and "headerlink" not in redline


def test_a_dirty_rebuild_shows_the_same_redlines(policy_site: PolicySite, tmp_path: Path) -> None:
    """``mkdocs serve --dirty`` rebuilds only changed files: the versions' pages are skipped, so
    the redlines render the versions themselves, and must come out the same."""
    # A copy of the full build, its times kept: --dirty compares them to the sources'.
    policy = PolicySite(tmp_path / "copy")
    shutil.copytree(policy_site.root, policy.root, symlinks=True)
    changes = policy.root / "site" / "legal" / "privacy" / CURRENT / "changes" / "index.html"
    full = html(changes)
    # Not --strict: MkDocs warns that a dirty build may get links wrong.
    result = subprocess.run(
        [BIN / "mkdocs", "build", "--dirty", "--verbose", "-f", policy.config],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "CARECALLER_BUILD_DATE": BUILD_DATE},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Building page legal/privacy/{CURRENT}.md" not in result.stderr  # skipped
    assert f"Building page legal/privacy/{CURRENT}/changes.md" in result.stderr  # rebuilt
    assert html(changes) == full


def test_no_redline_page_for_the_first_version(site: Path) -> None:
    assert not (policy_page(site, PAST).parent / "changes").exists()


def test_search_finds_the_policy_in_force_once_and_no_earlier_copy(site: Path) -> None:
    """Every page loads the search index: each version's page and redline would add a copy of
    the policy to it. Search leads to /legal/privacy/ and the history, which link the rest."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    pages = {doc["location"].split("#")[0] for doc in index["docs"]}
    assert {"legal/privacy/", "legal/privacy/history/"} <= pages
    assert not [page for page in pages if re.match(r"legal/privacy/\d{4}-", page)]
    in_force = [doc for doc in index["docs"] if INSERTED in doc["text"]]
    assert [doc["location"].split("#")[0] for doc in in_force] == ["legal/privacy/"]


def test_feed_is_atom_with_one_entry_per_version(site: Path) -> None:
    feed = ET.parse(site / "legal" / "privacy" / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        "Privacy Policy effective March 24, 2026",
        "Privacy Policy effective June 1, 2026",
        "Privacy Policy effective September 1, 2026",
    ]
    for entry, version in zip(entries, (PAST, CURRENT, UPCOMING), strict=True):
        assert entry.findtext(f"{ATOM}id") == f"https://example.test/legal/privacy/{version}/"
        assert entry.findtext(f"{ATOM}updated", "").startswith(version)
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href") == entry.findtext(f"{ATOM}id")
        assert entry.findtext(f"{ATOM}summary")


BAD_FILES = {
    "malformed front matter": (
        "---\neffective: 2026-06-01\nsummary: [unclosed\n---\n# Privacy Policy\n",
        "front matter is not valid YAML",
    ),
    "no front matter": ("# Privacy Policy\n", "no front matter"),
    "missing date": (
        "---\nsummary: Something.\n---\n# Privacy Policy\n",
        "front matter has no 'effective' date",
    ),
    "invalid date": (
        "---\neffective: 2026-06-31\nsummary: Something.\n---\n# Privacy Policy\n",
        "front matter is not valid YAML (day is out of range for month)",
    ),
    "missing summary": (
        "---\neffective: 2026-06-01\n---\n# Privacy Policy\n",
        "front matter has no 'summary'",
    ),
    "same date as another file": (
        version_file(PAST, "Copied and not updated.", SEED_BODY),
        f"{PAST}.md takes effect on the same date ({PAST})",
    ),
    "hand-typed Last Updated": (
        version_file(CURRENT, "Something.", "# Privacy Policy\n\nLast Updated: June 1, 2026\n"),
        "delete the 'Last Updated' line",
    ),
}


@pytest.mark.parametrize(("content", "message"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_build_fails_naming_the_malformed_version_file(
    tmp_path: Path, content: str, message: str
) -> None:
    bad = version_file(PAST, "The first version.", SEED_BODY)
    site = PolicySite(tmp_path).write({PAST: bad, CURRENT: content})
    result = site.build()
    assert result.returncode != 0
    assert f"{site.policy_dir / CURRENT}.md" in result.stderr
    assert message in result.stderr


def test_build_fails_on_a_version_dated_before_the_first(tmp_path: Path) -> None:
    early = "2025-12-31"
    site = PolicySite(tmp_path).write(
        {PAST: FIXTURE_VERSIONS[PAST], early: version_file(early, "Too early.", SEED_BODY)}
    )
    result = site.build()
    assert result.returncode != 0
    assert f"{site.policy_dir / early}.md" in result.stderr
    assert f"earlier than the first version's date {PAST}" in result.stderr


def retention_row(site: Path, label: str) -> str:
    lines = text(site / "legal" / "retention" / "index.html").splitlines()
    return " | ".join(lines[lines.index(label) : lines.index(label) + 3])


@pytest.mark.parametrize("days", [30, 730])
def test_retention_page_and_purge_cutoff_follow_the_configured_period(
    tmp_path: Path, days: int
) -> None:
    retention = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["extra"][
        "retention"
    ]
    retention["contact"]["days"] = days
    site = PolicySite(tmp_path).write({PAST: FIXTURE_VERSIONS[PAST]}, retention=retention)
    built = site.built()
    assert retention_row(built, "Contact inquiries") == (
        f"Contact inquiries | {days} days | {retention['contact']['extended_by']}"
    )
    now = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)
    cutoff = registry.load(site.config).retention["contact"].cutoff(now)
    assert cutoff == now - dt.timedelta(days=days)


def test_the_schedule_says_staff_mailbox_copies_follow_the_mailboxs_retention(
    tmp_path: Path, built_site: Path
) -> None:
    real = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["extra"]
    mailbox = real["notifications"]
    assert retention_row(built_site, mailbox["label"]) == (
        f"{mailbox['label']} | {mailbox['kept']} | {mailbox['note']}"
    )
    changed = {**mailbox, "kept": "Deleted by the mailbox after 90 days"}
    site = PolicySite(tmp_path).write({PAST: FIXTURE_VERSIONS[PAST]}, notifications=changed)
    assert retention_row(site.built(), mailbox["label"]) == (
        f"{mailbox['label']} | Deleted by the mailbox after 90 days | {mailbox['note']}"
    )


def test_real_policy_links_the_retention_schedule_after_its_retention_section(
    built_site: Path,
) -> None:
    lines = parse(policy_page(built_site)).article_lines()
    schedule = lines.index("Retention schedule")
    assert lines.index("9. Data Retention") < schedule < lines.index("10. Security")
    assert "../retention/" in parse(policy_page(built_site)).links
    assert "Cookie-consent records" in text(built_site / "legal" / "retention" / "index.html")


def many_versions(count: int) -> dict[str, str]:
    """``count`` versions a week apart, each adding one sentence to the one before."""
    versions, body = {}, SEED_BODY
    for week in range(count):
        effective = (dt.date(2026, 3, 24) + dt.timedelta(weeks=week)).isoformat()
        versions[effective] = version_file(effective, f"Change {week}.", body)
        body = body.replace("## 10. Security", f"Sentence number {week}.\n\n## 10. Security")
    return versions


def test_fifty_versions_build_quickly_into_two_pages_per_version(
    tmp_path: Path, site: Path
) -> None:
    started = time.monotonic()
    built = PolicySite(tmp_path).write(many_versions(50)).built(build_date="2027-12-31")
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"{elapsed:.1f}s"
    # A permanent page and a redline per version: the site grows linearly, not per pair.
    assert len(list(html_pages(built))) - len(list(html_pages(site))) == 2 * (50 - 3)


@pytest.fixture
def served_site(site: Path) -> Iterator[str]:
    """The fixture site over HTTP, as the compare script fetches redlines from it."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_history_compares_any_two_versions_in_the_browser(served_site: str, page: Any) -> None:
    page.goto(f"{served_site}/legal/privacy/history/?from={PAST}&to={UPCOMING}")
    result = page.locator(".cc-compare__result")
    result.locator("section").nth(1).locator("ins").first.wait_for()
    assert result.locator("section > h3").all_inner_texts() == [
        "Changes effective June 1, 2026",
        "Changes effective September 1, 2026",
    ]
    inserted = result.locator("ins").all_inner_texts()
    assert INSERTED in inserted and UPCOMING_INSERTED in inserted
    assert DELETED in result.locator("del").all_inner_texts()
