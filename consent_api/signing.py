"""Signatures over stored records and the receipts handed to visitors, with itsdangerous.

Each kind of record signs with its own salt, so a signature never verifies for another kind, and
receipts have salts of their own. The keys are ``SECRET_KEYS``, oldest first: the last one signs,
every one verifies, so a key is rotated by appending a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from flask import current_app
from itsdangerous import BadSignature, Signer, URLSafeSerializer

from .exc import BadReceipt


def _keys() -> Sequence[str]:
    keys: list[str] = current_app.config["SECRET_KEYS"]
    return keys


def _record_signer(kind: str) -> Signer:
    return Signer(_keys(), salt=f"consent_api.record.{kind}", digest_method=hashlib.sha256)


def _receipt_serializer(kind: str) -> URLSafeSerializer:
    return URLSafeSerializer(
        _keys(), salt=f"consent_api.receipt.{kind}", signer_kwargs={"digest_method": hashlib.sha256}
    )


def sign(kind: str, message: bytes) -> str:
    """The signature of a record's canonical ``message`` with the newest key."""
    return _record_signer(kind).get_signature(message).decode("ascii")


def verify(kind: str, message: bytes, signature: str) -> bool:
    """Whether ``signature`` is a signature of ``message`` under any configured key."""
    return _record_signer(kind).verify_signature(message, signature.encode("ascii", "replace"))


def receipt(kind: str, public_id: str) -> str:
    """A URL-safe token that names the record ``public_id`` and that only this service makes."""
    return _receipt_serializer(kind).dumps(public_id)


def read_receipt(kind: str, token: str) -> str:
    """The public ID a receipt names; ``BadReceipt`` if it is forged, damaged or another kind's."""
    try:
        public_id = _receipt_serializer(kind).loads(token)
    except BadSignature as error:
        raise BadReceipt("This receipt is not one the service issued, or it is damaged.") from error
    if not isinstance(public_id, str):
        raise BadReceipt("This receipt is not one the service issued, or it is damaged.")
    return public_id
