"""The versioned Privacy Policy's pages, generated from the version files alone, for any builder.

From ``docs/legal/privacy/YYYY-MM-DD.md`` this module writes ``/legal/privacy/`` (the version in
force on the build date), the notices on each version's permanent page and the redlines of what
each version changed; ``policy_history`` writes the pages that list the versions. The MkDocs hook (``overrides/hooks/policy.py``) hands these to MkDocs in memory; ``stage.py`` writes
them into the folder another builder reads. Links between pages are Markdown links to source
files, which either builder checks and rewrites.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consent_api.exc import ConfigError
from consent_api.site import redline
from consent_api.site.policy import (
    PolicyVersion,
    current_version,
    previous_version,
    upcoming_versions,
)
from consent_api.site.registry import POLICY_SUBDIR, Registry

BUILD_DATE_VARIABLE = "CARECALLER_BUILD_DATE"
POLICY = POLICY_SUBDIR.as_posix()
INDEX = f"{POLICY}/index.md"
HISTORY = f"{POLICY}/history.md"
FEED = f"{POLICY}/feed.xml"
RETENTION = "legal/retention.md"
COOKIES = "legal/cookies.md"
REQUESTS = "legal/privacy/requests/index.md"
_TITLE = re.compile(r"^# .*$", re.MULTILINE)
_RETENTION_SECTION = re.compile(r"^## .*\bRetention\b.*$", re.MULTILINE | re.IGNORECASE)
_COOKIES_SECTION = re.compile(r"^## .*\bCookies\b.*$", re.MULTILINE | re.IGNORECASE)
_RIGHTS_SECTION = re.compile(r"^## .*\bRights\b.*$", re.MULTILINE | re.IGNORECASE)
_NEXT_SECTION = re.compile(r"^#{1,2} ", re.MULTILINE)


@dataclass
class PolicySite:
    """What one build knows about the policy."""

    today: dt.date
    versions: list[PolicyVersion]
    current: PolicyVersion
    #: Whether the site has its cookie notice (``legal/cookies.md``), which a notice points to.
    cookie_notice: bool = False
    #: Whether the site has its privacy-request page (``legal/privacy/requests/``).
    requests_page: bool = False
    #: Each version's text as HTML, as the build rendered it: what the redlines compare.
    texts: dict[str, str] = field(default_factory=dict)
    # Every page asks whether it is a version or a redline: look it up, not through the list.
    _at: dict[str, PolicyVersion] = field(init=False)
    _changes: dict[str, PolicyVersion] = field(init=False)

    def __post_init__(self) -> None:
        self._at = {version_uri(v): v for v in self.versions}
        self._changes = {changes_uri(v): v for v in self.versions}

    def version_at(self, src_uri: str) -> PolicyVersion | None:
        return self._at.get(src_uri)

    def changed_by(self, src_uri: str) -> PolicyVersion | None:
        return self._changes.get(src_uri)


def policy_site(registry: Registry, today: dt.date) -> PolicySite:
    """The policy as published on ``today``."""
    versions = registry.versions
    cookie_notice = (registry.docs_dir / COOKIES).is_file()
    requests_page = (registry.docs_dir / REQUESTS).is_file()
    return PolicySite(
        today, versions, current_version(versions, today), cookie_notice, requests_page
    )


def version_uri(version: PolicyVersion) -> str:
    return f"{POLICY}/{version.id}.md"


def changes_uri(version: PolicyVersion) -> str:
    return f"{POLICY}/{version.id}/changes.md"


def long_date(date: dt.date) -> str:
    return f"{date:%B} {date.day}, {date.year}"


def build_date() -> dt.date:
    """The day the build publishes for: ``CARECALLER_BUILD_DATE``, else the day of
    ``SOURCE_DATE_EPOCH`` (reproducible builds), else today in UTC."""
    value = os.environ.get(BUILD_DATE_VARIABLE, "").strip()
    if not value:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC)
        return moment.date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise ConfigError(
            f"{BUILD_DATE_VARIABLE} must be a date (YYYY-MM-DD), not {value!r}"
        ) from error


def page_url(src_uri: str) -> str:
    """The URL a source file is published at, with directory URLs (``a/b.md`` -> ``a/b/``)."""
    stem, ext = posixpath.splitext(src_uri)
    if ext != ".md":
        return src_uri
    if posixpath.basename(stem) in ("index", "README"):
        directory = posixpath.dirname(stem)
        return f"{directory}/" if directory else ""
    return f"{stem}/"


def relative_url(url: str, other: str) -> str:
    """``url`` relative to the page at ``other`` (both site-relative, as MkDocs computes it)."""
    other_parts = [part for part in other.split("/") if part]
    dest_parts = [part for part in url.split("/") if part]
    common = 0
    for a, b in zip(other_parts, dest_parts, strict=False):
        if a != b:
            break
        common += 1
    rel = "/".join([".."] * (len(other_parts) - common) + dest_parts[common:]) or "."
    return rel + "/" if url.endswith("/") else rel


def link(source: str, target: str) -> str:
    """A Markdown link target from one source file to another (the builder checks it)."""
    return posixpath.relpath(target, posixpath.dirname(source))


def in_search(site: PolicySite, src_uri: str) -> bool:
    """Whether a page goes into the search index, which every page loads.

    Search finds the policy at /legal/privacy/ and every version from the history. Each
    version's own page and redline would repeat the policy's text: one more copy per version.
    """
    return src_uri == INDEX or not (site.version_at(src_uri) or site.changed_by(src_uri))


def page_markdown(site: PolicySite, src_uri: str, markdown: str) -> tuple[str, dict[str, Any]]:
    """A policy page's Markdown with its notices, and the front matter it gains; other pages
    come back unchanged."""
    meta: dict[str, Any] = {}
    if not in_search(site, src_uri):
        meta["search"] = {"exclude": True}
    version = site.current if src_uri == INDEX else site.version_at(src_uri)
    if version is None:
        return markdown, meta
    if src_uri != INDEX:
        meta["title"] = f"Privacy Policy, version of {long_date(version.effective)}"
    notices = _notices(site, version, src_uri)
    text = with_last_updated(markdown, version, notices)
    return _section_notices(text, src_uri, site), meta


def redline_html(site: PolicySite, src_uri: str, render: Callable[[str], str]) -> str | None:
    """The marked-up changes for a redline page (``None`` for any other page). ``render``
    turns a version's Markdown into HTML when the build has not kept that version's page."""
    version = site.changed_by(src_uri)
    before = previous_version(site.versions, version) if version else None
    if version is None or before is None:
        return None
    marked = redline.redline(_text(site, before, render), _text(site, version, render))
    return f'<div class="cc-redline">\n{marked}\n</div>'


def _text(site: PolicySite, version: PolicyVersion, render: Callable[[str], str]) -> str:
    if version.id not in site.texts:
        site.texts[version.id] = render(with_last_updated(version.body(), version, ""))
    return site.texts[version.id]


def with_last_updated(text: str, version: PolicyVersion, notices: str) -> str:
    title = _TITLE.search(text)
    at = title.end() if title else 0
    line = f"Last Updated: {long_date(version.effective)}"
    return f"{text[:at]}\n\n{line}\n\n{notices}\n\n{text[at:].lstrip()}"


def _section_notices(text: str, src_uri: str, site: PolicySite) -> str:
    """The policy's words stay as written; after the sections on retention, on cookies and on
    rights, a notice of the build's own says where the site's own schedule, settings and
    request page are (the latter two where the site has those pages)."""
    notices = [
        (
            _RETENTION_SECTION,
            "Retention schedule",
            "How long this website keeps each kind of record it stores, and what extends it, is "
            f"published in the [retention schedule]({link(src_uri, RETENTION)}).",
        ),
        (
            _COOKIES_SECTION,
            "Cookie settings",
            "On this website you choose which optional cookies it may use, and change that "
            "choice at any time, from "
            f'[Cookie settings]({link(src_uri, COOKIES)}){{ data-cc-open="" }} at the bottom '
            "of every page. The [cookie notice]"
            f"({link(src_uri, COOKIES)}) lists what each category uses.",
        ),
        (
            _RIGHTS_SECTION,
            "Privacy requests",
            "To ask what this website holds about you, or to have it deleted or corrected, use "
            f"the [privacy request form]({link(src_uri, REQUESTS)}): we confirm the request by "
            "email, tell you the date our answer is due, and answer by email.",
        ),
    ]
    wanted = {"Cookie settings": site.cookie_notice, "Privacy requests": site.requests_page}
    for section_title, title, body in notices:
        section = section_title.search(text)
        if section is None or not wanted.get(title, True):
            continue
        following = _NEXT_SECTION.search(text, section.end())
        at = following.start() if following else len(text)
        text = f"{text[:at].rstrip()}\n\n{admonition('info', title, body)}\n{text[at:]}"
    return text


def admonition(kind: str, title: str, *lines: str) -> str:
    """A notice of the build's own, marked as such: the redlines leave it out (NOTICE)."""
    body = "\n\n".join(f"    {line}" for line in lines)
    return f'!!! {kind} {redline.NOTICE} "{title}"\n\n{body}\n'


