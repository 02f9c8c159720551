"""What the site build and the service must agree on, read from one file: ``mkdocs.yml``.

The consent categories and banner text (``extra.consent``), the retention periods
(``extra.retention``) and the Privacy Policy versions (``docs/legal/privacy/``) are declared once,
for marketers, in the site's configuration; the service reads the same file through this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from flask import Flask

from consent_api.exc import ConfigError
from consent_api.site.forms import FORMS
from consent_api.site.policy import PolicyVersion, current_version, load_versions

#: The category every visitor has and cannot turn off; it is never a toggle.
NECESSARY = "necessary"
#: Where the policy version files live, relative to the docs folder.
POLICY_SUBDIR = Path("legal") / "privacy"
#: The kind of record a cookie choice becomes.
CONSENT = "consent"
#: The kinds of record the forms' submissions become, one per form (``forms.FORMS``).
INQUIRY_KINDS = tuple(FORMS)
#: The kind of record a privacy request becomes while it is open (it holds the address).
PRIVACY_REQUEST = "privacy_request"
#: The record kinds the service stores; each has a retention period.
RECORD_KINDS = (CONSENT, *INQUIRY_KINDS, PRIVACY_REQUEST)
#: What else has a retention period: the analytics aggregates (daily counters, no records).
AGGREGATE_KINDS = ("analytics",)
#: The log of privacy requests (11 CCR 7101): no address, kept for its own period.
REQUEST_LOG = "request_log"
#: Every row of ``extra.retention``, in the order the published schedule lists them.
RETAINED = (*RECORD_KINDS, *AGGREGATE_KINDS, REQUEST_LOG)
#: Where a visitor's browser keeps the choice (the banner's script is told it by the build;
#: nothing else reads the browser's storage).
STORAGE_KEY = "cc.consent"
#: How long a choice lasts when ``extra.consent.expires_after_days`` is not given: six months.
DEFAULT_EXPIRES_AFTER_DAYS = 182


class Loader(yaml.SafeLoader):
    """Safe YAML that ignores the ``!!python/...`` and ``!ENV`` tags MkDocs allows."""


Loader.add_multi_constructor("", lambda loader, suffix, node: None)


@dataclass(frozen=True)
class Retention:
    """How long records of one kind are kept, and what extends it."""

    kind: str
    days: int
    label: str
    extended_by: str

    @property
    def period(self) -> dt.timedelta:
        return dt.timedelta(days=self.days)

    def cutoff(self, now: dt.datetime) -> dt.datetime:
        """Records of this kind created before this instant are due for the purge at ``now``."""
        return now - self.period


@dataclass(frozen=True)
class Registry:
    """The shared declarations, as read from one ``mkdocs.yml``."""

    config_path: Path
    docs_dir: Path
    consent: dict[str, Any]
    retention: dict[str, Retention]
    versions: list[PolicyVersion] = field(repr=False)
    #: Where the site's forms post (``extra.api_base``): this service's /api/, seen by the site.
    api_base: str = "/api"
    #: What the schedule says of notification copies in staff mailboxes (``extra.notifications``).
    mailbox_copies: MailboxCopies | None = None
    #: The site's public address (``site_url``), for links in emails.
    site_url: str = ""

    # Cached: the declarations do not change while the registry lives, and every consent
    # post asks for these.
    @cached_property
    def categories(self) -> tuple[str, ...]:
        """The optional consent categories, in the order the banner shows them."""
        return tuple(self.consent.get("cookies") or {})

    @cached_property
    def banner_fingerprint(self) -> str:
        """A hash of the banner's text and categories: a change re-prompts every visitor."""
        canonical = json.dumps(self.consent, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def expires_after_days(self) -> int:
        """How many days a choice lasts before the banner asks again."""
        days: int = self.consent.get("expires_after_days", DEFAULT_EXPIRES_AFTER_DAYS)
        return days

    @cached_property
    def version_ids(self) -> tuple[str, ...]:
        return tuple(version.id for version in self.versions)

    def current_version(self, today: dt.date | None = None) -> PolicyVersion:
        return current_version(self.versions, today or dt.datetime.now(dt.UTC).date())


def read_retention(extra: Mapping[str, Any], config_path: Path) -> dict[str, Retention]:
    """The retention periods declared under ``extra.retention``; raises ``ConfigError``."""
    declared = extra.get("retention") or {}
    periods: dict[str, Retention] = {}
    for kind in RETAINED:
        entry = declared.get(kind)
        if not isinstance(entry, dict) or not isinstance(entry.get("days"), int):
            raise ConfigError(f"{config_path}: extra.retention.{kind}.days must be a whole number")
        if entry["days"] < 1:
            raise ConfigError(f"{config_path}: extra.retention.{kind}.days must be at least 1")
        periods[kind] = Retention(
            kind=kind,
            days=entry["days"],
            label=str(entry.get("label", kind)),
            extended_by=str(entry.get("extended_by", "")),
        )
    return periods


@dataclass(frozen=True)
class MailboxCopies:
    """The schedule's line about the copies of inquiries that notifications put in staff
    mailboxes, which the website's purge cannot reach (``extra.notifications``)."""

    label: str
    kept: str
    note: str


MAILBOX_COPIES_DEFAULTS = {
    "label": "Inquiry notification emails in staff mailboxes",
    "kept": "Under the receiving mailbox's own retention",
    "note": "Deleting the website's record of an inquiry does not delete these copies.",
}


def read_mailbox_copies(extra: Mapping[str, Any], config_path: Path) -> MailboxCopies:
    """``extra.notifications``: what the schedule says about staff-mailbox copies."""
    declared = extra.get("notifications") or {}
    if not isinstance(declared, dict):
        raise ConfigError(f"{config_path}: extra.notifications must be a mapping")
    values = {**MAILBOX_COPIES_DEFAULTS, **declared}
    for name in MAILBOX_COPIES_DEFAULTS:
        if not isinstance(values[name], str) or not values[name].strip():
            raise ConfigError(f"{config_path}: extra.notifications.{name} must be text")
    return MailboxCopies(**{name: values[name].strip() for name in MAILBOX_COPIES_DEFAULTS})


def first_effective(extra: Mapping[str, Any], config_path: Path) -> dt.date | None:
    """``extra.policy.first_effective``: the date of the first version, anchoring the history."""
    value = (extra.get("policy") or {}).get("first_effective")
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise ConfigError(
            f"{config_path}: extra.policy.first_effective must be a date (YYYY-MM-DD), "
            f"not {value!r}"
        ) from error


def build(
    config_path: Path, extra: Mapping[str, Any], docs_dir: Path, site_url: str = ""
) -> Registry:
    """The registry from an already-parsed configuration (the site build has one)."""
    consent = extra.get("consent") or {}
    if NECESSARY in (consent.get("cookies") or {}):
        raise ConfigError(
            f"{config_path}: '{NECESSARY}' is always on and cannot be a consent category"
        )
    return Registry(
        config_path=config_path,
        docs_dir=docs_dir,
        consent=consent,
        retention=read_retention(extra, config_path),
        versions=load_versions(docs_dir / POLICY_SUBDIR, first_effective(extra, config_path)),
        api_base=str(extra.get("api_base") or "/api").rstrip("/"),
        mailbox_copies=read_mailbox_copies(extra, config_path),
        site_url=site_url,
    )


def load(config_path: Path | str) -> Registry:
    """Read the registry from ``config_path`` (a ``mkdocs.yml``); raises ``ConfigError``."""
    path = Path(config_path).resolve()
    try:
        config = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read the site configuration {path}: {error}") from error
    docs_dir = (path.parent / config.get("docs_dir", "docs")).resolve()
    return build(path, config.get("extra") or {}, docs_dir, str(config.get("site_url") or ""))


EXTENSION = "consent_api.site.registry"


def init_app(app: Flask) -> None:
    """Read ``SITE_CONFIG`` once at start; a new policy version or category needs a restart."""
    app.extensions[EXTENSION] = load(app.config["SITE_CONFIG"])


def get(app: Flask | None = None) -> Registry:
    """The registry of the current (or given) app."""
    from flask import current_app  # the site build uses this module without Flask

    registry: Registry = (app or current_app).extensions[EXTENSION]
    return registry
