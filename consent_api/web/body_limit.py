"""Every request body over ``MAX_CONTENT_LENGTH`` gets 413, whatever its transfer encoding.

Werkzeug refuses a ``Content-Length`` over the limit, but a chunked body has none: it reads such
a stream only up to the limit and then sees its end, so a form or JSON body cut short would be
parsed, and stored, as if whole. Here, before the app sees the request, a body without a length
is read up to one byte past the limit and handed on with the length it turned out to have: one
over the limit is refused by Werkzeug's own check (413, in the API's JSON shape), one within it
is read whole. This holds under any WSGI server.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

#: Bytes read from the stream at a time.
_CHUNK = 64 * 1024


#: Requests whose bodies nothing here reads: no need to look at them (the static site).
_BODILESS = {"GET", "HEAD", "OPTIONS"}


def _streamed(environ: dict[str, Any]) -> bool:
    """A body with no length that the server can tell the end of (it de-chunks it)."""
    if environ.get("CONTENT_LENGTH", "").strip() or environ.get("REQUEST_METHOD") in _BODILESS:
        return False
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    return chunked or bool(environ.get("wsgi.input_terminated"))


def read_limited(stream: Any, limit: int) -> bytes:
    """Up to ``limit + 1`` bytes of ``stream``: more than ``limit`` means too large."""
    body = bytearray()
    while len(body) <= limit:
        part = stream.read(min(_CHUNK, limit + 1 - len(body)))
        if not part:
            break
        body += part
    return bytes(body)


class BodyLimit:
    """WSGI middleware: a body without ``Content-Length`` is given one, read with a limit."""

    def __init__(self, app: WSGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if _streamed(environ):
            body = read_limited(environ["wsgi.input"], self.limit)
            environ["wsgi.input"] = io.BytesIO(body)
            # Over the limit by one byte or more: Werkzeug answers 413 on this length, and the
            # rest of the stream is never read.
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def init_app(app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    if limit is not None:
        app.wsgi_app = BodyLimit(app.wsgi_app, int(limit))  # type: ignore[method-assign]
