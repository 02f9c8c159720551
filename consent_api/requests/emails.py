"""The emails of a privacy request, built by the outbox when it sends them (``outbox.content``)
from the request's record and its log entry: the confirmation link, the confirmation of receipt
with the due date, an extension, a denial, and the answer.

Each goes to the address the request came from and to nobody else; only the link to confirm
is sent before the address is verified.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app

from consent_api.inquiries.notify import one_line
from consent_api.outbox import content
from consent_api.records import store as records
from consent_api.requests import deadlines, links, log
from consent_api.requests.answers import templates
from consent_api.site import registry
from consent_api.site.forms import CORRECTABLE, PRIVACY_REQUEST

PURPOSES = ("verify", "confirm", "extend", "deny", "fulfil")
SUBJECTS = {
    "verify": "Confirm your privacy request",
    "confirm": "We have received your privacy request {reference}",
    "extend": "We need more time for your privacy request {reference}",
    "deny": "Our answer to your privacy request {reference}",
    "fulfil": "Our answer to your privacy request {reference}",
}


def public_url() -> str:
    """The site's address for links: ``PUBLIC_URL``, or ``site_url`` in ``mkdocs.yml``."""
    return str(current_app.config["PUBLIC_URL"] or registry.get().site_url).rstrip("/")


def link(purpose: str, reference: str) -> str:
    """The page a link in an email opens (``links.VERIFY`` or ``links.PACKAGE``)."""
    page = "confirm" if purpose == links.VERIFY else "download"
    token = links.make(purpose, reference)
    return f"{public_url()}{registry.get().api_base}/privacy-requests/{page}/{token}"


def _values(record: records.Record, entry: log.Entry) -> dict[str, Any]:
    payload = record.payload
    labels = dict(PRIVACY_REQUEST.field("request_type").choices)
    field = dict(CORRECTABLE).get(payload.get("correct_field", ""), "")
    return {
        "reference": entry.reference,
        "request_type": entry.request_type,
        "what": labels[entry.request_type].split(":")[0].lower(),
        "received": deadlines.day(entry.received_at),
        "due": deadlines.day(entry.due_at),
        "entry": entry,
        "counts": sum(entry.counts.values()),
        "field": field,
        "value": payload.get("correct_value", ""),
        "requests_page": f"{public_url()}/{PRIVACY_REQUEST.page}",
    }


def _builder(purpose: str) -> content.Builder:
    def build(record: records.Record) -> EmailMessage:
        entry = log.get(record.public_id)
        values = _values(record, entry)
        if purpose == "verify":
            values["link"] = link(links.VERIFY, entry.reference)
        if purpose == "fulfil" and entry.request_type == "access":
            values["link"] = link(links.PACKAGE, entry.reference)
        config = current_app.config
        email = EmailMessage()
        email["Subject"] = SUBJECTS[purpose].format(reference=entry.reference)
        email["From"] = config["MAIL_FROM"]
        email["To"] = one_line(record.payload["email"])
        email["Reply-To"] = config["PRIVACY_EMAIL"] or config["SALES_EMAIL"]
        email.set_content(templates.get_template(f"{purpose}.txt").render(values))
        return email

    return build


def init_app(app: Flask) -> None:
    for purpose in PURPOSES:
        content.register(app, "email", purpose, _builder(purpose))
