"""The security headers every answer carries, from the service or from nginx, written out here
as a visitor's browser receives them (the service's table is not read: a test of it against
itself could not fail)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": (
        "accelerometer=(), browsing-topics=(), camera=(), geolocation=(), gyroscope=(), "
        "magnetometer=(), microphone=(), payment=(), usb=()"
    ),
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

#: Paths of every sort of answer: API, API error, pages, the 404 page, the form pages the
#: service fills in, the project's own script. ``HASHED_ASSET`` is found in the built site.
PATHS = [
    "/api/health",
    "/api/nope",
    "/",
    "/platform/",
    "/missing/",
    "/contact/",
    "/assets/javascripts/consent.js",
]
HASHED_ASSET = "hashed asset"


def resolve(path: str, site: Path) -> str:
    """``path``, or for ``HASHED_ASSET`` the URL of mkdocs-material's content-hashed bundle."""
    if path != HASHED_ASSET:
        return path
    (bundle,) = site.glob("assets/javascripts/bundle.*.min.js")
    return "/" + bundle.relative_to(site).as_posix()


def fetch_headers(url: str) -> Message:
    """The headers of a GET of ``url``, whatever its status."""
    try:
        with urllib.request.urlopen(url) as response:
            return response.headers
    except urllib.error.HTTPError as error:
        return error.headers


def wrong(get: Callable[[str], Any]) -> dict[str, tuple[str, Any]]:
    """Each header of ``EVERYWHERE`` that the headers read by ``get`` (their ``get``) lack or
    have with another value: (expected, found)."""
    return {name: (value, get(name)) for name, value in EVERYWHERE.items() if get(name) != value}
