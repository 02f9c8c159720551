"""The request page's flow: ``POST /api/privacy-requests``, then the link in the email.

A request is taken as the inquiry forms are (rate limit, honeypot, form token, fields; a plain
post with errors gets the form page back, 422) and answered the same way whether or not we
hold anything about the address: the answer tells nobody who is a customer. The email's link
opens a page that asks for one click to confirm (``GET``; a mail scanner that follows links
confirms nothing); the click (``POST``) verifies the request, keeps its record while it is open
and queues the confirmation with the due date.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from flask import Blueprint, Flask, jsonify
from pydantic import BaseModel, Field
from pydantic_core import PydanticCustomError
from werkzeug.wrappers import Response

from consent_api.exc import ApiError, NotFound, ValidationFailed
from consent_api.inquiries import models, ratelimit
from consent_api.inquiries import pages as form_pages
from consent_api.inquiries import tokens as form_tokens
from consent_api.outbox import queue
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.requests import answers, deadlines, links, log, request
from consent_api.requests.links import BadLink, LinkBody
from consent_api.site.forms import CONTACT, DEMO, HONEYPOT, PRIVACY_REQUEST, TOKEN
from consent_api.web import bodies, static_site
from consent_api.web.openapi import ErrorBody

bp = Blueprint("privacy_requests", __name__, url_prefix="/api/privacy-requests")
pages_bp = Blueprint("privacy_request_pages", __name__)
logger = logging.getLogger("consent_api.requests")

PrivacyRequest = models.model(PRIVACY_REQUEST)
#: What the request page's answer says, whatever we hold about the address.
SENT = (
    "Check your email. If the address you gave is yours, an email from us is on its way to it "
    "with a link to confirm your request. Follow it within 24 hours; until then we do nothing "
    "with the request."
)
USED = (
    "This link has been used already: your request is confirmed, and its reference is in our email."
)
UNKNOWN = (
    "We have no request for this link any more: unconfirmed requests are deleted after 7 days."
)


class RequestSent(BaseModel):
    """The request is stored and its confirmation link is on its way (whoever the address is)."""

    message: str = Field(description="What to tell the requester.")


class RequestConfirmed(BaseModel):
    """The request is verified: its reference and the date its response is due."""

    reference: str
    status: str
    due_date: str = Field(description="The date by which we respond (YYYY-MM-DD).")


def _correction(data: dict[str, Any]) -> dict[str, str]:
    """A correction's field and new value, checked as the inquiry forms check that field."""
    name, value = data.get("correct_field"), data.get("correct_value")
    problems = {}
    if not name:
        problems["correct_field"] = "Choose what is wrong."
    if not value:
        problems["correct_value"] = "Enter what it should say."
    if not problems:
        target = next(f for form in (CONTACT, DEMO) for f in form.fields if f.name == name)
        try:
            value = models.clean(target, value)
        except PydanticCustomError as error:
            problems["correct_value"] = error.message()
    if problems:
        raise ValidationFailed("Please correct the fields marked below.", fields=problems)
    return {"correct_field": str(name), "correct_value": str(value)}


def _payload(body: BaseModel) -> dict[str, Any]:
    data = body.model_dump(exclude={HONEYPOT, TOKEN})
    payload = {"request_type": data["request_type"], "email": data["email"]}
    if data["request_type"] == "correct":
        payload |= _correction(data)
    return payload


def _sent(plain: bool) -> Response:
    if plain:
        return answers.page("sent")
    response = jsonify(RequestSent(message=SENT).model_dump())
    response.status_code = 201
    return response


def submit() -> Response:
    """Take a request from the page; see the module's docstring."""
    data, plain = bodies.submitted()
    try:
        ratelimit.check()
        if data.get(HONEYPOT):
            logger.warning("honeypot: a privacy request post was dropped as a bot's")
            return _sent(plain)
        token = form_tokens.check(data.get(TOKEN))
        record = request.new(_payload(bodies.validate(PrivacyRequest, data)))

        def save(connection: Any) -> bool:
            if not form_tokens.use(connection, token):
                return False
            request.add(connection, record)
            return True

        if not storage.write(save):
            raise form_tokens.reject("used")
    except ApiError as error:
        if not plain:
            raise
        return form_pages.refused(PRIVACY_REQUEST, data, error)
    return _sent(plain)


