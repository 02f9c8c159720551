"""Every signature the service makes, with itsdangerous: over stored records, on the receipts
handed to visitors, and on the timed tokens of the forms.

Each purpose signs with its own salt, so a signature made for one never verifies for another:
each kind of record, each kind's receipts, form tokens, form state. The keys are
``SECRET_KEYS``, oldest first: the last one signs, every one verifies, so a key is rotated by
appending a new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

from flask import current_app
from itsdangerous import BadSignature, Signer, URLSafeSerializer, URLSafeTimedSerializer

from consent_api.exc import BadReceipt

#: The salts of the timed tokens (``timed``): a form token proves a form was shown; form state
#: carries a visitor's input back to the form after a plain post with errors.
FORM_TOKEN = "consent_api.form-token"
FORM_STATE = "consent_api.form-state"
_SIGNER_KWARGS = {"digest_method": hashlib.sha256}


def _keys() -> tuple[str, ...]:
    keys: Sequence[str] = current_app.config["SECRET_KEYS"]
    return tuple(keys)


def _record_signer(kind: str) -> Signer:
    return _signer(kind, _keys())


def _receipt_serializer(kind: str) -> URLSafeSerializer:
    return _serializer(kind, _keys())


def timed(salt: str) -> URLSafeTimedSerializer:
    """The serializer of timed tokens for one purpose (``FORM_TOKEN``, ``FORM_STATE``): its
    ``loads(token, max_age=..., return_timestamp=True)`` tells an expired token from a forged
    one and says when it was signed."""
    return _timed(salt, _keys())


# One signer per kind and key list, made once: the keys are the cache key, so a changed
# configuration (another app, a rotated key) gets signers of its own.
@lru_cache(maxsize=64)
def _signer(kind: str, keys: tuple[str, ...]) -> Signer:
    return Signer(list(keys), salt=f"consent_api.record.{kind}", digest_method=hashlib.sha256)


@lru_cache(maxsize=64)
def _serializer(kind: str, keys: tuple[str, ...]) -> URLSafeSerializer:
    return URLSafeSerializer(
        list(keys), salt=f"consent_api.receipt.{kind}", signer_kwargs=_SIGNER_KWARGS
    )


@lru_cache(maxsize=16)
def _timed(salt: str, keys: tuple[str, ...]) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(list(keys), salt=salt, signer_kwargs=_SIGNER_KWARGS)


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
