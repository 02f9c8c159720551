"""The pages that list the Privacy Policy's versions: each redline page's Markdown (its text
comes from ``policy_pages.redline_html``), the history with a comparison, and the Atom feed.
"""

from __future__ import annotations

import datetime as dt
from html import escape

from feedgen.feed import FeedGenerator

from consent_api.exc import ConfigError
from consent_api.site.policy import PolicyVersion, previous_version
from consent_api.site.policy_pages import (
    FEED,
    HISTORY,
    INDEX,
    PolicySite,
    admonition,
    changes_uri,
    link,
    long_date,
    page_url,
    relative_url,
    version_uri,
)


def generated_pages(site: PolicySite) -> dict[str, str]:
    """The Markdown pages no file holds: the policy in force, each redline page, the history."""
    pages = {INDEX: site.current.source()}
    for version in site.versions:
        before = previous_version(site.versions, version)
        if before is not None:
            pages[changes_uri(version)] = _changes_markdown(version, before)
    links = {
        v.id: relative_url(page_url(changes_uri(v)), page_url(HISTORY))
        for v in site.versions
        if changes_uri(v) in pages
    }
    pages[HISTORY] = _history_markdown(site, links)
    return pages


def _changes_markdown(version: PolicyVersion, before: PolicyVersion) -> str:
    uri = changes_uri(version)
    when, then = long_date(version.effective), long_date(before.effective)
    return (
        f"---\ntitle: Privacy Policy changes effective {when}\nredline: true\n---\n\n"
        f"# What changes on {when}\n\n"
        f"The Privacy Policy [effective {when}]({link(uri, version_uri(version))}) compared "
        f"with the version [effective {then}]({link(uri, version_uri(before))}). "
        f"[Every version]({link(uri, HISTORY)}).\n\n"
        f"Summary of the changes: {version.summary}\n\n"
        + admonition(
            "note",
            "How changes are marked",
            "Added words are <ins>underlined</ins> and removed words are <del>struck "
            "through</del>; screen readers announce where each addition and removal starts "
            "and ends.",
        )
    )


def _history_markdown(site: PolicySite, changes: dict[str, str]) -> str:
    def status(version: PolicyVersion) -> str:
        if version is site.current:
            return "in force"
        return "upcoming" if version.effective > site.today else "no longer in force"

    sections = []
    for version in reversed(site.versions):
        links = [f"[Read this version]({link(HISTORY, version_uri(version))})"]
        if version.id in changes:
            links.append(f"[See what changed]({link(HISTORY, changes_uri(version))})")
        sections.append(
            f"## {long_date(version.effective)} ({status(version)}) {{ #v{version.id} }}\n\n"
            f"{version.summary}\n\n{' · '.join(links)}\n"
        )
    options = "".join(
        f'<option value="{v.id}" data-changes="{escape(changes.get(v.id, ""))}">'
        f"{long_date(v.effective)}</option>"
        for v in reversed(site.versions)
    )
    compare = (
        '<form class="cc-compare" data-policy-compare hidden>'
        f'<label>From <select name="from">{options}</select></label> '
        f'<label>to <select name="to">{options}</select></label> '
        '<button class="md-button" type="submit">Compare</button></form>\n'
        '<div class="cc-compare__result" aria-live="polite"></div>\n'
    )
    if len(site.versions) > 1:
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
        f"Every version of the [Privacy Policy]({link(HISTORY, INDEX)}), newest first, with "
        "what each one changed. Follow new versions with the "
        f"[Atom feed]({link(HISTORY, FEED)}).\n\n{compare}" + "\n".join(sections)
    )


def feed_xml(site: PolicySite, *, site_url: str, site_name: str, author: str) -> bytes:
    """The Atom feed of every version; its links are absolute, so it needs ``site_url``."""
    if not site_url:
        raise ConfigError("mkdocs.yml needs a site_url: the policy feed's links are absolute")

    def url(src_uri: str) -> str:
        return f"{site_url.rstrip('/')}/{page_url(src_uri)}"

    def moment(date: dt.date) -> dt.datetime:
        return dt.datetime.combine(date, dt.time(), dt.UTC)

    feed = FeedGenerator()
    feed.id(url(HISTORY))
    feed.title(f"{site_name} Privacy Policy")
    feed.subtitle("Every version of the Privacy Policy, with what it changed.")
    feed.author(name=author or site_name)
    feed.link(href=url(HISTORY), rel="alternate")
    feed.link(href=url(FEED), rel="self")
    feed.language("en")
    feed.updated(moment(site.versions[-1].effective))
    for version in site.versions:
        entry = feed.add_entry(order="append")
        entry.id(url(version_uri(version)))
        entry.title(f"Privacy Policy effective {long_date(version.effective)}")
        entry.link(href=url(version_uri(version)), rel="alternate")
        entry.summary(version.summary)
        entry.published(moment(version.effective))
        entry.updated(moment(version.effective))
    xml: bytes = feed.atom_str(pretty=True)
    return xml