def _notices(site: PolicySite, version: PolicyVersion, src_uri: str) -> str:
    def to(target: str) -> str:
        return link(src_uri, target)

    when = long_date(version.effective)
    history = f"[Every version and what changed]({to(HISTORY)})."
    if src_uri == INDEX:
        notices = [
            admonition(
                "info",
                f"An updated policy takes effect on {long_date(v.effective)}",
                f"{v.summary} [Read the updated policy]({to(version_uri(v))}) or "
                f"[see what changes]({to(changes_uri(v))}).",
            )
            for v in upcoming_versions(site.versions, site.today)
        ]
        return "\n".join([*notices, history])
    if version.effective > site.today:
        return admonition(
            "info",
            f"This version takes effect on {when}",
            f"Until then, [the current Privacy Policy]({to(INDEX)}) applies. "
            f"[See what changes]({to(changes_uri(version))}). {history}",
        )
    if version is not site.current:
        later = [v for v in site.versions if v.effective > version.effective]
        return admonition(
            "warning",
            "This version is no longer in force",
            f"It applied from {when} until {long_date(later[0].effective)}. "
            f"[Read the current Privacy Policy]({to(INDEX)}). {history}",
        )
    return admonition(
        "note",
        "This is the version in force",
        f"It has applied since {when}. [The Privacy Policy]({to(INDEX)}) always shows the "
        f"version in force. {history}",
    )
