"""The contact and demo-request forms, declared once: their fields, labels, limits and choices.

The site build renders the forms from these declarations (``form_pages``), and the service
validates submissions against models built on them (``inquiry_models``), so the page and the
rules cannot disagree. Every message a visitor sees about a field comes from here, through the
service. Nothing here imports the validation library: the site build reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Control = Literal["text", "email", "tel", "textarea", "select"]

#: The honeypot: hidden from people, filled in by bots. Its name is no autofill field name
#: (HTML's list) and has none of the words browsers and password managers guess fields by
#: (name, mail, phone, url, website, company, address …), and the input says
#: autocomplete="off": were a browser to fill it, a real lead would be dropped unseen.
HONEYPOT = "leave_blank"
#: The signed form token (``form_tokens``) that proves the form was shown a little earlier.
TOKEN = "form_token"


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
    """One form: where its page and thank-you page are, what it is for, and its fields.

    ``kind`` is the kind of record a submission becomes; ``noun`` names one (the API's model
    of it is the noun in CamelCase); ``summary`` describes one in the API's document."""

    kind: str
    noun: str
    summary: str
    page: str
    thanks: str
    submit: str
    purpose: str
    fields: tuple[Field, ...]
    #: The API path it posts to under ``api_base``, when not its kind.
    endpoint: str = ""

    @property
    def path(self) -> str:
        return self.endpoint or self.kind

    def field(self, name: str) -> Field:
        return next(field for field in self.fields if field.name == name)


NAME = Field("name", "Name", "text", 100, "Enter your name.", "name")
ORGANIZATION = Field("organization", "Organization", "text", 200, "", "organization")
MESSAGE = Field("message", "Message", "textarea", 3000, "Enter your message.")

CONTACT = Form(
    kind="contact",
    noun="contact inquiry",
    summary="A message from the contact form.",
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
    summary="A request from the demo form.",
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

#: The inquiries' forms: each submission becomes an inquiry record that sales is told about.
FORMS = {form.kind: form for form in (CONTACT, DEMO)}

#: Which fields of an inquiry a correction may name: what a visitor typed about themselves. The
#: email address is not one: a request is verified through it, so a new address is a new request.
CORRECTABLE = (
    ("name", "Name"),
    ("organization", "Organization"),
    ("role", "Role"),
    ("phone", "Phone"),
)
#: The request types of section 11 of the Privacy Policy. The word before the colon names the
#: request in its emails; the whole label fits a phone's width (320 px) in the closed select.
REQUEST_TYPES = (
    ("access", "Access: a copy of my information"),
    ("delete", "Deletion: delete my information"),
    ("correct", "Correction: correct my information"),
)

#: The privacy-request form (``consent_api.requests``): verified by email, answered by staff.
PRIVACY_REQUEST = Form(
    kind="privacy_request",
    noun="privacy request",
    summary="A request to access, delete or correct the information the site holds about you.",
    page="legal/privacy/requests/",
    thanks="legal/privacy/requests/answer/",
    submit="Send request",
    purpose="to verify and answer your request",
    endpoint="privacy-requests",
    fields=(
        Field(
            "request_type",
            "Your request",
            "select",
            10,
            "Choose what you would like us to do.",
            choices=REQUEST_TYPES,
        ),
        Field("email", "Email address", "email", 254, "Enter your email address.", "email"),
        Field("correct_field", "For a correction: what is wrong", "select", 20, choices=CORRECTABLE),
        Field("correct_value", "For a correction: what it should say", "text", 200),
    ),
)

#: Every form the site shows, by the kind of record its submissions become.
ALL_FORMS = {**FORMS, PRIVACY_REQUEST.kind: PRIVACY_REQUEST}
