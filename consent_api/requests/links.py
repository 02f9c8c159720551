"""The signed links in a requester's emails: confirm the request (24 hours) and download the
access package (7 days). Each is single use: the request's status, or the package's download,
records the use, in the same statement that checks it (``log.change``, ``packages.take``).

A link names only the request's reference, signed with a salt of its own: no address, nothing
the requester wrote. The service logs the link's path with a placeholder (``web.access_log``).
"""

from __future__ import annotations

import datetime as dt

from itsdangerous import BadSignature, SignatureExpired
from pydantic import BaseModel, Field

from consent_api.exc import ApiError
from consent_api.records import signing

VERIFY = "consent_api.privacy-request.verify"
PACKAGE = "consent_api.privacy-request.package"
MAX_AGE = {VERIFY: dt.timedelta(hours=24), PACKAGE: dt.timedelta(days=7)}


class LinkBody(BaseModel):
    """The token from the link in a privacy-request email."""

    token: str = Field(max_length=200, description="The last part of the link.")


class BadLink(ApiError):
    """A link from a privacy-request email that cannot be used: forged, expired, used."""

    code = "bad_link"


MESSAGES = {
    "forged": (
        "This link is not one we sent, or it was cut short. Copy the whole link from the email, "
        "or make the request again."
    ),
    VERIFY: (
        "This confirmation link has expired: links work for 24 hours. Make the request again "
        "and follow the new link."
    ),
    PACKAGE: (
        "This download link has expired: links work for 7 days. Make an access request again "
        "for a new copy."
    ),
}


def make(purpose: str, reference: str) -> str:
    """A link token for ``purpose`` (``VERIFY`` or ``PACKAGE``) naming ``reference``."""
    return signing.timed(purpose).dumps(reference)


def read(purpose: str, token: object) -> str:
    """The reference a genuine, unexpired token names; ``BadLink`` otherwise."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise BadLink(MESSAGES["forged"], code="link_forged")
    try:
        reference = signing.timed(purpose).loads(
            token, max_age=int(MAX_AGE[purpose].total_seconds())
        )
    except SignatureExpired as error:
        raise BadLink(MESSAGES[purpose], code="link_expired", status=410) from error
    except BadSignature as error:
        raise BadLink(MESSAGES["forged"], code="link_forged") from error
    if not isinstance(reference, str):
        raise BadLink(MESSAGES["forged"], code="link_forged")
    return reference
