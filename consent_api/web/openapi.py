"""The OpenAPI document at ``GET /api/openapi.json``, made from the endpoints' declarations.

An endpoint declares what it takes and answers with ``documented``; the document's paths come
from the app's URL rules and those declarations, its components from pydantic's
``models_json_schema`` over every model named, so the document describes the models that
validate the requests (``bodies``). What is known only at run time (the site's categories and
policy versions) is added by the functions registered with ``refine``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from consent_api.web.bodies import JSON

TITLE = "CareCaller consent and inquiry records"
DESCRIPTION = "Records cookie choices and inquiries as minimal, signed, durable records."
REF_TEMPLATE = "#/components/schemas/{model}"


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """Every error under /api/: a machine code, a message, per-field messages for bad input."""

    model_config = ConfigDict(title="Error")
    error: ErrorDetail


#: What any endpoint can answer: bad input, the rate limit, an unavailable database.
COMMON_RESPONSES: dict[int, type[BaseModel] | None] = {
    400: ErrorBody,
    429: ErrorBody,
    503: ErrorBody,
}


@dataclass(frozen=True)
class Operation:
    """What an endpoint takes and answers: its body (in ``media_types``), its answers by
    status (``None``: no body), and a description of each path parameter."""

    tags: tuple[str, ...]
    responses: Mapping[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    media_types: tuple[str, ...] = (JSON,)
    parameters: Mapping[str, str] = field(default_factory=dict)


View = TypeVar("View", bound=Callable[..., Any])
#: The attribute of a view function that holds its declaration.
_DECLARATION = "openapi_operation"


def documented(
    *,
    tags: tuple[str, ...],
    responses: Mapping[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    media_types: tuple[str, ...] = (JSON,),
    parameters: Mapping[str, str] | None = None,
) -> Callable[[View], View]:
    """Declare an endpoint in the document; the view itself is unchanged (it validates its
    input with ``bodies``). The errors every endpoint can give are added to ``responses``."""
    operation = Operation(
        tags, {**COMMON_RESPONSES, **responses}, body, media_types, dict(parameters or {})
    )

    def declare(view: View) -> View:
        setattr(view, _DECLARATION, operation)
        return view

    return declare


Refinement = Callable[[dict[str, Any]], None]
#: Where an app keeps its refinements (``refine``).
EXTENSION = "consent_api.web.openapi"


def refine(app: Flask, refinement: Refinement) -> None:
    """Have ``refinement`` complete the document with what only the running app knows."""
    app.extensions.setdefault(EXTENSION, []).append(refinement)


def _text(view: Callable[..., Any]) -> tuple[str, str]:
    # The docstring's first paragraph is the summary, the rest the description; line breaks
    # inside a paragraph are only the source's wrapping.
    parts = re.split(r"\n\s*\n", inspect.getdoc(view) or "")
    summary, *rest = [part.strip().replace("\n", " ") for part in parts]
    return summary, "\n\n".join(rest)


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}


def _operation(
    method: str, path: str, view: Callable[..., Any], declared: Operation
) -> dict[str, Any]:
    summary, description = _text(view)
    operation: dict[str, Any] = {
        "summary": summary,
        **({"description": description} if description else {}),
        "operationId": f"{method}_{path.replace('/', '_')}",
        "tags": list(declared.tags),
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": declared.parameters.get(name, ""),
                "schema": {"type": "string"},
            }
            for name in re.findall(r"{(\w+)}", path)
        ],
        "responses": {
            str(status): {
                "description": HTTPStatus(status).phrase,
                **({"content": {JSON: _schema(model)}} if model else {}),
            }
            for status, model in sorted(declared.responses.items())
        },
    }
    if declared.body is not None:
        content = {media_type: _schema(declared.body) for media_type in declared.media_types}
        operation["requestBody"] = {"content": content, "required": True}
    return operation


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``'s declared endpoints."""
    paths: dict[str, dict[str, Any]] = {}
    tags: list[str] = []
    models: list[type[BaseModel]] = []
    for rule in app.url_map.iter_rules():
        declared: Operation | None = getattr(app.view_functions[rule.endpoint], _DECLARATION, None)
        if declared is None:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            view = app.view_functions[rule.endpoint]
            paths.setdefault(path, {})[method.lower()] = _operation(
                method.lower(), path, view, declared
            )
        tags += [tag for tag in declared.tags if tag not in tags]
        named = [declared.body, *declared.responses.values()]
        models += [model for model in named if model is not None and model not in models]
    _, definitions = models_json_schema(
        [(model, "validation") for model in models], ref_template=REF_TEMPLATE
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": "1", "description": DESCRIPTION},
        "tags": [{"name": tag} for tag in tags],
        "security": [],
        "paths": paths,
        "components": {"schemas": definitions.get("$defs", {})},
    }


bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def document() -> dict[str, Any]:
    """The OpenAPI 3 document of this service, generated from the declared models."""
    spec = build(current_app)
    for refinement in current_app.extensions.get(EXTENSION, []):
        refinement(spec)
    return spec