def _waiting(token: object) -> request.Request:
    """The unverified request a confirmation link names; ``BadLink`` if there is none."""
    reference = links.read(links.VERIFY, token)
    try:
        entry = log.get(reference)
    except NotFound as error:
        raise BadLink(UNKNOWN, code="link_unknown", status=404) from error
    # The log before the record: an answered request's record is purged, and its link is
    # then one that was used, not one we cannot find.
    if entry.status == log.EXPIRED:
        raise BadLink(links.MESSAGES[links.VERIFY], code="link_expired", status=410)
    if entry.status != log.UNVERIFIED:
        raise BadLink(USED, code="link_used", status=409)
    try:
        return request.Request(entry, records.get(reference, kind=PRIVACY_REQUEST.kind))
    except NotFound as error:
        raise BadLink(UNKNOWN, code="link_unknown", status=404) from error


def verify(token: object) -> log.Entry:
    """Verify the request a confirmation link names, once: hold its record, queue the email."""
    found = _waiting(token)
    reference = found.entry.reference

    def save(connection: Any) -> bool:
        changed = log.change(
            connection, reference, (log.UNVERIFIED,), status=log.VERIFIED, verified_at=records.now()
        )
        if changed:
            request.hold(connection, reference)
            queue.enqueue(connection, found.record, "email", "confirm")
        return changed

    with storage.transaction() as connection:
        if not save(connection):
            raise BadLink(USED, code="link_used", status=409)
    logger.info("privacy request %s verified", reference)
    return log.get(reference)


def confirm_page(token: str) -> Response:
    """The page the email's link opens: one button to confirm the request."""
    try:
        found = _waiting(token)
    except BadLink as error:
        return answers.problem(error)
    label = dict(PRIVACY_REQUEST.field("request_type").choices)[found.entry.request_type]
    return answers.page(
        "confirm",
        token=token,
        action=f"{answers.api_base()}/privacy-requests/confirm",
        button="Confirm my request",
        request_type=label.split(":")[0].lower(),
    )


def confirm() -> Response:
    """Confirm a request with the token from its email's link."""
    data, plain = bodies.submitted()
    try:
        entry = verify(bodies.validate(LinkBody, data).token if not plain else data.get("token"))
    except ApiError as error:
        if not plain:
            raise
        return answers.problem(error)
    due = entry.due_at
    if plain:
        return answers.page("confirmed", reference=entry.reference, due=deadlines.day(due))
    answer = RequestConfirmed(
        reference=entry.reference,
        status=entry.status,
        due_date=deadlines.local_date(due).isoformat(),
    )
    return jsonify(answer.model_dump())


bp.add_url_rule(
    "",
    "submit",
    answers.documented(
        {200: None, 201: RequestSent, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody, 422: None},
        PrivacyRequest,
    )(submit),
    methods=["POST"],
)
bp.add_url_rule(
    "/confirm",
    "confirm",
    answers.documented({200: RequestConfirmed, **answers.BAD_LINK, 415: ErrorBody}, LinkBody)(
        confirm
    ),
    methods=["POST"],
)
bp.add_url_rule(
    "/confirm/<token>", "confirm_page", answers.documented(answers.LINK_PAGE)(confirm_page)
)
pages_bp.add_url_rule(
    f"/{PRIVACY_REQUEST.page}",
    "form",
    form_pages.compress.compressed()(partial(form_pages.form_page, PRIVACY_REQUEST)),
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(pages_bp)
    request.init_app(app)
    log.init_app(app)
    dynamic = app.extensions.setdefault(static_site.DYNAMIC, set())
    dynamic.add(f"/{PRIVACY_REQUEST.page}")
    # A plain form's post and a link opened in a browser are answered with pages.
    refused = (400, 404, 409, 410, 429, 503)
    answers.document_pages(
        app,
        {
            ("post", "/api/privacy-requests"): (200, 422, 429, 503),
            ("post", "/api/privacy-requests/confirm"): (200, *refused),
            ("get", "/api/privacy-requests/confirm/{token}"): (200, 400, 404, 409, 410),
        },
    )
