"""The versioned Privacy Policy on the site, from ``consent_api.site.policy``'s list of versions.

Marketers add ``docs/legal/privacy/YYYY-MM-DD.md``; this hook publishes, from those files alone:
``/legal/privacy/`` (the version in force on the build date), a permanent page per version, what
each version changed (``/legal/privacy/<date>/changes/``), the history with a comparison, and the
Atom feed ``/legal/privacy/feed.xml``. It also hands every template ``policy_version``.

The build date is today (UTC), or ``CARECALLER_BUILD_DATE=YYYY-MM-DD`` to preview another day.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import markdown
import redline
from feedgen.feed import FeedGenerator
from jinja2 import Environment
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_build_datetime, get_relative_url

from consent_api.exc import ConfigError
from consent_api.site import registry
from consent_api.site.policy import PolicyVersion, current_version, previous_version

BUILD_DATE_VARIABLE = "CARECALLER_BUILD_DATE"
POLICY = registry.POLICY_SUBDIR.as_posix()
INDEX = f"{POLICY}/index.md"
HISTORY = f"{POLICY}/history.md"
FEED = f"{POLICY}/feed.xml"
RETENTION = "legal/retention.md"
COOKIES = "legal/cookies.md"
_TITLE = re.compile(r"^# .*$", re.MULTILINE)
_RETENTION_SECTION = re.compile(r"^## .*\bRetention\b.*$", re.MULTILINE | re.IGNORECASE)
_COOKIES_SECTION = re.compile(r"^## .*\bCookies\b.*$", re.MULTILINE | re.IGNORECASE)
_NEXT_SECTION = re.compile(r"^#{1,2} ", re.MULTILINE)


@dataclass
class _Policy:
    """What one build knows about the policy."""

    today: dt.date
    versions: list[PolicyVersion]
    current: PolicyVersion
    #: Each version's text as HTML, from its own page in this build: what the redlines compare.
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


_policy: _Policy | None = None


def version_uri(version: PolicyVersion) -> str:
    return f"{POLICY}/{version.id}.md"


def changes_uri(version: PolicyVersion) -> str:
    return f"{POLICY}/{version.id}/changes.md"


def long_date(date: dt.date) -> str:
    return f"{date:%B} {date.day}, {date.year}"


def build_date() -> dt.date:
    """The day the build publishes for: ``CARECALLER_BUILD_DATE`` or today in UTC."""
    value = os.environ.get(BUILD_DATE_VARIABLE, "").strip()
    if not value:
        return get_build_datetime().date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise PluginError(
            f"{BUILD_DATE_VARIABLE} must be a date (YYYY-MM-DD), not {value!r}"
        ) from error


def _state() -> _Policy:
    if _policy is None:
        raise PluginError("the policy hook's on_config did not run")
    return _policy


def _link(source: str, target: str) -> str:
    """A Markdown link target from one source file to another (MkDocs checks and rewrites it)."""
    return posixpath.relpath(target, posixpath.dirname(source))


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    global _policy
    try:
        versions = registry.build(
            Path(config.config_file_path), config.extra, Path(config.docs_dir)
        ).versions
    except ConfigError as error:
        raise PluginError(str(error)) from error
    today = build_date()
    _policy = _Policy(today, versions, current_version(versions, today))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    policy = _state()
    for version in policy.versions:
        if (file := files.get_file_from_path(version_uri(version))) is not None:
            file.inclusion = InclusionLevel.NOT_IN_NAV

    def add(src_uri: str, content: str | bytes, in_nav: bool = False) -> File:
        inclusion = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
        file = File.generated(config, src_uri, content=content, inclusion=inclusion)
        files.append(file)
        return file

    add(INDEX, policy.current.source(), in_nav=True)
    changes = {
        v.id: add(changes_uri(v), _changes_markdown(policy, v, before))
        for v in policy.versions
        if (before := previous_version(policy.versions, v))
    }
    history = File(HISTORY, None, config.site_dir, config.use_directory_urls)
    links = {key: get_relative_url(file.url, history.url) for key, file in changes.items()}
    add(HISTORY, _history_markdown(policy, links), in_nav=True)
    add(FEED, _feed(policy, config))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    policy = _state()
    src_uri = page.file.src_uri
    if src_uri != INDEX and (policy.version_at(src_uri) or policy.changed_by(src_uri)):
        # Search finds the policy at /legal/privacy/ and every version from the history. Each
        # version's own page and redline would repeat the policy's text in the search index,
        # which every page loads: one more copy per version.
        page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
    version = policy.current if src_uri == INDEX else policy.version_at(src_uri)
    if version is None:
        return markdown
    if src_uri != INDEX:
        page.meta["title"] = f"Privacy Policy, version of {long_date(version.effective)}"
    notices = _notices(policy, version, src_uri)
    cookies = files.get_file_from_path(COOKIES) is not None
    return _section_notices(_with_last_updated(markdown, version, notices), src_uri, cookies)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    policy = _state()
    published = policy.version_at(page.file.src_uri)
    if published is not None:
        # Kept for the redlines, which come later: generated pages follow the docs' own files.
        policy.texts[published.id] = html
        return html
    version = policy.changed_by(page.file.src_uri)
    before = previous_version(policy.versions, version) if version else None
    if version is None or before is None:
        return html
    marked = redline.redline(_text(policy, before, config), _text(policy, version, config))
    return f'{html}\n<div class="cc-redline">\n{marked}\n</div>'


def on_env(env: Environment, config: MkDocsConfig, files: Files) -> Environment:
    # Every page carries the version in force, so a consent records what its visitor was shown.
    env.globals["policy_version"] = _state().current.id
    return env


def _with_last_updated(text: str, version: PolicyVersion, notices: str) -> str:
    title = _TITLE.search(text)
    at = title.end() if title else 0
    line = f"Last Updated: {long_date(version.effective)}"
    return f"{text[:at]}\n\n{line}\n\n{notices}\n\n{text[at:].lstrip()}"


def _section_notices(text: str, src_uri: str, cookie_notice: bool) -> str:
    """The policy's words stay as written; after the sections on retention and on cookies, a
    notice of the build's own says where the site's own schedule and settings are (the latter
    where the site has its cookie notice)."""
    notices = [
        (
            _RETENTION_SECTION,
            "Retention schedule",
            "How long this website keeps each kind of record it stores, and what extends it, is "
            f"published in the [retention schedule]({_link(src_uri, RETENTION)}).",
        ),
        (
            _COOKIES_SECTION,
            "Cookie settings",
            "On this website you choose which optional cookies it may use, and change that "
            "choice at any time, from "
            f'[Cookie settings]({_link(src_uri, COOKIES)}){{ data-cc-open="" }} at the bottom '
            "of every page. The [cookie notice]"
            f"({_link(src_uri, COOKIES)}) lists what each category uses.",
        ),
    ]
    for section_title, title, body in notices:
        section = section_title.search(text)
        if section is None or (title == "Cookie settings" and not cookie_notice):
            continue
        following = _NEXT_SECTION.search(text, section.end())
        at = following.start() if following else len(text)
        text = f"{text[:at].rstrip()}\n\n{_admonition('info', title, body)}\n{text[at:]}"
    return text


def _admonition(kind: str, title: str, *lines: str) -> str:
    """A notice of the build's own, marked as such: the redlines leave it out (NOTICE)."""
    body = "\n\n".join(f"    {line}" for line in lines)
    return f'!!! {kind} {redline.NOTICE} "{title}"\n\n{body}\n'


