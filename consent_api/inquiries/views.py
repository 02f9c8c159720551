"""``POST /api/contact`` and ``POST /api/demo``: inquiries from the site's forms.

Each takes the form's fields form-encoded (a plain HTML form: answered with a 303 to the
thank-you page, or with the form page itself showing the errors, status 422) or as JSON (the
page's script: answered with JSON). In order: the rate limit, the honeypot (a filled one gets
the usual success answer, is logged, and nothing is stored), the form token, the fields; then
the record, the used token and the sales notification are committed together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, jsonify, redirect
from pydantic import BaseModel, Field
from werkzeug.wrappers import Response

from consent_api.exc import ApiError
from consent_api.inquiries import deliveries, ratelimit
from consent_api.inquiries import pages as form_pages
from consent_api.inquiries import tokens as form_tokens
from consent_api.inquiries.models import ContactInquiry, DemoRequest, Inquiry
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.site import registry
from consent_api.site.forms import CONTACT, DEMO, HONEYPOT, TOKEN, Form
from consent_api.web import bodies, openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("inquiries", __name__, url_prefix="/api")
logger = logging.getLogger("consent_api.inquiries")

PRIVACY_TOPIC = "privacy"
View = Callable[[], Response]


class InquiryAccepted(BaseModel):
    """The inquiry is stored (and sales will be told)."""

    reference: str = Field(description="The record's public ID; quote it to find the inquiry.")
    message: str = Field(description="What to tell the visitor.")
    thanks_url: str = Field(description="The site's thank-you page for this form.")


def _success_message(form: Form, reference: str, privacy: bool) -> str:
    if privacy:
        return (
            "Thank you: we have received your privacy request. Its reference ID is "
            f"{reference}; please quote it in any message about this request."
        )
    if form is DEMO:
        return "Thank you: your demo request has been sent. We will be in touch to arrange it."
    return "Thank you: your message has been sent. We will reply by email."


def _accepted(form: Form, reference: str, privacy: bool, plain: bool) -> Response:
    thanks = form_pages.thanks_url(form)
    if plain and privacy:
        return form_pages.privacy_thanks(form, reference)
    if plain:
        return redirect(thanks, 303)
    answer = InquiryAccepted(
        reference=reference,
        message=_success_message(form, reference, privacy),
        thanks_url=thanks,
    )
    response = jsonify(answer.model_dump())
    response.status_code = 201
    return response


def _store(form: Form, inquiry: Inquiry, token: form_tokens.FormToken) -> records.Record:
    record = records.new(
        form.kind,
        inquiry.stored(),
        registry.get().current_version().id,
        subject_email=getattr(inquiry, "email"),  # noqa: B009 - both forms have one
    )
    planned = deliveries.plan(record)

    def save(connection: Any) -> records.Record | None:
        if not form_tokens.use(connection, token):
            return None
        records.insert(connection, record)
        deliveries.enqueue(connection, record, planned)
        return record

    stored = storage.write(save)
    if stored is None:
        raise form_tokens.reject("used")
    return stored


def submit(form: Form, model: type[Inquiry]) -> Response:
    """Take one inquiry for ``form``; see the module's docstring for the order of checks."""
    data, plain = bodies.submitted()
    try:
        ratelimit.check()
        privacy = data.get("topic") == PRIVACY_TOPIC
        if data.get(HONEYPOT):
            # Counted by this line (a spike shows in the log), without what was sent.
            logger.warning("honeypot: a %s post was dropped as a bot's", form.kind)
            return _accepted(form, records.new_id(), privacy, plain)
        token = form_tokens.check(data.get(TOKEN))
        inquiry = bodies.validate(model, data)
        record = _store(form, inquiry, token)
    except ApiError as error:
        if not plain:
            raise
        return form_pages.refused(form, data, error)
    return _accepted(form, record.public_id, privacy, plain)


def _documented(model: type[Inquiry]) -> Callable[[View], View]:
    decorator: Callable[[View], View] = openapi.documented(
        tags=("inquiries",),
        body=model,
        media_types=(bodies.JSON, *bodies.FORM_MIMETYPES),
        responses={
            200: None,
            201: InquiryAccepted,
            303: None,
            400: ErrorBody,
            413: ErrorBody,
            415: ErrorBody,
            422: None,
        },
    )
    return decorator


@bp.post("/contact")
@_documented(ContactInquiry)
def contact() -> Response:
    """Send a message from the contact form.

    Form-encoded (a plain HTML form): 303 to the thank-you page (a privacy request: the
    thank-you page with its reference, 200), or 422 with the form page showing the errors.
    JSON: 201 once stored; 400 with a message per field, or with code `form_token` when
    the form token is missing, forged, too fresh, too old or already used.
    """
    return submit(CONTACT, ContactInquiry)


@bp.post("/demo")
@_documented(DemoRequest)
def demo() -> Response:
    """Request a demo.

    Answers as `POST /api/contact` does.
    """
    return submit(DEMO, DemoRequest)


#: What a plain HTML form is answered with a page for: a privacy request's thank-you page (200),
#: and the form page showing a refusal.
HTML_ANSWERS = ("200", "422", "429", "503")


def _refine_document(spec: dict[str, Any]) -> None:
    """A plain HTML form is answered with pages: document them beside the JSON answers."""
    page = {"text/html": {"schema": {"type": "string"}}}
    for path in ("/api/contact", "/api/demo"):
        operation = spec["paths"][path]["post"]
        for status in HTML_ANSWERS:
            answer = operation["responses"][status]
            answer["content"] = {**answer.get("content", {}), **page}


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(form_tokens.bp)
    openapi.refine(app, _refine_document)
