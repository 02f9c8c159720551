"""Serves the built MkDocs site beside the API in the embedded server (WhiteNoise)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, Response, current_app
from whitenoise import WhiteNoise

from . import security

#: mkdocs-material's bundles carry a content hash in their names: cache them for a year.
_HASHED = re.compile(r"\.[0-9a-f]{8,}\.min\.(?:css|js)(?:\.map)?$")


def _is_immutable(path: str, url: str) -> bool:
    return bool(_HASHED.search(url))


def init_app(app: Flask) -> None:
    """Wrap the WSGI app so that any path WhiteNoise finds in ``SITE_DIR`` is served from disk."""
    site_dir = app.config["SITE_DIR"]
    if not site_dir:
        return
    if not Path(site_dir).is_dir():
        app.logger.warning("no built site at %s: run 'make build'; serving the API only", site_dir)
        return
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=site_dir,
        index_file=True,
        max_age=app.config["STATIC_MAX_AGE"],
        immutable_file_test=_is_immutable,
        add_headers_function=security.static_headers(app),
    )


def not_found_page() -> Response:
    """The site's own 404 page, with status 404."""
    site_dir = current_app.config["SITE_DIR"]
    page = Path(site_dir) / "404.html" if site_dir else None
    if page is not None and page.is_file():
        return Response(page.read_bytes(), status=404, mimetype="text/html")
    return Response("Not Found\n", status=404, mimetype="text/plain")