def _notices(policy: _Policy, version: PolicyVersion, src_uri: str) -> str:
    def to(target: str) -> str:
        return _link(src_uri, target)

    when = long_date(version.effective)
    history = f"[Every version and what changed]({to(HISTORY)})."
    if src_uri == INDEX:
        upcoming = [v for v in policy.versions if v.effective > policy.today]
        notices = [
            _admonition(
                "info",
                f"An updated policy takes effect on {long_date(v.effective)}",
                f"{v.summary} [Read the updated policy]({to(version_uri(v))}) or "
                f"[see what changes]({to(changes_uri(v))}).",
            )
            for v in upcoming
        ]
        return "\n".join([*notices, history])
    if version.effective > policy.today:
        return _admonition(
            "info",
            f"This version takes effect on {when}",
            f"Until then, [the current Privacy Policy]({to(INDEX)}) applies. "
            f"[See what changes]({to(changes_uri(version))}). {history}",
        )
    if version is not policy.current:
        later = [v for v in policy.versions if v.effective > version.effective]
        return _admonition(
            "warning",
            "This version is no longer in force",
            f"It applied from {when} until {long_date(later[0].effective)}. "
            f"[Read the current Privacy Policy]({to(INDEX)}). {history}",
        )
    return _admonition(
        "note",
        "This is the version in force",
        f"It has applied since {when}. [The Privacy Policy]({to(INDEX)}) always shows the "
        f"version in force. {history}",
    )


