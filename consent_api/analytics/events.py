"""``POST /api/events``: a page view or a conversion from the gated analytics script.

Every event is validated as a consent post is: a page of the built site, a known event name,
size limits, and consent. ``Sec-GPC: 1`` stores nothing unless the stored choice sent with the
event says the visitor agreed anyway. Anything else gets a 400 with the reason and stores
nothing; a stored event only adds to the day's counters (``aggregates``).
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Flask, Response, current_app, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from werkzeug.exceptions import UnsupportedMediaType

from consent_api.analytics import aggregates, limit, paths, visitors
from consent_api.analytics.aggregates import CONVERSION
from consent_api.exc import ValidationFailed
from consent_api.retention import purge
from consent_api.web import errors, openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("analytics", __name__, url_prefix="/api")

#: The built site's pages, read from SITE_DIR at start (``paths.site_paths``).
EXTENSION = "consent_api.analytics.events"
#: An event is a few short fields: anything longer is not one the script sends.
MAX_BYTES = 1024
#: What ``navigator.sendBeacon`` sends a string as, and what other clients send.
MIMETYPES = ("text/plain", "application/json")
#: A host name, without a port: what the script sends of ``document.referrer``.
HOST_PATTERN = r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class StoredChoice(BaseModel):
    """The visitor's stored choice for analytics, as the banner keeps it in the browser."""

    model_config = ConfigDict(extra="forbid", title="StoredChoice")
    analytics: bool


class EventRequest(BaseModel):
    """A page view or a conversion, as the analytics script sends it."""

    model_config = ConfigDict(extra="forbid", title="AnalyticsEvent")

    name: Literal["pageview", "conversion"] = Field(
        description="'pageview', or 'conversion' when an inquiry form was sent."
    )
    path: str = Field(
        max_length=512,
        pattern=r"^/[A-Za-z0-9/._~%-]*$",
        description="A page of the site (no query, no fragment); a conversion names a form page.",
    )
    referrer: str = Field(
        "", max_length=253, pattern=HOST_PATTERN, description="The referring site's host only."
    )
    viewport: Literal["small", "medium", "large"] | None = Field(
        None, description="The viewport's size class: under 600, under 1024, or wider (px)."
    )
    consent: StoredChoice | None = Field(None, description="The stored choice, if any.")

    @field_validator("path")
    @classmethod
    def _known_path(cls, value: str, info: ValidationInfo) -> str:
        path = paths.normalise(value)
        if path not in (info.context or {}).get("paths", frozenset()):
            raise PydanticCustomError("path", "not a page of this site")
        if info.data.get("name") == CONVERSION and path not in paths.form_pages():
            raise PydanticCustomError("path", "a conversion happens on a form's page")
        return path


def _allowed_origin(origin: str) -> bool:
    own = request.host_url.rstrip("/")
    return origin in (own, *current_app.config["CORS_ORIGINS"])


def _validated() -> EventRequest:
    if request.mimetype not in MIMETYPES:
        raise UnsupportedMediaType("Send the event as JSON (text/plain or application/json).")
    if (request.content_length or 0) > MAX_BYTES:
        raise ValidationFailed(f"An event is at most {MAX_BYTES} bytes.", code="too_large")
    origin = request.headers.get("Origin")
    if origin is not None and not _allowed_origin(origin):
        raise ValidationFailed("Events are accepted from this site's pages only.", code="origin")
    data = request.get_data(cache=False)
    if len(data) > MAX_BYTES:
        raise ValidationFailed(f"An event is at most {MAX_BYTES} bytes.", code="too_large")
    context = {"paths": current_app.extensions[EXTENSION]}
    try:
        body = EventRequest.model_validate_json(data, strict=True, context=context)
    except ValidationError as error:
        raise errors.validation_failed(error) from error
    if body.consent is not None and not body.consent.analytics:
        raise ValidationFailed("The stored choice refuses analytics.", code="no_consent")
    gpc = request.headers.get("Sec-GPC", "").strip() == "1"
    if gpc and (body.consent is None or not body.consent.analytics):
        raise ValidationFailed(
            "Global Privacy Control is on and no stored choice agrees to analytics.", code="gpc"
        )
    return body


@bp.post("/events")
@openapi.documented(
    tags=("analytics",),
    body=EventRequest,
    responses={204: None, 400: ErrorBody, 415: ErrorBody},
)
def record_event() -> Response:
    """Count a page view or a conversion.

    Answers 204 once the day's counters include it; 400 with the reason for an event that is
    malformed, oversized, from another site, for an unknown page, or without consent.
    """
    body = _validated()
    day = visitors.today()
    visitor = visitors.visitor(day, request.host, request.remote_addr or "unknown")
    limit.check(visitor.hex()[:32])
    referrer = "" if body.referrer == request.host.split(":")[0] else body.referrer
    event = aggregates.Event(body.name, body.path, referrer, body.viewport or "")
    aggregates.count(event, day, visitor)
    return Response(status=204)


def _refine_document(spec: dict[str, Any]) -> None:
    """Name the site's pages in the document: exactly the paths accepted; and the body as
    ``navigator.sendBeacon`` sends a string, text/plain, beside JSON."""
    content = spec["paths"]["/api/events"]["post"]["requestBody"]["content"]
    content["text/plain"] = content["application/json"]
    pages = sorted(current_app.extensions[EXTENSION])
    # Without a built site no path is accepted; an empty enum is no valid schema.
    if pages:
        schema = spec["components"]["schemas"][EventRequest.__name__]
        schema["properties"]["path"]["enum"] = pages


def init_app(app: Flask) -> None:
    """The events endpoint, its limit and the daily salt; the site's pages read once."""
    app.extensions[EXTENSION] = paths.site_paths(app.config["SITE_DIR"])
    visitors.init_app(app)
    limit.init_app(app)
    purge.register(app, aggregates.RETENTION, purge.Step(aggregates.due, aggregates.purge))
    app.register_blueprint(bp)
    openapi.refine(app, _refine_document)
