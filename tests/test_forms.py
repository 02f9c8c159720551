"""The form declarations and their rules: what a visitor may send, and what they are told."""

from __future__ import annotations

from typing import Any

import pytest
from inquiry_support import CONTACT, DEMO
from pydantic import ValidationError

from consent_api.inquiries.models import ContactInquiry, DemoRequest, Inquiry
from consent_api.requests.views import PrivacyRequest
from consent_api.site.forms import HONEYPOT

PRIVACY_REQUEST = {"request_type": "access", "email": "ada@example.com"}
BODIES = {ContactInquiry: CONTACT, DemoRequest: DEMO, PrivacyRequest: PRIVACY_REQUEST}


def problems(model: type[Inquiry], body: dict[str, Any]) -> dict[str, str]:
    try:
        model.model_validate(body, strict=True)
    except ValidationError as error:
        return {str(problem["loc"][0]): problem["msg"] for problem in error.errors()}
    return {}


def test_values_are_normalised_before_they_are_stored() -> None:
    inquiry = ContactInquiry.model_validate(
        {
            **CONTACT,
            "name": "  Zoe\u0308 Ng ",
            "email": "Ada@Example.COM",
            "organization": "  ",
            "message": "line one\r\nline two\ttabbed",
        },
        strict=True,
    )
    assert inquiry.stored() == {
        "name": "Zoë Ng",
        "email": "Ada@example.com",
        "organization": None,
        "topic": "general",
        "message": "line one\nline two\ttabbed",
    }


def test_stored_payload_holds_the_declared_fields_only() -> None:
    inquiry = DemoRequest.model_validate({**DEMO, "form_token": "t", HONEYPOT: ""}, strict=True)
    assert set(inquiry.stored()) == {
        "name",
        "email",
        "organization",
        "role",
        "phone",
        "organization_type",
        "message",
    }


@pytest.mark.parametrize(
    ("model", "changes", "field", "message"),
    [
        (ContactInquiry, {"name": ""}, "name", "Enter your name."),
        (ContactInquiry, {"name": None}, "name", "Enter your name."),
        (ContactInquiry, {"email": "ada@"}, "email", "Enter a valid email address"),
        (ContactInquiry, {"email": "a" * 250 + "@x.io"}, "email", "at most 254 characters"),
        (ContactInquiry, {"topic": "sales"}, "topic", "Choose one of the options for topic."),
        (ContactInquiry, {"topic": ""}, "topic", "Choose a topic."),
        (ContactInquiry, {"message": " \n "}, "message", "Enter your message."),
        (ContactInquiry, {"message": "x" * 3001}, "message", "at most 3000 characters"),
        (ContactInquiry, {"message": "bell\x07"}, "message", "control characters"),
        (ContactInquiry, {"name": "line\nbreak"}, "name", "control characters"),
        (ContactInquiry, {"name": "lone \ud800"}, "name", "control characters"),
        (ContactInquiry, {"name": 42}, "name", "Name must be text."),
        (ContactInquiry, {"extra": "x"}, "extra", "Extra inputs are not permitted"),
        (DemoRequest, {"organization": ""}, "organization", "Enter your organization."),
        (DemoRequest, {"phone": "12345"}, "phone", "7 to 15 digits"),
        (DemoRequest, {"phone": "call me"}, "phone", "7 to 15 digits"),
        (DemoRequest, {"organization_type": "x"}, "organization_type", "Choose one"),
        (PrivacyRequest, {"request_type": ""}, "request_type", "Choose what you would like"),
        (PrivacyRequest, {"request_type": "sell"}, "request_type", "Choose one of the options"),
        (PrivacyRequest, {"email": "ada@"}, "email", "Enter a valid email address"),
        (PrivacyRequest, {"correct_field": "email"}, "correct_field", "Choose one of the"),
        (PrivacyRequest, {"correct_value": "x" * 201}, "correct_value", "at most 200"),
    ],
)
def test_bad_input_gets_a_message_for_its_field(
    model: type[Inquiry], changes: dict[str, Any], field: str, message: str
) -> None:
    body = {**BODIES[model], **changes}
    found = problems(model, body)
    assert list(found) == [field]
    assert message in found[field]


def test_missing_fields_get_the_same_message_as_empty_ones() -> None:
    assert problems(ContactInquiry, {}) == {
        "name": "Enter your name.",
        "email": "Enter your email address.",
        "topic": "Choose a topic.",
        "message": "Enter your message.",
    }


#: The HTML standard's autofill field names, and the words browsers and password managers match
#: field names, ids and labels against to guess what to fill.
AUTOFILL_NAMES = [
    "name",
    "honorific-prefix",
    "given-name",
    "additional-name",
    "family-name",
    "honorific-suffix",
    "nickname",
    "username",
    "new-password",
    "current-password",
    "one-time-code",
    "organization-title",
    "organization",
    "street-address",
    "address-line1",
    "address-line2",
    "address-line3",
    "address-level1",
    "address-level2",
    "address-level3",
    "address-level4",
    "country",
    "country-name",
    "postal-code",
    "cc-name",
    "cc-number",
    "cc-exp",
    "cc-csc",
    "cc-type",
    "transaction-currency",
    "transaction-amount",
    "language",
    "bday",
    "sex",
    "url",
    "photo",
    "tel",
    "email",
    "impp",
]
AUTOFILL_WORDS = [
    "name",
    "mail",
    "phone",
    "tel",
    "url",
    "web",
    "site",
    "home",
    "company",
    "org",
    "address",
    "street",
    "city",
    "zip",
    "postal",
    "country",
    "user",
    "login",
    "pass",
    "title",
    "fax",
    "mobile",
    "cc",
    "card",
]


def test_the_honeypot_is_named_so_that_nothing_autofills_it() -> None:
    assert HONEYPOT not in AUTOFILL_NAMES
    assert [word for word in AUTOFILL_WORDS if word in HONEYPOT.lower()] == []
    assert all(HONEYPOT in model.model_fields for model in BODIES)
