"""The cookie banner's configuration (``extra.consent``): what is wrong with it, and the values
every page's templates need (banner fingerprint, policy version, API base, choice lifetime).

Both builders get the same values: the MkDocs hook puts them into ``config.extra.generated``,
and ``stage.py`` writes them into the configuration it generates for another builder.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from consent_api.site import registry
from consent_api.site.registry import Registry

#: Every word the banner shows; the fingerprint hashes them, so none lives in a template.
#: ``gpc`` is said in the banner, ``gpc_honoured`` after a choice (footer, cookie notice),
#: ``more`` unfolds the description on a small screen.
LABELS = (
    "accept_all",
    "reject_all",
    "choose",
    "save",
    "close",
    "always_on",
    "more",
    "gpc",
    "gpc_honoured",
)
TOP_KEYS = {"title", "description", "expires_after_days", "links", "labels", "necessary", "cookies"}
LINK_KEYS = {"text", "url"}
CATEGORY_KEYS = {"name", "description", "cookies", "scripts"}
#: A category is a JSON key, an HTML name and an id part: keep it plain.
CATEGORY_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(_text(item) and " " not in item for item in value)


def _mapping(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _unknown(where: str, entry: dict[Any, Any], known: set[str]) -> list[str]:
    return [f"{where}.{key} is unknown" for key in sorted(map(str, entry)) if key not in known]


def _needs_text(where: str, entry: dict[Any, Any], keys: tuple[str, ...]) -> list[str]:
    return [f"{where}.{key} needs text" for key in keys if not _text(entry.get(key))]


def _link_problems(links: Any) -> list[str]:
    """The banner's links (policy, cookie notice): text, and a path on this site."""
    where = "extra.consent.links"
    if not isinstance(links, list) or not links:
        return [f"{where} must list the pages the banner links to (text and url)"]
    found = []
    for number, value in enumerate(links):
        entry = _mapping(value)
        at = f"{where}[{number}]"
        found += _unknown(at, entry, LINK_KEYS) + _needs_text(at, entry, ("text", "url"))
        # The banner never sends a visitor, or a request, to another host.
        url = urlsplit(str(entry.get("url", "")))
        if url.scheme or url.netloc:
            found.append(f"{at}.url must be a path on this site, not {entry['url']!r}")
    return found


def problems(consent: Any) -> list[str]:
    """What is wrong with an ``extra.consent`` mapping, one message per problem."""
    if not isinstance(consent, dict):
        return ["extra.consent must be a mapping"]
    where = "extra.consent"
    found = _unknown(where, consent, TOP_KEYS) + _needs_text(
        where, consent, ("title", "description")
    )
    days = consent.get("expires_after_days", registry.DEFAULT_EXPIRES_AFTER_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        found.append(f"{where}.expires_after_days must be a whole number of days, at least 1")
    found += _link_problems(consent.get("links"))
    labels = _mapping(consent.get("labels"))
    found += _unknown(f"{where}.labels", labels, set(LABELS))
    found += _needs_text(f"{where}.labels", labels, LABELS)
    found += _needs_text(
        f"{where}.necessary", _mapping(consent.get("necessary")), ("name", "description")
    )
    cookies = consent.get("cookies")
    if not isinstance(cookies, dict) or not cookies:
        return [*found, f"{where}.cookies must name at least one optional category"]
    for category, value in cookies.items():
        at = f"{where}.cookies.{category}"
        if not CATEGORY_NAME.match(str(category)) or category == registry.NECESSARY:
            found.append(f"{at}: a category is lower-case letters, digits and _, not necessary")
        entry = _mapping(value)
        # Material's own `checked` would pre-tick a box: optional categories always start off.
        found += _unknown(at, entry, CATEGORY_KEYS) + _needs_text(
            at, entry, ("name", "description")
        )
        found += [
            f"{at}.{key} must be a list of names without spaces"
            for key in ("cookies", "scripts")
            if not _names(entry.get(key, []))
        ]
    return found


#: Where the templates find what the build computed: ``config.extra.generated``.
GENERATED = "generated"


def template_values(reg: Registry, today: dt.date) -> dict[str, Any]:
    """What the templates read from ``config.extra.generated``: plain strings and numbers."""
    return {
        "banner_fingerprint": reg.banner_fingerprint,
        "policy_version": reg.current_version(today).id,
        "api_base": reg.api_base,
        "expires_after_days": reg.expires_after_days,
        "storage_key": registry.STORAGE_KEY,
    }
