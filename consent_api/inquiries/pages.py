"""The form pages: rendered into the site by the build, and served again by the service.

The build (``overrides/hooks/forms.py``) puts each form, rendered from ``templates/`` and the
declarations in ``forms``, into its page between two markers. The service serves the same built
pages at the same URLs with that region rendered again with a fresh form token, which a static
page cannot carry. A plain HTML post that is refused is answered with that page in the response
itself (``refused``: 422, the errors beside the fields and the input in them), and a privacy
request's thank-you page with its reference likewise (``privacy_thanks``): visitor input and
references never travel in a URL, so they reach no history, ``Referer`` or request line.
Being rendered per request, the pages served by ``GET`` are compressed here (Flask-Compress, by
the client's ``Accept-Encoding``); WhiteNoise sends the build's gzip copies of every other page.

Why Flask-Compress stays: each answer carries a fresh token, so no copy of these pages can be
compressed ahead of time as the build's are, and WhiteNoise compresses only the files it
serves; compression, ``Accept-Encoding`` negotiation and ``Vary`` are the library's, not
code of ours. It takes the contact page from 21 KB to 5.2 KB with gzip (Brotli 5.1 KB, zstd
5.6 KB).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, Flask, current_app
from flask_compress import Compress
from werkzeug.wrappers import Response

from consent_api.exc import ApiError, ValidationFailed
from consent_api.inquiries import tokens as form_tokens
from consent_api.site import registry
from consent_api.site.form_markup import REFERENCE_MARKER, render_form, templates
from consent_api.site.forms import CONTACT, FORMS, Form
from consent_api.web import security, static_site

bp = Blueprint("form_pages", __name__)
compress = Compress()

#: A relative URL in a built page's link or source: no scheme, not from the root, no fragment
#: alone (MkDocs writes every attribute in double quotes).
_RELATIVE = re.compile(r'(?<=\s)(href|src)="(?![a-zA-Z][a-zA-Z0-9+.-]*:|/|#)([^"]*)"')
#: A refusal the visitor can fix by changing the form: what server-rendered form frameworks
#: answer. Other refusals (429, 503) keep their own status, with the form shown the same way.
UNPROCESSABLE = 422


def built(page: str) -> str | None:
    """The built page at ``page`` (a URL under the site), if the site is built beside us, with
    its relative links made paths from the site's root: the service answers it at other URLs
    too (a refused post, an emailed link), where ``../`` would lead somewhere else."""
    site_dir = current_app.config["SITE_DIR"]
    path = Path(site_dir) / page / "index.html" if site_dir else None
    if path is None or not path.is_file():
        return None
    base = f"/{page}"
    return _RELATIVE.sub(
        lambda link: f'{link[1]}="{urljoin(base, link[2])}"', path.read_text(encoding="utf-8")
    )


def html(text: str, status: int = 200) -> Response:
    """A page of the site answered by the service: never cached, under the site's CSP."""
    response = Response(text, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # every visitor gets a token of their own
    # Answered under /api/ too (a refused post): the site's policy, not the API's "none".
    csp = security.site_csp(current_app)
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


def form_page(
    form: Form,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    """The built form page with the form rendered again: a fresh token, and any errors and
    input given."""
    fragment = render_form(
        form,
        api_base=registry.get().api_base,
        token=form_tokens.issue(),
        values=values,
        errors=errors,
        message=message,
    )
    start, end = f"<!--inquiry-form:{form.kind}-->", f"<!--/inquiry-form:{form.kind}-->"
    page = built(form.page)
    if page is None or start not in page or end not in page:
        # No built site beside the service: the form alone still works.
        return html(f"<!doctype html>\n<title>{form.submit}</title>\n{fragment}\n", status)
    before, rest = page.split(start, 1)
    return html(before + fragment + rest.split(end, 1)[1], status)


def refused(form: Form, data: Mapping[str, Any], error: ApiError) -> Response:
    """The answer to a refused plain HTML post: the form page in the response itself, with
    ``error`` beside the fields and the visitor's input in them (never in a URL)."""
    values = {field.name: data.get(field.name) for field in form.fields}
    fields = error.fields if isinstance(error, ValidationFailed) else {}
    message = "" if fields else error.message
    status = UNPROCESSABLE if error.status == 400 else error.status
    return form_page(form, values, fields, message, status)


def _thanks(form: Form, reference: str = "") -> Response:
    page = built(form.thanks)
    if page is None:
        return static_site.not_found_page()
    if reference:
        fragment = templates.get_template("inquiry_reference.html").render(reference=reference)
        page = page.replace(REFERENCE_MARKER, fragment, 1)
    return html(page)


def privacy_thanks(form: Form, reference: str) -> Response:
    """The thank-you page with a privacy request's reference, answered to the post itself: the
    reference names a person's request, so it goes in no URL."""
    return _thanks(form, reference)


def thanks_url(form: Form) -> str:
    """The thank-you page of ``form``."""
    return f"/{form.thanks}"


for _form in FORMS.values():
    bp.add_url_rule(f"/{_form.page}", _form.kind, compress.compressed()(partial(form_page, _form)))
bp.add_url_rule(
    f"/{CONTACT.thanks}", "contact_thanks", compress.compressed()(partial(_thanks, CONTACT))
)


def init_app(app: Flask) -> None:
    # Only these pages: API answers are small, and the static files have their gzip copies.
    app.config.setdefault("COMPRESS_REGISTER", False)
    compress.init_app(app)
    app.register_blueprint(bp)
    # These pages exist as built files too; the service must answer them itself.
    dynamic = app.extensions.setdefault(static_site.DYNAMIC, set())
    dynamic.update({f"/{form.page}" for form in FORMS.values()} | {f"/{CONTACT.thanks}"})
