"""Turns every error under ``/api/`` into JSON of one stable shape, and serves the site's 404."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from consent_api.exc import ApiError, ValidationFailed, traced
from consent_api.web import static_site

API_PREFIX = "/api/"

#: Machine codes for the HTTP errors Werkzeug raises itself.
HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON body of every API error: ``{"error": {"code", "message", "fields"?}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def validation_failed(error: ValidationError) -> ValidationFailed:
    """A pydantic validation error as ours: one message per field, named by its dotted path."""
    problems = error.errors(include_url=False, include_input=False)
    if any(problem["type"] == "json_invalid" for problem in problems):
        return ValidationFailed("The body is not valid JSON.", code="invalid_json")
    fields: dict[str, str] = {}
    for problem in problems:
        name = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.setdefault(name, problem["msg"])
    return ValidationFailed("The request has invalid fields; see 'fields'.", fields=fields)


def _json(status: int, body: dict[str, Any], headers: Any = None) -> Response:
    response = jsonify(body)
    response.status_code = status
    if headers:
        response.headers.extend(headers)
    return response


def _api_error(error: ApiError) -> Response:
    return _json(error.status, error_body(error.code, error.message, error.fields), error.headers)


def _http_error(error: HTTPException) -> Response | HTTPException:
    status = error.code or 500
    if request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/"):
        headers = [(k, v) for k, v in error.get_headers() if k.lower() in {"allow", "retry-after"}]
        code = HTTP_CODES.get(status, "http_error")
        return _json(status, error_body(code, error.description or error.name), headers)
    if status == 404:
        return static_site.not_found_page()
    return error


def _unexpected(error: Exception) -> Response | InternalServerError:
    # Logged here for every path, as the classes and the stack but not the texts (a database's
    # can quote a visitor's input); Flask's own log of an unhandled error would print them.
    current_app.logger.error(
        "unexpected error on %s %s: %s", request.method, request.path, traced(error)
    )
    if not request.path.startswith(API_PREFIX):
        return InternalServerError()
    return _json(500, error_body("internal", "The service failed to answer; nothing was stored."))


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
