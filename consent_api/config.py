"""Configuration: defaults, then ``instance/config.py`` and ``CONSENT_API_*`` variables, or a
test mapping instead of both."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from consent_api.exc import ConfigError

#: The checkout this package lives in (editable install); paths below default to it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Signs records only with ENV=development; any other environment refuses to start with it.
DEV_SECRET_KEY = "development-only-secret-not-for-production"

DEFAULTS: dict[str, Any] = {
    # "production" refuses to start without SECRET_KEYS; "development" uses DEV_SECRET_KEY.
    "ENV": "production",
    # Oldest first: the last key signs, every key verifies (itsdangerous key rotation).
    "SECRET_KEYS": [],
    # SQLAlchemy URL; empty means SQLite at instance/consent.sqlite3.
    "DATABASE_URL": "",
    # Migrate the schema when the app starts; unset means yes on SQLite, no on PostgreSQL
    # (where several instances share one database and a deployment runs `consent-api migrate`).
    "AUTO_MIGRATE": None,
    # Site origins allowed to call the API from a browser (CORS); empty for the embedded
    # server, which serves the site and the API from one origin.
    "CORS_ORIGINS": [],
    # The built static site served for every path outside /api/; empty disables it.
    "SITE_DIR": str(PROJECT_ROOT / "site"),
    # The MkDocs configuration shared with the site build (categories, retention, policy).
    "SITE_CONFIG": str(PROJECT_ROOT / "mkdocs.yml"),
    # Largest request body accepted, in bytes (413 beyond it).
    "MAX_CONTENT_LENGTH": 16 * 1024,
    # Seconds the embedded server gives a client to send a whole request, headers and body,
    # from its first byte; a request still arriving then is answered 408 (slow clients).
    "REQUEST_TIMEOUT": 30,
    # Seconds browsers may cache static files whose names carry no content hash.
    "STATIC_MAX_AGE": 300,
    # Strict-Transport-Security max-age; 0 sends none (set it when served over HTTPS).
    "HSTS_SECONDS": 0,
    # Proxies in front whose X-Forwarded-* headers are believed; 0 believes none.
    "PROXY_HOPS": 0,
    # One JSON line per request on the "consent_api.access" logger (no IPs, no query strings).
    "ACCESS_LOG": True,
    # Inquiry forms: a form token is accepted from FORM_TOKEN_MIN_SECONDS to
    # FORM_TOKEN_MAX_SECONDS after it was issued, once.
    "FORM_TOKEN_MIN_SECONDS": 3,
    "FORM_TOKEN_MAX_SECONDS": 4 * 3600,
    # Inquiries per client (the limits library's syntax), counted in RATELIMIT_STORAGE_URI:
    # memory:// for one process, redis://host:6379 for several instances sharing one limit.
    "INQUIRY_RATE_LIMIT": "5 per minute;30 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "consent_api",
    # Analytics events per visitor (counted by the day's visitor hash, never the address), in
    # the same storage; a page view or a form sent is one event.
    "EVENTS_RATE_LIMIT": "120 per minute;2000 per hour",
    # If the rate limit's storage fails, accept the inquiry: a lead is worth more than a count.
    "RATELIMIT_SWALLOW_ERRORS": True,
    # Sales notifications: with SMTP_HOST set, every inquiry queues an email to SALES_EMAIL.
    "SMTP_HOST": "",
    "SMTP_PORT": 587,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": True,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "",
    "SALES_EMAIL": "",
    # Privacy requests: where the links in their emails point (the site's public address);
    # empty means mkdocs.yml's site_url. Their emails come from MAIL_FROM, answers to
    # PRIVACY_EMAIL (empty: SALES_EMAIL).
    "PUBLIC_URL": "",
    "PRIVACY_EMAIL": "",
    # What the sales email carries: "full" (the inquiry's fields, Reply-To the sender) or
    # "reference" (its reference ID only, for mailboxes that must hold no personal data).
    "NOTIFY_CONTENT": "full",
    # Webhooks: HTTPS endpoints (a CRM's inbound-webhook URL), each sent every inquiry as a
    # signed JSON event; WEBHOOK_SECRETS holds one Standard Webhooks secret per URL, in order.
    "WEBHOOK_URLS": [],
    "WEBHOOK_SECRETS": [],
    "WEBHOOK_TIMEOUT": 10,
    # Attempts before a webhook delivery is marked failed (listed by `consent-api outbox`).
    "WEBHOOK_MAX_ATTEMPTS": 10,
    # A CA bundle (PEM) to verify the endpoints' certificates with; empty uses the system's.
    "WEBHOOK_CA_BUNDLE": "",
    # A receipt email to the sender of each inquiry, at most ACKNOWLEDGE_LIMIT per address.
    "ACKNOWLEDGE": False,
    "ACKNOWLEDGE_LIMIT": "1 per hour",
    # Seconds between outbox deliveries in each serving process; 0 turns the loop off for
    # deployments that run `consent-api outbox deliver` from a timer.
    "OUTBOX_INTERVAL": 30,
    # Seconds between runs of the in-process purge in each serving process (the first run is at
    # start); 0 switches it off, for deployments that run `consent-api purge` from a timer.
    "PURGE_INTERVAL": 3600,
    # Seconds between SQLite checkpoints in each serving process (copying the write-ahead log
    # into the database file beside the writers); 0 leaves them to SQLite's own backstop.
    "CHECKPOINT_INTERVAL": 1,
    # Records deleted per purge transaction: a writer waits at most one batch.
    "PURGE_BATCH_SIZE": 1000,
}


def load(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` in the documented order and check it: the defaults, then either the
    instance file and the environment (a deployment, a developer's machine) or ``test_config``
    (a test), never both, so that no developer's setting reaches a test (as in Flask's tutorial).
    """
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("CONSENT_API")
    else:
        app.config.from_mapping(test_config)
    _normalise(app)


def _split(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value or []]


def _normalise(app: Flask) -> None:
    cfg = app.config
    env = str(cfg["ENV"]).lower()
    if env not in {"production", "development"}:
        raise ConfigError(f"CONSENT_API_ENV must be 'production' or 'development', not {env!r}")
    cfg["ENV"] = env
    keys = _split(cfg["SECRET_KEYS"])
    # Only the environment decides: debug or testing flags never let production sign with a
    # key that is published in this file.
    if env != "development" and (not keys or DEV_SECRET_KEY in keys):
        raise ConfigError(
            "CONSENT_API_SECRET_KEYS is not set (or holds the development key): set it to a long "
            "random secret (or start with CONSENT_API_ENV=development to use the development key)"
        )
    keys = keys or [DEV_SECRET_KEY]
    cfg["SECRET_KEYS"] = keys
    cfg["SECRET_KEY"] = keys[-1]
    if not cfg["DATABASE_URL"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        cfg["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'consent.sqlite3'}"
    if cfg["AUTO_MIGRATE"] is None:
        cfg["AUTO_MIGRATE"] = str(cfg["DATABASE_URL"]).startswith("sqlite")
    cfg["CORS_ORIGINS"] = _split(cfg["CORS_ORIGINS"])
    if cfg["SMTP_HOST"] and not (cfg["SALES_EMAIL"] and cfg["MAIL_FROM"]):
        raise ConfigError(
            "CONSENT_API_SMTP_HOST is set, so CONSENT_API_SALES_EMAIL (who is notified) and "
            "CONSENT_API_MAIL_FROM (the sender) must be set too"
        )
