"""Cross-origin access to the API, for the configured site origins only (flask-cors).

The embedded server serves the site and the API from one origin and needs none; a static site on
another host or a CDN names its origins in ``CORS_ORIGINS``.
"""

from __future__ import annotations

from flask import Flask
from flask_cors import CORS


def init_app(app: Flask) -> None:
    origins: list[str] = app.config["CORS_ORIGINS"]
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/*": {"origins": origins}},
        methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        supports_credentials=False,
        max_age=600,
    )
