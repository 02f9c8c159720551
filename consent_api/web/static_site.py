"""Serves the built MkDocs site beside the API in the embedded server (WhiteNoise)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app
from whitenoise import WhiteNoise

from consent_api.web import security

#: mkdocs-material's bundles carry a content hash in their names: cache them for a year.
_HASHED = re.compile(r"\.[0-9a-f]{8,}\.min\.(?:css|js)(?:\.map)?$")


def _is_immutable(path: str, url: str) -> bool:
    return bool(_HASHED.search(url))


#: Paths of built pages that the app renders itself (the form pages, with a fresh form token):
#: a module adds them to this set in ``app.extensions`` before ``init_app`` runs.
DYNAMIC = "consent_api.static_site.dynamic"


def init_app(app: Flask) -> None:
    """Wrap the WSGI app so that any path WhiteNoise finds in ``SITE_DIR`` is served from disk,
    except the ``DYNAMIC`` paths, which go to the app."""
    site_dir = app.config["SITE_DIR"]
    if not site_dir:
        return
    if not Path(site_dir).is_dir():
        app.logger.warning("no built site at %s: run 'make build'; serving the API only", site_dir)
        return
    flask_app = app.wsgi_app
    dynamic = frozenset(app.extensions.get(DYNAMIC, ()))
    static = WhiteNoise(
        flask_app,
        root=site_dir,
        index_file=True,
        max_age=app.config["STATIC_MAX_AGE"],
        immutable_file_test=_is_immutable,
        add_headers_function=security.static_headers(app),
    )

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        target = flask_app if environ.get("PATH_INFO") in dynamic else static
        return target(environ, start_response)

    app.wsgi_app = serve  # type: ignore[method-assign]


def not_found_page() -> Response:
    """The site's own 404 page, with status 404."""
    site_dir = current_app.config["SITE_DIR"]
    page = Path(site_dir) / "404.html" if site_dir else None
    if page is not None and page.is_file():
        return Response(page.read_bytes(), status=404, mimetype="text/html")
    return Response("Not Found\n", status=404, mimetype="text/plain")
