"""A per-client limit on inquiries (Flask-Limiter), shared by every instance through Redis.

Clients are counted by a keyed hash of their address, in the limiter's storage only
(``RATELIMIT_STORAGE_URI``: process memory by default, Redis for several instances): the address
itself is never stored, in Redis, the database or a log.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded

from .exc import RateLimited

EXTENSION = "consent_api.ratelimit"


def client_key() -> str:
    """The client, as the limiter counts it: an HMAC of its address (behind ``PROXY_HOPS``
    proxies, the address the nearest trusted proxy saw)."""
    address = (request.remote_addr or "unknown").encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, address, hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask) -> None:
    # One limiter per app: tests and several apps in one process keep separate counts.
    app.extensions[EXTENSION] = Limiter(client_key, app=app, default_limits=[])


def check() -> None:
    """Count one inquiry for this client; ``RateLimited`` (429) beyond ``INQUIRY_RATE_LIMIT``."""
    limiter: Limiter = current_app.extensions[EXTENSION]
    limit = limiter.shared_limit(current_app.config["INQUIRY_RATE_LIMIT"], scope="inquiries")
    try:
        with limit:
            pass
    except RateLimitExceeded as error:
        raise RateLimited(
            "Too many messages from your connection in a short time. Please try again later."
        ) from error