def _changes_markdown(policy: _Policy, version: PolicyVersion, before: PolicyVersion) -> str:
    uri = changes_uri(version)
    when, then = long_date(version.effective), long_date(before.effective)
    return (
        f"---\ntitle: Privacy Policy changes effective {when}\nredline: true\n---\n\n"
        f"# What changes on {when}\n\n"
        f"The Privacy Policy [effective {when}]({_link(uri, version_uri(version))}) compared "
        f"with the version [effective {then}]({_link(uri, version_uri(before))}). "
        f"[Every version]({_link(uri, HISTORY)}).\n\n"
        f"Summary of the changes: {version.summary}\n\n"
        + _admonition(
            "note",
            "How changes are marked",
            "Added words are <ins>underlined</ins> and removed words are <del>struck "
            "through</del>; screen readers announce where each addition and removal starts "
            "and ends.",
        )
    )


def _history_markdown(policy: _Policy, changes: dict[str, str]) -> str:
    def status(version: PolicyVersion) -> str:
        if version is policy.current:
            return "in force"
        return "upcoming" if version.effective > policy.today else "no longer in force"

    sections = []
    for version in reversed(policy.versions):
        links = [f"[Read this version]({_link(HISTORY, version_uri(version))})"]
        if version.id in changes:
            links.append(f"[See what changed]({_link(HISTORY, changes_uri(version))})")
        sections.append(
            f"## {long_date(version.effective)} ({status(version)}) {{ #v{version.id} }}\n\n"
            f"{version.summary}\n\n{' · '.join(links)}\n"
        )
    options = "".join(
        f'<option value="{v.id}" data-changes="{escape(changes.get(v.id, ""))}">'
        f"{long_date(v.effective)}</option>"
        for v in reversed(policy.versions)
    )
    compare = (
        '<form class="cc-compare" data-policy-compare hidden>'
        f'<label>From <select name="from">{options}</select></label> '
        f'<label>to <select name="to">{options}</select></label> '
        '<button class="md-button" type="submit">Compare</button></form>\n'
        '<div class="cc-compare__result" aria-live="polite"></div>\n'
    )
    if len(policy.versions) > 1:
        compare = (
            "## Compare two versions { #compare }\n\n"
            "Choose two versions to see every change between them, one version at a time. Each "
            f"version below also links to what it changed from the one before.\n\n{compare}\n"
        )
    else:
        compare = ""
    return (
        "---\ntitle: Privacy Policy history\npolicy_compare: true\n---\n\n"
        "# Privacy Policy history\n\n"
        f"Every version of the [Privacy Policy]({_link(HISTORY, INDEX)}), newest first, with "
        "what each one changed. Follow new versions with the "
        f"[Atom feed]({_link(HISTORY, FEED)}).\n\n{compare}" + "\n".join(sections)
    )


def _text(policy: _Policy, version: PolicyVersion, config: MkDocsConfig) -> str:
    """The version's text as HTML: from its page, or rendered here when this build skipped the
    page (``mkdocs serve --dirty`` rebuilds only changed files)."""
    if version.id not in policy.texts:
        renderer = markdown.Markdown(
            extensions=config.markdown_extensions, extension_configs=config.mdx_configs
        )
        policy.texts[version.id] = renderer.convert(_with_last_updated(version.body(), version, ""))
    return policy.texts[version.id]


def _feed(policy: _Policy, config: MkDocsConfig) -> bytes:
    site_url = config.site_url
    if not site_url:
        raise PluginError("mkdocs.yml needs a site_url: the policy feed's links are absolute")

    def url(src_uri: str) -> str:
        file = File(src_uri, None, config.site_dir, config.use_directory_urls)
        return f"{site_url.rstrip('/')}/{file.url}"

    def moment(date: dt.date) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(), dt.UTC)

    feed = FeedGenerator()
    feed.id(url(HISTORY))
    feed.title(f"{config.site_name} Privacy Policy")
    feed.subtitle("Every version of the Privacy Policy, with what it changed.")
    feed.author(name=config.site_author or config.site_name)
    feed.link(href=url(HISTORY), rel="alternate")
    feed.link(href=url(FEED), rel="self")
    feed.language("en")
    feed.updated(moment(policy.versions[-1].effective))
    for version in policy.versions:
        entry = feed.add_entry(order="append")
        entry.id(url(version_uri(version)))
        entry.title(f"Privacy Policy effective {long_date(version.effective)}")
        entry.link(href=url(version_uri(version)), rel="alternate")
        entry.summary(version.summary)
        entry.published(moment(version.effective))
        entry.updated(moment(version.effective))
    feed_xml: bytes = feed.atom_str(pretty=True)
    return feed_xml
