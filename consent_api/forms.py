"""The contact and demo-request forms, declared once: their fields, labels, limits and choices.

The site build renders the forms from these declarations (``form_pages``), and the service
validates submissions against models built on them, so the page and the rules cannot disagree.
Every message a visitor sees about a field comes from here, through the service.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator
from pydantic import Field as Schema
from pydantic_core import PydanticCustomError

Control = Literal["text", "email", "tel", "textarea", "select"]

#: The honeypot: hidden from people, filled in by bots. Its name is one bots like to fill.
HONEYPOT = "website"
#: The signed form token (``form_tokens``) that proves the form was shown a little earlier.
TOKEN = "form_token"

_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]*$")


@dataclass(frozen=True)
class Field:
    """One input: ``missing`` is the message when a required field is left empty."""

    name: str
    label: str
    control: Control
    max_length: int
    missing: str = ""
    autocomplete: str = "off"
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.missing)

    @property
    def values(self) -> list[str]:
        return [value for value, _label in self.choices]


@dataclass(frozen=True)
class Form:
    """One form: where its page and thank-you page are, what it is for, and its fields."""

    kind: str
    noun: str
    page: str
    thanks: str
    submit: str
    purpose: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)


NAME = Field("name", "Name", "text", 100, "Enter your name.", "name")
ORGANIZATION = Field("organization", "Organization", "text", 200, "", "organization")
MESSAGE = Field("message", "Message", "textarea", 3000, "Enter your message.")

CONTACT = Form(
    kind="contact",
    noun="contact inquiry",
    page="contact/",
    thanks="contact/thanks/",
    submit="Send message",
    purpose="to answer your message",
    fields=(
        NAME,
        Field("email", "Email", "email", 254, "Enter your email address.", "email"),
        ORGANIZATION,
        Field(
            "topic",
            "Topic",
            "select",
            20,
            "Choose a topic.",
            choices=(
                ("general", "General question"),
                ("support", "Support"),
                ("privacy", "Privacy request"),
            ),
        ),
        MESSAGE,
    ),
)

DEMO = Form(
    kind="demo",
    noun="demo request",
    page="demo/",
    thanks="demo/thanks/",
    submit="Request a demo",
    purpose="to arrange your demo",
    fields=(
        NAME,
        Field("email", "Work email", "email", 254, "Enter your work email address.", "email"),
        Field(
            "organization", "Organization", "text", 200, "Enter your organization.", "organization"
        ),
        Field("role", "Role", "text", 100, "", "organization-title"),
        Field("phone", "Phone", "tel", 30, "", "tel"),
        Field(
            "organization_type",
            "Organization type",
            "select",
            20,
            "Choose the type of your organization.",
            choices=(
                ("practice", "Independent practice or clinic"),
                ("group", "Medical group with several sites"),
                ("health_system", "Hospital or health system"),
                ("pharmacy", "Pharmacy"),
                ("other", "Other"),
            ),
        ),
        Field("message", "Message", "textarea", 3000),
    ),
)

FORMS = {form.kind: form for form in (CONTACT, DEMO)}


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
    extra: dict[str, Any] = {"enum": field.values} if field.choices else {}
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

    website: str = Schema("", max_length=1000, description="Leave empty (the honeypot).")
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


class ContactInquiry(Inquiry):
    """A message from the contact form."""

    model_config = ConfigDict(title="ContactInquiry")
    FORM: ClassVar[Form] = CONTACT

    name: str = _schema(NAME)
    email: str = _schema(CONTACT.field("email"))
    organization: str | None = _schema(ORGANIZATION)
    topic: str = _schema(CONTACT.field("topic"))
    message: str = _schema(MESSAGE)


class DemoRequest(Inquiry):
    """A request from the demo form."""

    model_config = ConfigDict(title="DemoRequest")
    FORM: ClassVar[Form] = DEMO

    name: str = _schema(NAME)
    email: str = _schema(DEMO.field("email"))
    organization: str = _schema(DEMO.field("organization"))
    role: str | None = _schema(DEMO.field("role"))
    phone: str | None = _schema(DEMO.field("phone"))
    organization_type: str = _schema(DEMO.field("organization_type"))
    message: str | None = _schema(DEMO.field("message"))


MODELS: dict[str, type[Inquiry]] = {"contact": ContactInquiry, "demo": DemoRequest}
