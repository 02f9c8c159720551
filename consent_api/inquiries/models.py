"""The models that validate inquiries, built from the form declarations in ``forms``.

Each form's model has one field per declared field (``create_model``), each cleaned by
``clean`` (the messages a visitor sees come from the declarations); the OpenAPI document
describes the same models.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic import Field as Schema
from pydantic_core import PydanticCustomError

from consent_api.site.forms import CONTACT, DEMO, FORMS, HONEYPOT, TOKEN, Field, Form

_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")


def _invalid(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_field", message)


def clean(field: Field, value: object) -> str | None:
    """``value`` as stored: Unicode NFC, trimmed, checked; ``None`` for an empty optional field.
    Raises a pydantic error whose message the form shows beside the field."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(f"{field.label} must be text.")
    text = unicodedata.normalize("NFC", value)
    allowed = ""
    if field.control == "textarea":
        text, allowed = text.replace("\r\n", "\n").replace("\r", "\n"), "\n\t"
    if any(unicodedata.category(char) in {"Cc", "Cs"} and char not in allowed for char in text):
        raise _invalid(f"{field.label} contains control characters; remove them.")
    text = text.strip()
    if not text:
        if field.required:
            raise _invalid(field.missing)
        return None
    if len(text) > field.max_length:
        raise _invalid(f"{field.label} must be at most {field.max_length} characters.")
    if field.control == "email":
        # Imported on first use: the site build reads these declarations, never an email.
        from email_validator import EmailNotValidError, validate_email

        try:
            text = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise _invalid("Enter a valid email address, like name@example.com.") from error
    if field.control == "tel":
        digits = sum(char.isdigit() for char in text)
        if not _PHONE.match(text) or not 7 <= digits <= 15:
            raise _invalid("Enter a phone number of 7 to 15 digits, like +1 555 123 4567.")
    if field.control == "select" and text not in field.values:
        raise _invalid(f"Choose one of the options for {field.label.lower()}.")
    return text


def _schema(field: Field, description: str = "") -> Any:
    extra: dict[str, Any] = {}
    if field.choices:
        # An optional choice may be left out: null is one of its values (the default).
        extra["enum"] = [*field.values, *([] if field.required else [None])]
    if field.control == "email":
        extra["format"] = "email"
    return Schema(
        ... if field.required else None,
        max_length=field.max_length,
        description=description or field.label,
        json_schema_extra=extra or None,
    )


class Inquiry(BaseModel):
    """What both forms share: every declared field is cleaned by ``clean``."""

    model_config = ConfigDict(extra="forbid")
    FORM: ClassVar[Form]

    leave_blank: str = Schema("", max_length=1000, description="Leave empty (the honeypot).")
    form_token: str = Schema(
        "", max_length=200, description="The token from GET /api/form-token or the page."
    )

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data: object) -> object:
        # A missing field gets the same message as an empty one ("Enter your name.").
        if isinstance(data, dict):
            return {**{field.name: "" for field in cls.FORM.fields}, **data}
        return data

    @field_validator("*", mode="before")
    @classmethod
    def _clean(cls, value: object, info: ValidationInfo) -> object:
        if info.field_name in {HONEYPOT, TOKEN}:
            return value
        return clean(cls.FORM.field(str(info.field_name)), value)

    def stored(self) -> dict[str, Any]:
        """The record's payload: the declared fields and nothing else."""
        return self.model_dump(exclude={HONEYPOT, TOKEN})


def model(form: Form) -> type[Inquiry]:
    """The model of ``form``'s submissions: a field per declared field, cleaned by ``clean``."""
    fields: dict[str, Any] = {
        field.name: (str if field.required else str | None, _schema(field)) for field in form.fields
    }
    name = form.noun.title().replace(" ", "")
    model = create_model(name, __base__=Inquiry, __doc__=form.summary, **fields)
    model.FORM = form
    return model


#: One model per form, by the kind of record its submissions become.
MODELS: dict[str, type[Inquiry]] = {kind: model(form) for kind, form in FORMS.items()}
ContactInquiry = MODELS[CONTACT.kind]
DemoRequest = MODELS[DEMO.kind]
