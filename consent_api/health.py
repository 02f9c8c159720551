"""``GET /api/health``: is the service up, and does its database answer."""

from __future__ import annotations

from flask import Blueprint

from . import storage

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health() -> dict[str, str]:
    storage.ping()
    return {"status": "ok", "database": "ok"}
