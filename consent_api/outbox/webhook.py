"""The webhook channel: JSON events posted over HTTPS, signed to the Standard Webhooks
specification (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``) with a secret per
endpoint.

An endpoint is known in the outbox by a key (a hash of its URL), never by its URL: a CRM's
inbound-webhook URL often carries a token. Its answer decides what happens: 2xx is delivered;
408, 429, 5xx, a redirect (never followed: the signature is for this URL), a timeout or a
refused connection is retried with back-off; any other 4xx fails at once with its status.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import urllib3
from flask import Flask, current_app
from sqlalchemy import Row
from standardwebhooks.webhooks import Webhook

from consent_api.exc import ConfigError
from consent_api.outbox.queue import SENT_OK, Outcome
from consent_api.records import store as records

EXTENSION = "consent_api.outbox.webhook"
#: Standard Webhooks: secrets of 24 to 64 random bytes, base64, optionally after ``whsec_``.
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
RETRIED_4XX = {408, 429}


@dataclass(frozen=True)
class Endpoint:
    """One configured receiver: its URL, its signing secret and its key in the outbox."""

    url: str
    secret: str

    @property
    def key(self) -> str:
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "?"


def _listed(value: Any) -> list[str]:
    # A JSON list (CONSENT_API_WEBHOOK_URLS='["https://a", "https://b"]') or comma-separated.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part).strip() for part in value or []]


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(number: int, url: str, development: bool) -> None:
    name = "CONSENT_API_WEBHOOK_URLS"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        # The URL itself is not repeated: it may carry the receiver's token.
        raise ConfigError(f"{name}: URL {number} must be an https:// URL with a host name")
    if _loopback(parts.hostname) and not development:
        raise ConfigError(
            f"{name}: URL {number} points at this machine ({parts.hostname}), which is allowed "
            "only with CONSENT_API_ENV=development"
        )


def _check_secret(number: int, secret: str) -> None:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Padding is optional, as in the standardwebhooks library; anything else is refused.
        size = len(base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True))
    except (binascii.Error, ValueError):
        size = 0
    if not MIN_SECRET_BYTES <= size <= MAX_SECRET_BYTES:
        raise ConfigError(
            f"CONSENT_API_WEBHOOK_SECRETS: secret {number} must be '{SECRET_PREFIX}' and the "
            f"base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} random bytes, for example "
            "python3 -c \"import base64,os; print('whsec_'+base64.b64encode(os.urandom(32))"
            '.decode())"'
        )


def endpoints_from(config: Any) -> list[Endpoint]:
    """The endpoints ``WEBHOOK_URLS`` and ``WEBHOOK_SECRETS`` name; ``ConfigError`` naming the
    wrong setting otherwise."""
    urls, secrets = _listed(config["WEBHOOK_URLS"]), _listed(config["WEBHOOK_SECRETS"])
    if len(secrets) != len(urls):
        raise ConfigError(
            "CONSENT_API_WEBHOOK_SECRETS must hold one secret per URL in "
            f"CONSENT_API_WEBHOOK_URLS, in the same order ({len(urls)} URLs, "
            f"{len(secrets)} secrets)"
        )
    if len(set(urls)) != len(urls):
        raise ConfigError("CONSENT_API_WEBHOOK_URLS names the same URL twice")
    development = config["ENV"] == "development"
    for number, (url, secret) in enumerate(zip(urls, secrets, strict=True), start=1):
        _check_url(number, url, development)
        _check_secret(number, secret)
    for setting, kind in (("WEBHOOK_TIMEOUT", int | float), ("WEBHOOK_MAX_ATTEMPTS", int)):
        value = config[setting]
        if not isinstance(value, kind) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"CONSENT_API_{setting} must be a number above 0, not {value!r}")
    bundle = config["WEBHOOK_CA_BUNDLE"]
    if bundle and not Path(bundle).is_file():
        raise ConfigError(f"CONSENT_API_WEBHOOK_CA_BUNDLE: no such file {bundle}")
    return [Endpoint(url, secret) for url, secret in zip(urls, secrets, strict=True)]


def init_app(app: Flask) -> None:
    """Check the webhook settings at start-up and keep the endpoints."""
    app.extensions[EXTENSION] = {e.key: e for e in endpoints_from(app.config)}


def endpoints() -> dict[str, Endpoint]:
    """The configured endpoints, by their key in the outbox."""
    found: dict[str, Endpoint] = current_app.extensions[EXTENSION]
    return found


def body_of(event: dict[str, Any]) -> str:
    """The exact text that is posted and signed."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class Sender:
    """Posts events over one connection pool; an endpoint that cannot be reached is skipped
    for the rest of the batch (its events wait for the next run)."""

    def __init__(self) -> None:
        config = current_app.config
        timeout = float(config["WEBHOOK_TIMEOUT"])
        self.pool = urllib3.PoolManager(
            cert_reqs="CERT_REQUIRED",
            ca_certs=config["WEBHOOK_CA_BUNDLE"] or None,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False,
        )
        self.down: dict[str, str] = {}

    def send(self, row: Row[Any], event: dict[str, Any]) -> Outcome:
        """Post ``event`` to the endpoint ``row`` is for, signed."""
        endpoint = endpoints().get(row.target or "")
        if endpoint is None:
            return Outcome(False, "endpoint no longer in WEBHOOK_URLS", permanent=True)
        if endpoint.key in self.down:
            return Outcome(False, self.down[endpoint.key])
        body = body_of(event)
        sent_at = records.now()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "consent-api",
            "webhook-id": row.event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(endpoint.secret).sign(row.event_id, sent_at, body),
        }
        try:
            response = self.pool.request(
                "POST", endpoint.url, body=body.encode(), headers=headers, redirect=False
            )
        except urllib3.exceptions.HTTPError as error:
            # Its kind only (ReadTimeoutError, NewConnectionError, SSLError, ProtocolError):
            # urllib3's text names the URL, which may carry a token.
            self.down[endpoint.key] = type(error).__name__
            return Outcome(False, self.down[endpoint.key])
        status = response.status
        if 200 <= status < 300:
            return SENT_OK
        if 300 <= status < 400:
            return Outcome(False, f"HTTP {status}: redirect not followed")
        permanent = 400 <= status < 500 and status not in RETRIED_4XX
        return Outcome(False, f"HTTP {status}", permanent=permanent)

    def close(self) -> None:
        """Close the pool's connections."""
        self.pool.clear()
