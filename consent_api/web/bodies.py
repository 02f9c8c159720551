"""Request bodies: JSON or form-encoded, validated against a pydantic model.

Every failure is ours in shape: 415 for a content type the endpoint does not take, 413 over
``MAX_CONTENT_LENGTH`` (Werkzeug), ``ValidationFailed`` (400) with one message per field.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import UnsupportedMediaType

from consent_api.exc import ValidationFailed
from consent_api.web import errors

T = TypeVar("T", bound=BaseModel)

JSON = "application/json"
#: What a plain HTML form posts (no JavaScript).
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def json_body(model: type[T], context: Mapping[str, Any] | None = None) -> T:
    """The request's JSON body validated against ``model``: 415 for another content type, 413
    over ``MAX_CONTENT_LENGTH``, ``ValidationFailed`` (400) with per-field messages otherwise."""
    if request.mimetype != JSON:
        raise UnsupportedMediaType("Send the body as JSON, with Content-Type: application/json.")
    data = request.get_data(cache=False)
    try:
        return model.model_validate_json(data, strict=True, context=dict(context or {}))
    except ValidationError as error:
        raise errors.validation_failed(error) from error


def submitted() -> tuple[dict[str, Any], bool]:
    """The request's body as a mapping, and whether a plain HTML form sent it: form fields
    (``True``) or a JSON object (``False``). 415 for another content type, 413 over
    ``MAX_CONTENT_LENGTH``; the caller validates the mapping with ``validate``."""
    if request.mimetype in FORM_MIMETYPES:
        return request.form.to_dict(), True
    if request.mimetype != JSON:
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
