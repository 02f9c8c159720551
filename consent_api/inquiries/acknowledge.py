"""The optional receipt to the sender (``ACKNOWLEDGE``): the reference and what happens next.

Anyone can type someone else's address into a form, so the receipt carries nothing the sender
wrote (not even the name) and goes to one address at most ``ACKNOWLEDGE_LIMIT`` times (one per
hour). The limit counts a keyed hash of the address, in the rate limit's storage
(``RATELIMIT_STORAGE_URI``, shared by every instance through Redis): never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from email.message import EmailMessage

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from consent_api.exc import ConfigError
from consent_api.inquiries import notify
from consent_api.outbox import content
from consent_api.records import store as records

PURPOSE = "acknowledge"
EXTENSION = "consent_api.inquiries.acknowledge"
SCOPE = "acknowledgements"
logger = logging.getLogger("consent_api.inquiries.acknowledge")

NEXT_STEP = {
    "demo request": "someone from our team will be in touch to arrange your demo.",
    "contact inquiry": "we will reply to this address by email.",
    "privacy request": (
        "we will reply to this address by email about your request. Please keep the reference "
        "ID: it identifies this request."
    ),
}


@dataclass(frozen=True)
class AcknowledgeLimit:
    limiter: FixedWindowRateLimiter
    item: RateLimitItem
    prefix: str


def init_app(app: Flask) -> None:
    """Check the settings and register the receipt with the outbox."""
    config = app.config
    if not isinstance(config["ACKNOWLEDGE"], bool):
        raise ConfigError(
            f"CONSENT_API_ACKNOWLEDGE must be true or false, not {config['ACKNOWLEDGE']!r}"
        )
    # Registered even when off: receipts queued before it was switched off still go out.
    content.register(app, "email", PURPOSE, receipt)
    if not config["ACKNOWLEDGE"]:
        return
    if not config["SMTP_HOST"]:
        raise ConfigError("CONSENT_API_ACKNOWLEDGE needs CONSENT_API_SMTP_HOST to send email")
    try:
        item = parse(config["ACKNOWLEDGE_LIMIT"])
    except ValueError as error:
        raise ConfigError(
            "CONSENT_API_ACKNOWLEDGE_LIMIT is not a rate limit like '1 per hour': "
            f"{config['ACKNOWLEDGE_LIMIT']!r}"
        ) from error
    store = storage_from_string(config["RATELIMIT_STORAGE_URI"])
    if not isinstance(store, Storage):
        raise ConfigError("CONSENT_API_RATELIMIT_STORAGE_URI must name a synchronous storage")
    app.extensions[EXTENSION] = AcknowledgeLimit(
        FixedWindowRateLimiter(store), item, config["RATELIMIT_KEY_PREFIX"]
    )


def _address_key(record: records.Record) -> str:
    # The record's subject is an unkeyed hash of the address; keyed, it cannot be looked up.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, (record.subject or "").encode(), hashlib.sha256).hexdigest()[:32]


def wanted(record: records.Record) -> bool:
    """Whether ``record``'s sender gets a receipt: ``ACKNOWLEDGE`` is on and the address has
    not had ``ACKNOWLEDGE_LIMIT`` of them. Counts this one."""
    limit: AcknowledgeLimit | None = current_app.extensions.get(EXTENSION)
    if limit is None or not record.subject:
        return False
    try:
        allowed = limit.limiter.hit(limit.item, limit.prefix, SCOPE, _address_key(record))
    except Exception:
        # No count, no receipt: the inquiry itself matters more, and is stored regardless.
        logger.exception("the acknowledgement limit's storage failed; no receipt is sent")
        return False
    return bool(allowed)


def receipt(record: records.Record) -> EmailMessage:
    """The receipt to the sender of ``record``."""
    config = current_app.config
    what = notify.noun(record)
    email = EmailMessage()
    email["Subject"] = f"We have received your {what} (reference {record.public_id})"
    email["From"] = config["MAIL_FROM"]
    email["To"] = notify.one_line(record.payload["email"])
    email["Reply-To"] = config["SALES_EMAIL"]
    values = {
        "noun": what,
        "reference": record.public_id,
        "next_step": NEXT_STEP.get(what, NEXT_STEP["contact inquiry"]),
    }
    email.set_content(notify.templates.get_template("acknowledgement.txt").render(values))
    return email
