"""Response headers that keep the site and the API hard to misuse, and proxy trust.

The same headers go on API answers (``after_request``) and on the static site, which WhiteNoise
serves before Flask sees the request (``static_headers``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

#: The file the site build writes with the Content-Security-Policy of the static pages.
CSP_FILE = "csp.txt"
#: What the API's own JSON answers need: nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def base_headers(app: Flask) -> dict[str, str]:
    """Headers every response gets, API or static."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config["HSTS_SECONDS"]:
        # Browsers ignore HSTS received over plain HTTP, so sending it always is harmless.
        headers["Strict-Transport-Security"] = f"max-age={int(app.config['HSTS_SECONDS'])}"
    return headers


def site_csp(app: Flask) -> str | None:
    """The site's Content-Security-Policy as the build computed it, if the site has one."""
    site_dir = app.config["SITE_DIR"]
    path = Path(site_dir) / CSP_FILE if site_dir else None
    if path is None or not path.is_file():
        return None
    return " ".join(path.read_text(encoding="utf-8").split())


def static_headers(app: Flask) -> Callable[[Any, str, str], None]:
    """WhiteNoise's ``add_headers_function``: the same headers on every static file."""
    headers = base_headers(app)
    csp = site_csp(app)

    def add(response_headers: Any, _path: str, url: str) -> None:
        for name, value in headers.items():
            response_headers[name] = value
        if csp and url.endswith((".html", "/")):
            response_headers["Content-Security-Policy"] = csp

    return add


def init_app(app: Flask) -> None:
    """Secure every Flask response (API answers, redirects, the site's 404 page)."""
    headers = base_headers(app)
    csp = site_csp(app)

    @app.after_request
    def secure(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if request.path.startswith("/api/"):
            response.headers.setdefault("Content-Security-Policy", API_CSP)
            response.headers.setdefault("Cache-Control", "no-store")
        elif csp and response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", csp)
        return response


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-*`` only from the ``PROXY_HOPS`` proxies in front (0: none)."""
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
