"""Identifiers and the clock of records: public IDs and consent IDs, UTC times, canonical JSON.

Flask-free and database-free: the store, the inquiries and the CLI all make IDs and times here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import unicodedata
from typing import Any

#: A public ID or consent ID: 22 URL-safe characters (16 bytes).
ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"


def now() -> dt.datetime:
    """The current UTC time, to the microsecond that both backends store."""
    return dt.datetime.now(dt.UTC)


def new_id(at: dt.datetime | None = None) -> str:
    """An unguessable, URL-safe identifier made at ``at`` (default: now), for public IDs and
    consent IDs: 16 bytes, the millisecond of its making (6 bytes, big-endian, as in UUIDv7)
    then 80 random bits, in URL-safe base64 without padding.

    IDs made close in time share their first characters, so they sit together in the indexes
    on them: a new record's entries go at the end of the indexes instead of on a random page,
    and the purge, which deletes the oldest records, rewrites a few pages of each index instead
    of one per record. An ID tells its holder when it was made, which the receipt that carries
    it says anyway. IDs made before this layout (128 random bits) keep working.
    """
    moment = at or now()
    milliseconds = int(moment.timestamp() * 1000)
    raw = milliseconds.to_bytes(6, "big") + secrets.token_bytes(10)
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def isoformat(moment: dt.datetime) -> str:
    """``2026-03-24T12:00:00.123456Z``: the API's one way to write a time."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text for one value, so signatures are stable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def subject_of(email: str) -> str:
    """The indexed stand-in for a person: sha256 of the normalised email address."""
    normalised = unicodedata.normalize("NFC", email).strip().lower()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
