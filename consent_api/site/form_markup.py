"""The inquiry forms' HTML, rendered from ``templates/``: by the site build (the static page)
and by the service (the same page again, with a fresh token, errors and input).

Kept apart from the service's Flask modules so the MkDocs hook imports only Jinja and the form
declarations, not the whole service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from consent_api.site.forms import HONEYPOT, Form

templates = Environment(
    loader=PackageLoader("consent_api.site", "templates"), autoescape=select_autoescape(["html"])
)
REFERENCE_MARKER = "<!--inquiry-reference-->"


def root_of(page: str) -> str:
    """The relative URL of the site's root from a page's URL (``contact/`` -> ``../``)."""
    return "../" * page.strip("/").count("/") + ("../" if page.strip("/") else "")


def render_form(
    form: Form,
    *,
    api_base: str,
    token: str = "",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str = "",
) -> str:
    """The form's HTML, between its markers; used by the build and by the service."""
    return templates.get_template("inquiry_form.html").render(
        form=form,
        honeypot=HONEYPOT,
        root=root_of(form.page),
        action=f"{api_base}/{form.path}",
        token_url=f"{api_base}/form-token",
        token=token,
        values={name: value for name, value in (values or {}).items() if isinstance(value, str)},
        errors=dict(errors or {}),
        message=message,
    )
