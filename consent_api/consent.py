"""``POST /api/consent`` records a visitor's cookie choice; ``GET /api/consent/<receipt>`` shows it.

The categories and policy versions a choice may name come from the registry (``mkdocs.yml``), the
same declarations the banner is built from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from flask import Blueprint, Flask, Response, current_app, request
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
from consent_api.site.registry import CONSENT, NECESSARY, Registry
from consent_api.web import bodies, openapi
from consent_api.web.openapi import ErrorBody

bp = Blueprint("consent", __name__, url_prefix="/api")

Action = Literal["accept_all", "reject_all", "save_choices"]
#: Times are written like 2026-03-24T12:00:00.123456Z (UTC).
Timestamp = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]


@dataclass(frozen=True)
class Rules:
    """What a choice may name, worked out once per app from the registry (which is read once, at
    start) instead of on every post."""

    categories: tuple[str, ...]
    #: ``necessary`` and every optional category: the only keys ``choices`` may have.
    names: frozenset[str]
    version_ids: frozenset[str]

    @classmethod
    def of(cls, reg: Registry) -> Rules:
        names = frozenset((NECESSARY, *reg.categories))
        return cls(reg.categories, names, frozenset(reg.version_ids))


RULES = "consent_api.consent.rules"


def _rules(info: ValidationInfo) -> Rules:
    context = info.context or {}
    rules: Rules = context["rules"]
    return rules


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
        if value not in _rules(info).version_ids:
            raise PydanticCustomError("policy_version", "not a published policy version")
        return value

    @field_validator("choices")
    @classmethod
    def _every_category(cls, value: dict[str, bool], info: ValidationInfo) -> dict[str, bool]:
        rules = _rules(info)
        categories = rules.categories
        if value.get(NECESSARY) is not True:
            raise PydanticCustomError("choices", f"'{NECESSARY}' must be present and true")
        if not rules.names.issuperset(value):
            unknown = sorted(set(value) - rules.names)
            listed = ", ".join(name[:40] for name in unknown[:5])
            raise PydanticCustomError("choices", f"unknown categories: {listed}")
        if len(value) < len(rules.names):  # only known names in it: some are missing
            missing = [name for name in categories if name not in value]
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
        earlier = records.from_receipt(CONSENT, previous_receipt)
    except (BadReceipt, NotFound, RecordTampered):
        return None
    return consent_id if earlier.consent_id == consent_id else None


@bp.post("/consent")
@openapi.documented(
    tags=("consent",),
    body=ConsentRequest,
    responses={201: ConsentReceipt, 400: ErrorBody, 413: ErrorBody, 415: ErrorBody},
)
def record_choice() -> Response:
    """Record a cookie choice.

    Continues `consent_id` only when `previous_receipt` is a receipt of that consent ID;
    otherwise the choice gets a new consent ID. Answers 201 only once the record is durably
    stored.
    """
    body = bodies.json_body(ConsentRequest, {"rules": current_app.extensions[RULES]})
    consent_id = _continued(body.consent_id, body.previous_receipt) or records.new_id()
    record = records.store(
        CONSENT,
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
    tags=("consent",),
    responses={200: ConsentRecord, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody},
    parameters={"receipt": "The receipt the POST answered."},
)
def show_choice(receipt: str) -> dict[str, Any]:
    """Show what a receipt's record holds.

    400 for a forged or damaged receipt, 404 once the record has expired or been deleted.
    """
    record = records.from_receipt(CONSENT, receipt)
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
    schema = spec["components"]["schemas"][ConsentRequest.__name__]
    choices = schema["properties"]["choices"]
    choices["properties"] = {
        NECESSARY: {"const": True},
        **{name: {"type": "boolean"} for name in reg.categories},
    }
    choices["required"] = [NECESSARY, *reg.categories]
    choices["additionalProperties"] = False
    schema["properties"]["policy_version"]["enum"] = list(reg.version_ids)


def init_app(app: Flask) -> None:
    app.extensions[RULES] = Rules.of(registry.get(app))
    app.register_blueprint(bp)
    openapi.refine(app, _refine_document)
