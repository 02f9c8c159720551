"""``GET /api/health``: is the service up, and does its database answer."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from pydantic import BaseModel

from consent_api.records import storage
from consent_api.web import openapi

bp = Blueprint("health", __name__, url_prefix="/api")


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


@bp.get("/health")
@openapi.documented(tags=("health",), responses={200: Health})
def health() -> dict[str, str]:
    """Whether the service and its database answer.

    503 when the database does not answer or its schema needs `consent-api migrate`.
    """
    storage.ping()
    return {"status": "ok", "database": "ok"}
