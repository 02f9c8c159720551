"""``GET /api/health``: is the service up, does its database answer, and has it room."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint
from pydantic import BaseModel

from consent_api.records import capacity, storage
from consent_api.web import openapi

bp = Blueprint("health", __name__, url_prefix="/api")


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


@bp.get("/health")
@openapi.documented(tags=("health",), responses={200: Health})
def health() -> dict[str, str]:
    """Whether the service and its database answer, and a write would find room.

    503 when the database does not answer, its schema needs `consent-api migrate`, or it has no
    space left for a write (code `storage_full`).
    """
    storage.ping()
    capacity.check()
    return {"status": "ok", "database": "ok"}
