"""The API's declared schemas: one pydantic model per request and response, held to requests here
and turned into the OpenAPI document at ``GET /api/openapi.json`` by spectree.

spectree only documents (``documented``): its own validation errors have a shape of their own,
so ``json_body`` validates with the same models and ``errors`` gives the failures our shape.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, ValidationError
from spectree import Response, SpecTree
from werkzeug.exceptions import UnsupportedMediaType

from consent_api.exc import ValidationFailed
from consent_api.web import errors

T = TypeVar("T", bound=BaseModel)


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """Every error under /api/: a machine code, a message, per-field messages for bad input."""

    model_config = ConfigDict(title="Error")
    error: ErrorDetail


api = SpecTree(
    "flask",
    title="CareCaller consent and inquiry records",
    version="1",
    description="Records cookie choices and inquiries as minimal, signed, durable records.",
    mode="strict",  # document the endpoints declared with @api.validate, nothing else
    annotations=False,
    page_templates={},  # no documentation UI: it would load scripts from other sites
    validation_error_status=400,
    validation_error_model=ErrorBody,
)


View = TypeVar("View", bound=Callable[..., Any])


def documented(**declaration: Any) -> Callable[[View], View]:
    """Declare an endpoint in the OpenAPI document (spectree's ``validate`` arguments), without
    spectree's wrapper around every request: the endpoint validates its input itself
    (``json_body``, ``validate``), so the wrapper would only cost time.

    spectree finds the declaration through ``__wrapped__``, as it would through a decorator.
    """

    def decorate(view: View) -> View:
        declared = api.validate(skip_validation=True, **declaration)(view)

        @functools.wraps(view)
        def endpoint(*args: Any, **kwargs: Any) -> Any:
            return view(*args, **kwargs)

        endpoint.__wrapped__ = declared
        return endpoint  # type: ignore[return-value]

    return decorate


def responses(**statuses: type[BaseModel] | None) -> Response:
    """The documented answers of an endpoint, plus the errors every endpoint can give."""
    declared: dict[str, Any] = {"HTTP_503": ErrorBody, "HTTP_429": ErrorBody}
    declared.update(statuses)
    return Response(**declared)


def json_body(model: type[T], context: Mapping[str, Any] | None = None) -> T:
    """The request's JSON body validated against ``model``: 415 for another content type, 413
    over ``MAX_CONTENT_LENGTH``, ``ValidationFailed`` (400) with per-field messages otherwise."""
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    data = request.get_data(cache=False)
    try:
        return model.model_validate_json(data, strict=True, context=dict(context or {}))
    except ValidationError as error:
        raise errors.validation_failed(error) from error


#: What a plain HTML form posts (no JavaScript).
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def submitted() -> tuple[dict[str, Any], bool]:
    """The request's body as a mapping, and whether a plain HTML form sent it: form fields
    (``True``) or a JSON object (``False``). 415 for another content type, 413 over
    ``MAX_CONTENT_LENGTH``; the caller validates the mapping with ``validate``."""
    if request.mimetype in FORM_MIMETYPES:
        return request.form.to_dict(), True
    if request.mimetype != "application/json":
        raise UnsupportedMediaType("Send the fields form-encoded, or as JSON.")
    try:
        data = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError) as error:
        raise ValidationFailed("The body is not valid JSON.", code="invalid_json") from error
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="invalid_json")
    return data, False


def validate(
    model: type[T], data: Mapping[str, Any], context: Mapping[str, Any] | None = None
) -> T:
    """``data`` validated against ``model``: ``ValidationFailed`` with per-field messages."""
    try:
        return model.model_validate(data, strict=True, context=dict(context or {}))
    except ValidationError as error:
        raise errors.validation_failed(error) from error


bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def document() -> dict[str, Any]:
    """The OpenAPI 3 document of this service, generated from the declared models."""
    spec: dict[str, Any] = copy.deepcopy(api.spec)
    for refine in current_app.extensions.get(EXTENSION, []):
        refine(spec)
    return spec


#: Functions that complete the document with what is only known at run time (the categories).
EXTENSION = "consent_api.web.openapi"
