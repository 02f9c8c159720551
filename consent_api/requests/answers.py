"""The pages of the request flow: the site's answer page (``legal/privacy/requests/answer/``)
with what happened in place of its marker, rendered from ``templates/answer.html``.

Answered at ``/api/...`` URLs, the built page's links are paths from the site's root
(``form_pages.built``), so they lead where they do on the page itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel
from werkzeug.wrappers import Response

from consent_api.exc import ApiError
from consent_api.inquiries import pages as form_pages
from consent_api.site import registry
from consent_api.site.form_markup import REFERENCE_MARKER, root_of
from consent_api.site.forms import PRIVACY_REQUEST
from consent_api.web import bodies, openapi
from consent_api.web.openapi import ErrorBody

templates = Environment(
    loader=PackageLoader("consent_api.requests", "templates"),
    autoescape=select_autoescape(["html"]),
)
#: The heading over each kind of problem with a link.
TITLES = {
    "link_expired": "This link has expired",
    "link_used": "This link has been used",
    "link_unknown": "We cannot find this request",
    "link_forged": "This link does not work",
}


def api_base() -> str:
    return registry.get().api_base


def page(state: str, status: int = 200, **values: Any) -> Response:
    """The answer page showing ``state`` (see the template) with ``values``."""
    fragment = templates.get_template("answer.html").render(
        state=state, root=root_of(PRIVACY_REQUEST.thanks), **values
    )
    built = form_pages.built(PRIVACY_REQUEST.thanks)
    if built is None or REFERENCE_MARKER not in built:
        return form_pages.html(
            f"<!doctype html>\n<title>Privacy request</title>\n{fragment}\n", status
        )
    return form_pages.html(built.replace(REFERENCE_MARKER, fragment, 1), status)


def problem(error: ApiError) -> Response:
    """The answer page explaining why a link or a post was refused."""
    title = TITLES.get(error.code, "Something went wrong")
    return page("problem", error.status, title=title, message=error.message)


#: An answer that is a page of the site, as the OpenAPI document describes it.
PAGE = {"text/html": {"schema": {"type": "string"}}}


def document_pages(app: Flask, answered: Mapping[tuple[str, str], tuple[int, ...]]) -> None:
    """Have the OpenAPI document say that ``(method, path)`` answers ``statuses`` with a page
    (a link opened in a browser, a plain form's post), beside any JSON it declares."""

    def refine(spec: dict[str, Any]) -> None:
        for (method, path), statuses in answered.items():
            responses = spec["paths"][path][method]["responses"]
            for status in statuses:
                answer = responses[str(status)]
                answer["content"] = {**answer.get("content", {}), **PAGE}

    openapi.refine(app, refine)


#: What a refused link is answered with, to a script (a page to a browser: ``document_pages``).
BAD_LINK: dict[int, type[BaseModel] | None] = {
    400: ErrorBody,
    404: ErrorBody,
    409: ErrorBody,
    410: ErrorBody,
}
#: The page a link opens: its token is the last part of the path.
LINK_PAGE: dict[int, type[BaseModel] | None] = {
    200: None,
    400: None,
    404: ErrorBody,
    409: None,
    410: None,
}


def documented(
    responses: Mapping[int, type[BaseModel] | None], body: type[BaseModel] | None = None
) -> Callable[[Any], Any]:
    """An endpoint of the request flow in the OpenAPI document: a post takes ``body`` as JSON
    or as a plain form; without a body, it is a page a link opens."""
    if body is None:
        return openapi.documented(
            tags=("privacy requests",),
            responses=responses,
            parameters={"token": "The last part of the link in the email."},
        )
    return openapi.documented(
        tags=("privacy requests",),
        body=body,
        media_types=(bodies.JSON, *bodies.FORM_MIMETYPES),
        responses=responses,
    )
