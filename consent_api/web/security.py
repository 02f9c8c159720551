"""Response headers that keep the site and the API hard to misuse, and proxy trust.

The same headers go on Flask's answers (``SecureHeaders``) and on the static site, which WhiteNoise
serves before Flask sees the request (``static_headers``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
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

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: The file the site build writes with the Content-Security-Policy of the static pages.
CSP_FILE = "csp.txt"
#: What the API's own JSON answers need: nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


#: The headers every response gets, API or static: the one table, which nginx's snippet
#: (``deploy/nginx/carecaller-headers.conf``, from ``consent-api deploy-headers``) copies.
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "Strict-Transport-Security"


def hsts_value(seconds: int) -> str:
    """The ``Strict-Transport-Security`` value for a max-age of ``seconds``."""
    return f"max-age={int(seconds)}"


def base_headers(app: Flask) -> dict[str, str]:
    """Headers every response gets, API or static."""
    headers = dict(HEADERS)
    if app.config["HSTS_SECONDS"]:
        # Browsers ignore HSTS received over plain HTTP, so sending it always is harmless.
        headers[HSTS] = hsts_value(app.config["HSTS_SECONDS"])
    return headers


def api_headers(app: Flask) -> dict[str, str]:
    """Headers of every answer under ``/api/``, and of the server's own error answers (400,
    408, 413, 431), which no page embeds: no content policy at all, and no caching."""
    return {**base_headers(app), "Content-Security-Policy": API_CSP, "Cache-Control": "no-store"}


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


class SecureHeaders:
    """WSGI middleware: the headers of ``base_headers`` on every Flask response (API answers,
    redirects, form pages, the site's 404 page), plus the API's own CSP and ``no-store`` under
    ``/api/``, or the site's CSP on HTML. A header the response already has is left as it is.

    Added to the header list as the response starts, it costs a request almost nothing.
    """

    def __init__(
        self, app: WSGIApp, headers: dict[str, str], api: dict[str, str], csp: str | None
    ) -> None:
        self.app = app
        self.site = [(name.lower(), name, value) for name, value in headers.items()]
        self.api = [(name.lower(), name, value) for name, value in api.items()]
        self.csp = csp

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        is_api = environ.get("PATH_INFO", "").startswith("/api/")

        def secure(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower(): value for name, value in headers}
            for lower, name, value in self.api if is_api else self.site:
                if lower not in present:
                    headers.append((name, value))
            if (
                not is_api
                and self.csp
                and "content-security-policy" not in present
                and present.get("content-type", "").split(";")[0].strip() == "text/html"
            ):
                headers.append(("Content-Security-Policy", self.csp))
            return start_response(status, headers, exc_info)

        return self.app(environ, secure)


class NoSessions(SessionInterface):
    """The service keeps no sessions and sets no cookies: Flask's session is never opened."""

    def open_session(self, app: Flask, request: Request) -> None:
        return None  # Flask falls back to a null session, which nothing writes to

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


def init_app(app: Flask) -> None:
    """Secure every Flask response; call before the static site wraps the app, which adds
    the same headers to the files it serves itself (``static_headers``)."""
    app.session_interface = NoSessions()
    app.wsgi_app = SecureHeaders(  # type: ignore[method-assign]
        app.wsgi_app, base_headers(app), api_headers(app), site_csp(app)
    )


def trust_proxies(app: Flask) -> None:
    """Believe ``X-Forwarded-*`` only from the ``PROXY_HOPS`` proxies in front (0: none)."""
    hops = int(app.config["PROXY_HOPS"])
    if hops > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
