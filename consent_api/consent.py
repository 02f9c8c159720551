"""``POST /api/consent`` records a visitor's cookie choice; ``GET /api/consent/<receipt>`` shows it.

The categories and policy versions a choice may name come from the registry (``mkdocs.yml``), the
same declarations the banner is built from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, Flask, Response, request
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from consent_api.exc import BadReceipt, NotFound, RecordTampered
from consent_api.records import store as records
from consent_api.site import registry
from consent_api.site.registry import NECESSARY, Registry
from consent_api.web import openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("consent", __name__, url_prefix="/api")

KIND = "consent"
Action = Literal["accept_all", "reject_all", "save_choices"]
#: Times are written like 2026-03-24T12:00:00.123456Z (UTC).
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


def _registry(info: ValidationInfo) -> Registry:
    context = info.context or {}
    reg: Registry = context["registry"]
    return reg


class ConsentRequest(BaseModel):
    """A visitor's choice, as the banner posts it."""

    model_config = ConfigDict(extra="forbid", title="ConsentRequest")

    consent_id: str | None = Field(
        None,
        pattern=records.ID_PATTERN,
        description=(
            "The consent ID of an earlier choice, continued only with previous_receipt; "
            "null for a first choice."
        ),
    )
    previous_receipt: str | None = Field(
        None,
        max_length=200,
        description=(
            "The receipt of an earlier choice under consent_id, which proves the consent ID is "
            "the client's own. Without a receipt of that consent ID a new consent ID is started."
        ),
    )
    action: Action
    choices: dict[str, bool] = Field(
        max_length=64,
        description=f"'{NECESSARY}': true and one boolean per consent category of the site.",
    )
    policy_version: str = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}$", description="The Privacy Policy version shown."
    )
    banner_fingerprint: str = Field(
        pattern=r"^[0-9a-f]{8,64}$", description="The banner's fingerprint, as the page had it."
    )
    gpc: bool = Field(False, description="Global Privacy Control (also set by 'Sec-GPC: 1').")
    page: str = Field(
        max_length=512,
        pattern=r"^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]*$",
        description="The path of the page the choice was made on (no query, no fragment).",
    )

    @field_validator("policy_version")
    @classmethod
    def _known_version(cls, value: str, info: ValidationInfo) -> str:
        if value not in _registry(info).version_ids:
            raise PydanticCustomError("policy_version", "not a published policy version")
        return value

    @field_validator("choices")
    @classmethod
    def _every_category(cls, value: dict[str, bool], info: ValidationInfo) -> dict[str, bool]:
        categories = _registry(info).categories
        if value.get(NECESSARY) is not True:
            raise PydanticCustomError("choices", f"'{NECESSARY}' must be present and true")
        unknown = sorted(set(value) - {NECESSARY, *categories})
        if unknown:
            names = ", ".join(name[:40] for name in unknown[:5])
            raise PydanticCustomError("choices", f"unknown categories: {names}")
        missing = [name for name in categories if name not in value]
        if missing:
            raise PydanticCustomError("choices", f"missing categories: {', '.join(missing)}")
        action = info.data.get("action")
        optional = [value[name] for name in categories]
        if (action == "accept_all" and not all(optional)) or (
            action == "reject_all" and any(optional)
        ):
            raise PydanticCustomError("choices", f"the choices do not match '{action}'")
        return value


class ConsentReceipt(BaseModel):
    """What was stored, and the receipt to look it up with."""

    consent_id: str
    record_id: str
    created_at: Timestamp
    expires_at: Timestamp
    receipt: str = Field(description="Keep it: GET /api/consent/{receipt} shows the record.")


class ConsentRecord(BaseModel):
    """A stored consent record, as a receipt shows it."""

    consent_id: str
    record_id: str
    created_at: Timestamp
    expires_at: Timestamp
    policy_version: str
    action: Action
    choices: dict[str, bool]
    banner_fingerprint: str
    gpc: bool
    page: str


def _continued(consent_id: str | None, previous_receipt: str | None) -> str | None:
    """``consent_id`` if ``previous_receipt`` proves it: a receipt of a live record under it.

    Knowing a consent ID proves nothing (it shows in the cookie notice and in support mail);
    the signed receipt of one of its records does. Anything less starts a new consent ID
    rather than failing, so a client that lost its receipt still gets its choice recorded.
    """
    if consent_id is None or previous_receipt is None:
        return None
    try:
        earlier = records.from_receipt(KIND, previous_receipt)
    except (BadReceipt, NotFound, RecordTampered):
        return None
    return consent_id if earlier.consent_id == consent_id else None


@bp.post("/consent")
@openapi.documented(
    json=ConsentRequest,
    resp=openapi.responses(
        HTTP_201=ConsentReceipt, HTTP_400=ErrorBody, HTTP_413=ErrorBody, HTTP_415=ErrorBody
    ),
    tags=["consent"],
)
def record_choice() -> Response:
    """Record a cookie choice.

    Continues `consent_id` only when `previous_receipt` is a receipt of that consent ID;
    otherwise the choice gets a new consent ID. Answers 201 only once the record is durably
    stored.
    """
    body = openapi.json_body(ConsentRequest, {"registry": registry.get()})
    consent_id = _continued(body.consent_id, body.previous_receipt) or records.new_id()
    record = records.store(
        KIND,
        {
            "action": body.action,
            "choices": body.choices,
            "banner_fingerprint": body.banner_fingerprint,
            "gpc": body.gpc or request.headers.get("Sec-GPC", "").strip() == "1",
            "page": body.page,
        },
        body.policy_version,
        consent_id=consent_id,
    )
    receipt = ConsentReceipt(
        consent_id=str(record.consent_id),
        record_id=record.public_id,
        created_at=records.isoformat(record.created_at),
        expires_at=records.isoformat(record.expires_at),
        receipt=records.receipt(record),
    )
    return Response(receipt.model_dump_json(), 201, mimetype="application/json")


@bp.get("/consent/<receipt>")
@openapi.documented(
    resp=openapi.responses(
        HTTP_200=ConsentRecord, HTTP_400=ErrorBody, HTTP_404=ErrorBody, HTTP_409=ErrorBody
    ),
    tags=["consent"],
    path_parameter_descriptions={"receipt": "The receipt the POST answered."},
)
def show_choice(receipt: str) -> dict[str, Any]:
    """Show what a receipt's record holds.

    400 for a forged or damaged receipt, 404 once the record has expired or been deleted.
    """
    record = records.from_receipt(KIND, receipt)
    payload = record.payload
    return ConsentRecord(
        consent_id=str(record.consent_id),
        record_id=record.public_id,
        created_at=records.isoformat(record.created_at),
        expires_at=records.isoformat(record.expires_at),
        policy_version=record.policy_version,
        **payload,
    ).model_dump()


def _refine_document(spec: dict[str, Any]) -> None:
    """Name the site's categories and policy versions in the document: exactly what is accepted."""
    reg = registry.get()
    for schema in spec["components"]["schemas"].values():
        if schema.get("title") == ConsentRequest.model_config.get("title"):
            choices = schema["properties"]["choices"]
            choices["properties"] = {
                NECESSARY: {"const": True},
                **{name: {"type": "boolean"} for name in reg.categories},
            }
            choices["required"] = [NECESSARY, *reg.categories]
            choices["additionalProperties"] = False
            schema["properties"]["policy_version"]["enum"] = list(reg.version_ids)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions.setdefault(openapi.EXTENSION, []).append(_refine_document)
