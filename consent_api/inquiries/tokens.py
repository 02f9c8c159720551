"""Form tokens: signed proof that a form was shown a little while before it was sent.

A token names a random ID, timestamped and signed by itsdangerous (``signing.FORM_TOKEN``). An
inquiry is accepted with a token between ``FORM_TOKEN_MIN_SECONDS`` (bots post at once) and
``FORM_TOKEN_MAX_SECONDS`` old, once: a used token's ID is written to the database in the same
transaction as the inquiry, so it is refused on every instance that shares the database.
itsdangerous refuses a token past its maximum age; the minimum is this module's own check on
the time it signed, which it keeps to the second (so a token may be used up to a second early,
never later than ``usable_from`` says).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app
from itsdangerous import BadSignature, SignatureExpired
from pydantic import BaseModel, Field
from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite

from consent_api.exc import FormTokenRejected
from consent_api.records import signing
from consent_api.records import store as records
from consent_api.records.schema import used_form_tokens as table
from consent_api.web import openapi

bp = Blueprint("form_tokens", __name__, url_prefix="/api")

SEND_AGAIN = "This form could not be verified. Please send it again."
MESSAGES = {
    "missing": SEND_AGAIN,
    "forged": SEND_AGAIN,
    "too_fresh": "That was quicker than we expected. Please check the form and send it again.",
    "expired": "This form was open too long and has expired. Please send it again.",
    "used": "This form has already been sent. To send another message, send the form again.",
}


@dataclass(frozen=True)
class FormToken:
    id: str
    issued_at: dt.datetime

    @property
    def expires_at(self) -> dt.datetime:
        return self.issued_at + dt.timedelta(seconds=current_app.config["FORM_TOKEN_MAX_SECONDS"])


def issue() -> str:
    """A new token, issued now."""
    return signing.timed(signing.FORM_TOKEN).dumps(records.new_id())


def reject(reason: str) -> FormTokenRejected:
    return FormTokenRejected(MESSAGES[reason], reason=reason)


def check(token: object) -> FormToken:
    """The token if it is genuine and of an acceptable age; ``FormTokenRejected`` otherwise.
    Whether it was used already is known only when it is used (``use``)."""
    if not isinstance(token, str) or not token:
        raise reject("missing")
    config = current_app.config
    try:
        token_id, issued = signing.timed(signing.FORM_TOKEN).loads(
            token, max_age=config["FORM_TOKEN_MAX_SECONDS"], return_timestamp=True
        )
    except SignatureExpired as error:
        # itsdangerous also refuses a token signed in the future (another host's clock ahead).
        future = error.date_signed is not None and error.date_signed > records.now()
        raise reject("too_fresh" if future else "expired") from error
    except BadSignature as error:
        raise reject("forged") from error
    if not isinstance(token_id, str):
        raise reject("forged")
    if records.now() - issued < dt.timedelta(seconds=config["FORM_TOKEN_MIN_SECONDS"]):
        raise reject("too_fresh")
    return FormToken(token_id, issued)


def use(connection: Connection, token: FormToken) -> bool:
    """Record the token as used, in the caller's transaction; ``False`` if it already was.

    ``ON CONFLICT DO NOTHING`` rather than a failing insert: the write may share its transaction
    with other visitors' inquiries (group commit), which an error would roll back too.
    """
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    inserted = connection.execute(
        insert(table)
        .values(token_id=token.id, expires_at=token.expires_at)
        .on_conflict_do_nothing(index_elements=[table.c.token_id])
        .returning(table.c.token_id)
    ).first()
    # IDs of tokens that have expired anyway are no longer needed to refuse them.
    connection.execute(delete(table).where(table.c.expires_at < records.now()))
    return inserted is not None


class FormTokenAnswer(BaseModel):
    """A token for one inquiry, usable in a window of time."""

    form_token: str = Field(description="Send it back as the form's 'form_token' field.")
    usable_from: str = Field(json_schema_extra={"format": "date-time"})
    expires_at: str = Field(json_schema_extra={"format": "date-time"})


@bp.get("/form-token")
@openapi.documented(tags=("inquiries",), responses={200: FormTokenAnswer})
def new_token() -> dict[str, Any]:
    """A form token, for a page that was not served with one.

    Send it with one inquiry, no sooner than `usable_from` and no later than `expires_at`.
    """
    now = records.now()
    config = current_app.config
    answer = FormTokenAnswer(
        form_token=issue(),
        usable_from=records.isoformat(now + dt.timedelta(seconds=config["FORM_TOKEN_MIN_SECONDS"])),
        expires_at=records.isoformat(now + dt.timedelta(seconds=config["FORM_TOKEN_MAX_SECONDS"])),
    )
    return answer.model_dump()
