"""The form pages: rendered into the site by the build, and served again by the service.

The build (``overrides/hooks/forms.py``) puts each form, rendered from ``templates/`` and the
declarations in ``forms``, into its page between two markers. The service serves the same built
pages at the same URLs with that region rendered again: with a fresh form token, which a static
page cannot carry, and, after a plain HTML post with errors, with the errors and the visitor's
input. The input travels in the 303 redirect as a short-lived signed token (``?state=``); the
access log never records query strings. The privacy-request thank-you page shows its reference.
Being rendered per request, these pages are compressed here (Flask-Compress, by the client's
``Accept-Encoding``); WhiteNoise sends the build's gzip copies of every other page.

Why Flask-Compress stays: each answer carries a fresh token, so no copy of these pages can be
compressed ahead of time as the build's are, and WhiteNoise compresses only the files it
serves; compression, ``Accept-Encoding`` negotiation and ``Vary`` are the library's, not
code of ours. It takes the contact page from 21 KB to 5.2 KB with gzip (Brotli 5.1 KB, zstd
5.6 KB).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, redirect, request
from flask_compress import Compress
from itsdangerous import BadSignature
from werkzeug.wrappers import Response

from consent_api.exc import ApiError, BadReceipt, ValidationFailed
from consent_api.inquiries import tokens as form_tokens
from consent_api.records import signing
from consent_api.site import registry
from consent_api.site.form_markup import REFERENCE_MARKER, render_form, templates
from consent_api.site.forms import CONTACT, FORMS, Form
from consent_api.web import static_site

bp = Blueprint("form_pages", __name__)
compress = Compress()


def back_to_form(form: Form, data: Mapping[str, Any], error: ApiError) -> Response:
    """303 to the form page, which shows ``error`` and the visitor's input again."""
    values = {field.name: data.get(field.name) for field in form.fields}
    fields = error.fields if isinstance(error, ValidationFailed) else {}
    message = "" if fields else error.message
    state = signing.timed(signing.FORM_STATE).dumps(
        {"values": values, "errors": fields, "message": message}
    )
    return redirect(f"/{form.page}?state={state}", 303)


def _built(page: str) -> str | None:
    site_dir = current_app.config["SITE_DIR"]
    path = Path(site_dir) / page / "index.html" if site_dir else None
    return path.read_text(encoding="utf-8") if path and path.is_file() else None


def _html(text: str) -> Response:
    response = Response(text, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"  # every visitor gets a token of their own
    return response


def _form_page(form: Form) -> Response:
    state: dict[str, Any] = {}
    if "state" in request.args:
        try:
            state = signing.timed(signing.FORM_STATE).loads(
                request.args["state"], max_age=current_app.config["FORM_STATE_SECONDS"]
            )
        except BadSignature:
            state = {"message": "Your earlier input has expired; please fill in the form again."}
    fragment = render_form(
        form,
        api_base=registry.get().api_base,
        token=form_tokens.issue(),
        values=state.get("values"),
        errors=state.get("errors"),
        message=state.get("message", ""),
    )
    start, end = f"<!--inquiry-form:{form.kind}-->", f"<!--/inquiry-form:{form.kind}-->"
    page = _built(form.page)
    if page is None or start not in page or end not in page:
        # No built site beside the service: the form alone still works.
        return _html(f"<!doctype html>\n<title>{form.submit}</title>\n{fragment}\n")
    before, rest = page.split(start, 1)
    return _html(before + fragment + rest.split(end, 1)[1])


def _thanks_page(form: Form) -> Response:
    page = _built(form.thanks)
    if page is None:
        return static_site.not_found_page()
    reference = ""
    if "ref" in request.args:
        try:
            reference = signing.read_receipt(form.kind, request.args["ref"])
        except BadReceipt:
            reference = ""
    if reference:
        fragment = templates.get_template("inquiry_reference.html").render(reference=reference)
        page = page.replace(REFERENCE_MARKER, fragment, 1)
    return _html(page)


def thanks_url(form: Form, reference: str | None = None) -> str:
    """The thank-you page; with a signed reference for a privacy request."""
    url = f"/{form.thanks}"
    return f"{url}?ref={signing.receipt(form.kind, reference)}" if reference else url


for _form in FORMS.values():
    bp.add_url_rule(f"/{_form.page}", _form.kind, compress.compressed()(partial(_form_page, _form)))
bp.add_url_rule(
    f"/{CONTACT.thanks}", "contact_thanks", compress.compressed()(partial(_thanks_page, CONTACT))
)


def init_app(app: Flask) -> None:
    # Only these pages: API answers are small, and the static files have their gzip copies.
    app.config.setdefault("COMPRESS_REGISTER", False)
    compress.init_app(app)
    app.register_blueprint(bp)
    # These pages exist as built files too; the service must answer them itself.
    dynamic = app.extensions.setdefault(static_site.DYNAMIC, set())
    dynamic.update({f"/{form.page}" for form in FORMS.values()} | {f"/{CONTACT.thanks}"})
