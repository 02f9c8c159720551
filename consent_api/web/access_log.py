"""A structured access log: one JSON line per request, with nothing that identifies a person.

It records the method, the path without its query string, the status and the time taken. It
never records bodies, query strings, client addresses, user agents or referrers, nor the receipt
in ``/api/consent/<receipt>``: it names a visitor's consent record, so the path is logged with
the placeholder instead.

The line is written when the server closes the response, once it has taken the whole body,
so that the time covers producing the body too. waitress, the embedded server, has no access
log of its own; behind nginx, nginx's log has the time on the wire.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.wsgi import ClosingIterator

logger = logging.getLogger("consent_api.access")

#: Paths whose last part names a person's record: logged as the prefix and a placeholder.
IDENTIFYING_PREFIXES = {
    "/api/consent/": "<receipt>",
    # The signed links of privacy-request emails name a person's request.
    "/api/privacy-requests/confirm/": "<link>",
    "/api/privacy-requests/download/": "<link>",
}


def logged_path(path: str) -> str:
    """``path`` as the log shows it: without what identifies a person."""
    for prefix, placeholder in IDENTIFYING_PREFIXES.items():
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + placeholder
    return path


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AccessLog:
    """WSGI middleware around the whole app, static files included."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        status: list[str] = []

        def capture(code: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(code)
            return start_response(code, headers, exc_info)

        def log() -> None:
            line = {
                "method": environ.get("REQUEST_METHOD", ""),
                "path": logged_path(environ.get("PATH_INFO", "")),
                "status": int(status[0].split()[0]) if status else 500,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
            logger.info(json.dumps(line, separators=(",", ":")))

        try:
            body = self.app(environ, capture)
        except BaseException:
            log()
            raise
        # The server calls close() once it has sent the body (PEP 3333): log then.
        return ClosingIterator(body, log)


def init_app(app: Flask) -> None:
    if not app.config["ACCESS_LOG"]:
        return
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.wsgi_app = AccessLog(app.wsgi_app)  # type: ignore[method-assign]
