"""What sales and a CRM are told about an inquiry: the email to ``SALES_EMAIL`` and the
webhook event (``deliveries`` queues them).

The email carries the lead (``NOTIFY_CONTENT = full``): every field, as plain text and as HTML
rendered from ``templates/`` with autoescaping, with ``Reply-To`` the sender; or only the
reference (``reference``), for mailboxes that must hold no personal data. Header values are
single lines whatever the record holds: a CR or LF cannot add a header.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from flask import current_app
from jinja2 import Environment, PackageLoader, select_autoescape

from consent_api.records import store as records
from consent_api.site import registry
from consent_api.site.forms import FORMS

#: The webhook event's ``type`` and the version of its ``data``'s shape (documented in the
#: README); a change that could break a receiver comes with a new version.
EVENT_TYPE = "inquiry.created"
SCHEMA_VERSION = 1
PRIVACY_TOPIC = "privacy"

templates = Environment(
    loader=PackageLoader("consent_api.inquiries", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)


def one_line(value: object) -> str:
    """``value`` as a header may carry it: every run of whitespace, CR and LF included, one
    space."""
    return " ".join(str(value).split())


def noun(record: records.Record) -> str:
    """What the inquiry is: "demo request", "contact inquiry" or "privacy request"."""
    if record.kind == "contact" and record.payload.get("topic") == PRIVACY_TOPIC:
        return "privacy request"
    form = FORMS.get(record.kind)
    return form.noun if form else record.kind


def fields(record: records.Record) -> list[tuple[str, str]]:
    """The filled fields as (label, value), in the form's order; choices by their label."""
    payload = record.payload
    form = FORMS[record.kind]
    shown = []
    for field in form.fields:
        value = payload.get(field.name)
        if value in (None, ""):
            continue
        value = dict(field.choices).get(value, value) if field.choices else value
        shown.append((field.label, str(value)))
    return shown


def _retention_note(record: records.Record) -> str:
    period = registry.get().retention[record.kind]
    return (
        "This email is a copy kept under this mailbox's own retention. The website deletes its "
        f"record of this {noun(record)} after {period.days} days (see /legal/retention/)."
    )


def notification(record: records.Record) -> EmailMessage:
    """The email to sales about ``record``."""
    config = current_app.config
    payload = record.payload
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = config["SALES_EMAIL"]
    values: dict[str, Any] = {
        "noun": noun(record),
        "kind": record.kind,
        "reference": record.public_id,
        "created_at": records.isoformat(record.created_at),
    }
    if config["NOTIFY_CONTENT"] == "reference":
        email["Subject"] = f"New {values['noun']} from the website ({record.public_id})"
        email.set_content(templates.get_template("reference.txt").render(values))
        return email
    who = one_line(payload.get("organization") or payload.get("name") or "the website")
    values.update(
        subject=f"New {values['noun']}: {who} ({record.public_id})",
        fields=fields(record),
        sender=one_line(payload.get("name") or "the sender"),
        retention=_retention_note(record),
    )
    email["Subject"] = values["subject"]
    email["Reply-To"] = Address(
        display_name=one_line(payload.get("name") or ""), addr_spec=one_line(payload["email"])
    )
    email.set_content(templates.get_template("notification.txt").render(values))
    email.add_alternative(templates.get_template("notification.html").render(values), "html")
    return email


def event(record: records.Record) -> dict[str, Any]:
    """The webhook event about ``record``: the Standard Webhooks payload shape."""
    return {
        "type": EVENT_TYPE,
        "timestamp": records.isoformat(record.created_at),
        "schema_version": SCHEMA_VERSION,
        "data": {
            "reference": record.public_id,
            "kind": record.kind,
            "subject": noun(record),
            "created_at": records.isoformat(record.created_at),
            "policy_version": record.policy_version,
            "fields": record.payload,
        },
    }
