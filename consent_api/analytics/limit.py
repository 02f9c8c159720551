"""A per-visitor limit on events (the ``limits`` library), in ``RATELIMIT_STORAGE_URI``: process
memory by default, Redis for several instances sharing one limit.

Visitors are counted by the day's visitor hash (``visitors.visitor``), never by their address.
If the limit's storage fails the event is refused with a 503, which the script drops silently:
a lost page view costs less than an unlimited endpoint.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from consent_api.exc import ConfigError, RateLimited, StorageUnavailable

EXTENSION = "consent_api.analytics.limit"
#: The name the events' counts go under, after ``RATELIMIT_KEY_PREFIX``.
SCOPE = "events"
logger = logging.getLogger("consent_api.analytics.limit")


@dataclass(frozen=True)
class EventLimit:
    limiter: FixedWindowRateLimiter
    items: list[RateLimitItem]
    prefix: str


def init_app(app: Flask) -> None:
    try:
        items = parse_many(app.config["EVENTS_RATE_LIMIT"])
    except ValueError as error:
        raise ConfigError(
            "CONSENT_API_EVENTS_RATE_LIMIT is not a rate limit like '120 per minute': "
            f"{app.config['EVENTS_RATE_LIMIT']!r}"
        ) from error
    store = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True)
    if not isinstance(store, Storage):
        raise ConfigError("CONSENT_API_RATELIMIT_STORAGE_URI must name a synchronous storage")
    limit = EventLimit(FixedWindowRateLimiter(store), items, app.config["RATELIMIT_KEY_PREFIX"])
    app.extensions[EXTENSION] = limit


def check(visitor: str) -> None:
    """Count one event for ``visitor``; ``RateLimited`` (429) beyond ``EVENTS_RATE_LIMIT``."""
    limit: EventLimit = current_app.extensions[EXTENSION]
    try:
        allowed = [limit.limiter.hit(item, limit.prefix, SCOPE, visitor) for item in limit.items]
        refused = [item for item, ok in zip(limit.items, allowed, strict=True) if not ok]
        resets = [
            limit.limiter.get_window_stats(item, limit.prefix, SCOPE, visitor).reset_time
            for item in refused
        ]
    except StorageError as error:
        # One line, no traceback: a failed storage would otherwise log one per page view.
        logger.error("the events rate limit's storage failed (%s); the event is refused", error)
        raise StorageUnavailable(
            "The service cannot check its rate limit right now; nothing was stored.",
            code="rate_limit_unavailable",
        ) from error
    if refused:
        raise RateLimited(
            "Too many events from your connection in a short time.",
            retry_after=max(1, math.ceil(max(resets) - time.time())),
        )
