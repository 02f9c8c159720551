"""A per-client limit on inquiries (the ``limits`` library), shared by every instance through Redis.

Clients are counted by a keyed hash of their address, in the limiter's storage only
(``RATELIMIT_STORAGE_URI``: process memory by default, Redis for several instances): the address
itself is never stored, in Redis, the database or a log. Only the inquiry endpoints count; the
limit costs the other requests nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from consent_api.exc import ConfigError, RateLimited, StorageUnavailable

EXTENSION = "consent_api.inquiries.ratelimit"
#: The name the inquiry limit's counts go under, after ``RATELIMIT_KEY_PREFIX``.
SCOPE = "inquiries"
logger = logging.getLogger("consent_api.inquiries.ratelimit")


@dataclass(frozen=True)
class InquiryLimit:
    limiter: FixedWindowRateLimiter
    items: list[RateLimitItem]
    prefix: str
    swallow_errors: bool


def client_key() -> str:
    """The client, as the limiter counts it: an HMAC of its address (behind ``PROXY_HOPS``
    proxies, the address the nearest trusted proxy saw)."""
    address = (request.remote_addr or "unknown").encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address, hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask) -> None:
    # One storage per app: tests and several apps in one process keep separate counts.
    try:
        items = parse_many(app.config["INQUIRY_RATE_LIMIT"])
    except ValueError as error:
        raise ConfigError(
            f"CONSENT_API_INQUIRY_RATE_LIMIT is not a rate limit like '5 per minute;30 per hour':"
            f" {app.config['INQUIRY_RATE_LIMIT']!r}"
        ) from error
    # wrap_exceptions: whatever the storage's client raises (Redis connection errors, timeouts)
    # comes out as limits' StorageError, the one failure ``check`` lets through or answers 503.
    store = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True)
    if not isinstance(store, Storage):
        raise ConfigError("CONSENT_API_RATELIMIT_STORAGE_URI must name a synchronous storage")
    app.extensions[EXTENSION] = InquiryLimit(
        FixedWindowRateLimiter(store),
        items,
        app.config["RATELIMIT_KEY_PREFIX"],
        bool(app.config["RATELIMIT_SWALLOW_ERRORS"]),
    )


def check() -> None:
    """Count one inquiry for this client; ``RateLimited`` (429) beyond ``INQUIRY_RATE_LIMIT``.

    If the limit's storage fails, ``RATELIMIT_SWALLOW_ERRORS`` lets the inquiry through (and
    logs why) rather than lose a lead; otherwise the inquiry is refused with a 503.
    """
    limit: InquiryLimit = current_app.extensions[EXTENSION]
    client = client_key()
    try:
        # Every window counts the inquiry, as a shared limit of several windows does.
        allowed = [limit.limiter.hit(item, limit.prefix, SCOPE, client) for item in limit.items]
        refused = [item for item, ok in zip(limit.items, allowed, strict=True) if not ok]
        resets = [
            limit.limiter.get_window_stats(item, limit.prefix, SCOPE, client).reset_time
            for item in refused
        ]
    except StorageError as error:
        if not limit.swallow_errors:
            logger.exception("the rate limit's storage failed; the inquiry is refused")
            raise StorageUnavailable(
                "The service cannot check its rate limit right now; nothing was stored. "
                "Try again shortly.",
                code="rate_limit_unavailable",
            ) from error
        logger.exception("the rate limit's storage failed; the inquiry is let through")
        return
    if refused:
        # The client may send again once every window that refused it has reset.
        raise RateLimited(
            "Too many messages from your connection in a short time. Please try again later.",
            retry_after=max(1, math.ceil(max(resets) - time.time())),
        )
