"""A visitor's cookie-consent records, downloaded or deleted with the receipt in their browser.

Consent records hold no email address, so the request page cannot find them; the signed receipt
that the banner keeps in the browser that made the choice is the proof instead: the service made
it, so whoever sends it holds that browser's records. ``POST /api/consent-records`` answers every
record of the receipt's consent ID, ``POST /api/consent-records/delete`` deletes them all. Each
is a privacy request answered at once: logged in the request log (method ``receipt``, no
subject) in the transaction that does the work. The receipt travels in the body, never in a
URL, so no access log or proxy sees it. A forged receipt, or one whose records are gone, is
refused before anything is read, changed or logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from flask import Blueprint, Flask, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from sqlalchemy import Connection

from consent_api.exc import NotFound
from consent_api.inquiries import ratelimit
from consent_api.records import store as records
from consent_api.requests import log, rights
from consent_api.site.registry import CONSENT
from consent_api.web import bodies, openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("consent_records", __name__, url_prefix="/api/consent-records")

#: Times are written like 2026-03-24T12:00:00.123456Z (UTC).
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
GONE = "This browser's consent records are no longer held: they were deleted, or have expired."


class ReceiptBody(BaseModel):
    """The receipt of one of the visitor's consent records, as the banner keeps it."""

    model_config = ConfigDict(extra="forbid", title="ConsentRecordsRequest")

    receipt: str = Field(
        min_length=1,
        max_length=200,
        description=(
            "A receipt POST /api/consent answered: its signature proves that the records of "
            "its consent ID are the sender's."
        ),
    )


class StoredConsent(BaseModel):
    """One stored consent record, signature and all (a staff note on a hold is not given)."""

    kind: str
    public_id: str
    consent_id: str
    created_at: Timestamp
    expires_at: Timestamp
    due_at: Timestamp = Field(description="When the purge deletes it, unless it is on hold.")
    policy_version: str
    payload: dict[str, Any] = Field(
        description="The choice: action, choices, banner_fingerprint, gpc and page."
    )
    hold: bool = Field(description="Kept past its period for a legal hold.")
    signature: str
    signature_valid: bool


class ConsentRecords(BaseModel):
    """Every stored record of the receipt's consent ID: the answer to an access request."""

    reference: str = Field(description="The request's reference in the request log.")
    generated_at: Timestamp
    consent_id: str
    records: list[StoredConsent]


class DeletedConsent(BaseModel):
    kind: str
    public_id: str
    created_at: Timestamp
    was_on_hold: bool


class ConsentRecordsDeleted(BaseModel):
    """What a deletion request deleted: every record of the receipt's consent ID."""

    reference: str = Field(description="The request's reference in the request log.")
    consent_id: str
    deleted: list[DeletedConsent]
    counts: dict[str, int] = Field(description="How many records of each kind were deleted.")


def _consent_id() -> str:
    """The consent ID the posted receipt proves: ``BadReceipt`` (400) if forged or damaged,
    ``NotFound`` (404) once its record is gone. Counted by the rate limit first: each answer
    is a row in the request log, kept for 24 months, and each deletion a scrub of SQLite's files."""
    ratelimit.check()
    receipt = bodies.json_body(ReceiptBody).receipt
    consent_id = records.from_receipt(CONSENT, receipt).consent_id
    assert consent_id is not None  # every consent record is stored under one
    return consent_id


def _log(connection: Connection, reference: str, request_type: str, counts: dict[str, int]) -> None:
    if not counts:
        # Deleted between the receipt's check and this transaction: nothing was done, so
        # nothing is logged (the exception rolls the transaction back).
        raise NotFound(GONE)
    moment = records.now()
    log.add(
        connection,
        reference=reference,
        request_type=request_type,
        method="receipt",
        received_at=moment,
        status=log.FULFILLED,
        verified_at=moment,
        responded_at=moment,
        response="records exported" if request_type == "access" else "records erased",
        counts=counts,
    )


def download() -> Response:
    """Download every consent record of the receipt's consent ID (an access request).

    The answer is logged in the request log as a fulfilled access request. 400 for a forged or
    damaged receipt, 404 once its records are deleted or expired; neither is logged.
    """
    consent_id, reference = _consent_id(), records.new_id()
    exported = rights.export(
        consent_id=consent_id,
        reference=reference,
        answered=lambda connection, listed: _log(connection, reference, "access", listed["counts"]),
    )
    answer = ConsentRecords(
        reference=reference,
        generated_at=records.isoformat(records.now()),
        consent_id=consent_id,
        records=[StoredConsent.model_validate(record) for record in exported["records"]],
    )
    return Response(answer.model_dump_json(), 200, mimetype="application/json")


def delete() -> Response:
    """Delete every consent record of the receipt's consent ID (a deletion request).

    The deletion and its entry in the request log commit together. The banner should then
    forget its stored choice and ask again. 400 for a forged or damaged receipt; 404 once the
    records are deleted or expired, so a repeated request deletes and logs nothing.
    """
    consent_id, reference = _consent_id(), records.new_id()
    erased = rights.erase(
        consent_id=consent_id,
        reference=reference,
        answered=lambda connection, counts: _log(connection, reference, "delete", counts),
        # Consent records are written once, never held or corrected, so no stale copy is left
        # for a rebuild to remove; and a visitor's click must not make every writer wait.
        full_vacuum=False,
    )
    answer = ConsentRecordsDeleted(
        reference=reference,
        consent_id=consent_id,
        deleted=[DeletedConsent.model_validate(row) for row in erased["deleted"]],
        counts=erased["counts"],
    )
    return Response(answer.model_dump_json(), 200, mimetype="application/json")


#: 409: a stored record no longer matches its signature (``RecordTampered``).
_REFUSALS: dict[int, Any] = {status: ErrorBody for status in (400, 404, 409, 413, 415)}

bp.add_url_rule(
    "",
    "download",
    openapi.documented(
        tags=("consent",), body=ReceiptBody, responses={200: ConsentRecords, **_REFUSALS}
    )(download),
    methods=["POST"],
)
bp.add_url_rule(
    "/delete",
    "delete",
    openapi.documented(
        tags=("consent",), body=ReceiptBody, responses={200: ConsentRecordsDeleted, **_REFUSALS}
    )(delete),
    methods=["POST"],
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
