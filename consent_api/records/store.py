"""Signed, minimal records of every kind (consent, contact, demo): how they are stored and read.

A record is stored with its expiry (creation time plus the kind's retention period from the
registry) and read back only while it is not due for deletion: a record is due once its kind's
*current* period has passed since its creation, unless it is on hold. A due record is absent to
every read here, whether or not the purge has deleted it yet. The stored, signed ``expires_at``
is the expiry promised when the record was made; if the period in ``mkdocs.yml`` changes later,
``created_at`` plus the new period decides, as the published schedule says.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    and_,
    delete,
    false,
    or_,
    select,
    true,
)

from consent_api.exc import NotFound, RecordTampered
from consent_api.records import signing, storage
from consent_api.records.ids import ID_PATTERN as ID_PATTERN
from consent_api.records.ids import canonical_json as canonical_json
from consent_api.records.ids import isoformat as isoformat
from consent_api.records.ids import new_id as new_id
from consent_api.records.ids import now as now
from consent_api.records.ids import subject_of as subject_of
from consent_api.records.schema import records as table
from consent_api.site import registry


@dataclass(frozen=True)
class Record:
    """One stored record. ``payload_json`` is the stored text itself, exactly as signed."""

    kind: str
    public_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    policy_version: str
    consent_id: str | None
    subject: str | None
    payload_json: str
    signature: str
    hold: bool = False
    hold_reason: str | None = None
    held_at: dt.datetime | None = None

    @property
    def payload(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.payload_json)
        return value

    def signed_message(self) -> bytes:
        """What the signature covers: every field but the hold, which changes over time."""
        fields = [
            self.kind,
            self.public_id,
            self.created_at.isoformat(),
            self.expires_at.isoformat(),
            self.policy_version,
            self.consent_id,
            self.subject,
            self.payload_json,
        ]
        return canonical_json(fields).encode("utf-8")

    def is_authentic(self) -> bool:
        """Whether the record is exactly as the service signed it."""
        return signing.verify(self.kind, self.signed_message(), self.signature)

    def as_dict(self) -> dict[str, Any]:
        """The record as JSON-ready values (for the CLI and exports)."""
        return {
            "kind": self.kind,
            "public_id": self.public_id,
            "created_at": isoformat(self.created_at),
            "expires_at": isoformat(self.expires_at),
            "policy_version": self.policy_version,
            "consent_id": self.consent_id,
            "subject": self.subject,
            "payload": self.payload,
            "hold": self.hold,
            "hold_reason": self.hold_reason,
            "held_at": isoformat(self.held_at) if self.held_at else None,
            "signature_valid": self.is_authentic(),
        }


#: The record's fields, in the order of the table's columns.
_FIELDS = [field.name for field in fields(Record)]


def _from_row(row: Row[Any]) -> Record:
    return Record(**{name: row._mapping[name] for name in _FIELDS})


def new(
    kind: str,
    payload: Mapping[str, Any],
    policy_version: str,
    *,
    subject_email: str | None = None,
    consent_id: str | None = None,
) -> Record:
    """A new signed record, not yet stored: ``store`` it, or ``insert`` it inside a write that
    must commit other rows with it (an inquiry and its notification).

    ``payload`` holds only what the record must prove. ``subject_email`` (inquiries) is not
    stored itself: its hash indexes the record for access and erasure requests.
    """
    created = now()
    unsigned = Record(
        kind=kind,
        public_id=new_id(created),
        created_at=created,
        expires_at=created + registry.get().retention[kind].period,
        policy_version=policy_version,
        consent_id=consent_id,
        subject=subject_of(subject_email) if subject_email is not None else None,
        payload_json=canonical_json(payload),
        signature="",
    )
    return replace(unsigned, signature=signing.sign(kind, unsigned.signed_message()))


def _values(record: Record) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["payload"] = values.pop("payload_json")
    return values


def insert(connection: Connection, record: Record) -> None:
    """Add ``record`` in the caller's write transaction."""
    connection.execute(table.insert(), _values(record))


def store(
    kind: str,
    payload: Mapping[str, Any],
    policy_version: str,
    *,
    subject_email: str | None = None,
    consent_id: str | None = None,
) -> Record:
    """Sign and durably store a new record (see ``new``); returns it once committed, or
    raises ``StorageUnavailable``."""
    record = new(kind, payload, policy_version, subject_email=subject_email, consent_id=consent_id)
    storage.insert(table, _values(record))
    return record


def resign(connection: Connection, record: Record, payload: Mapping[str, Any]) -> Record:
    """``record`` with ``payload`` instead of its own, signed again and saved in the caller's
    transaction (a correction): nothing of the old payload is kept."""
    changed = replace(record, payload_json=canonical_json(payload))
    changed = replace(changed, signature=signing.sign(record.kind, changed.signed_message()))
    connection.execute(
        table.update()
        .where(table.c.public_id == record.public_id)
        .values(payload=changed.payload_json, signature=changed.signature)
    )
    return changed


def due_at(record: Record) -> dt.datetime:
    """When the record becomes due for deletion under the current period (unless on hold)."""
    return record.created_at + registry.get().retention[record.kind].period


def due(kind: str, moment: dt.datetime) -> ColumnElement[bool]:
    """Records of ``kind`` that are due for deletion at ``moment``: past the kind's current
    period and not on hold. The purge deletes exactly these (index ``ix_records_due``)."""
    cutoff = registry.get().retention[kind].cutoff(moment)
    return and_(table.c.kind == kind, table.c.hold == false(), table.c.created_at <= cutoff)


def live(moment: dt.datetime) -> ColumnElement[bool]:
    """Records not due at ``moment``: on hold, or younger than their kind's current period."""
    return or_(
        table.c.hold == true(),
        *(
            and_(table.c.kind == kind, table.c.created_at > period.cutoff(moment))
            for kind, period in registry.get().retention.items()
        ),
    )


def _select(*conditions: Any, include_due: bool = False) -> Select[Any]:
    columns = [
        table.c.payload.label("payload_json") if name == "payload_json" else table.c[name]
        for name in _FIELDS
    ]
    query = select(*columns).where(*conditions).order_by(table.c.id)
    if not include_due:
        query = query.where(live(now()))
    return query


def _all(*conditions: Any, include_due: bool = False) -> list[Record]:
    with storage.reading() as connection:
        query = _select(*conditions, include_due=include_due)
        return [_from_row(row) for row in connection.execute(query)]


def stored(*conditions: Any) -> list[Record]:
    """Every stored record matching ``conditions``, due or not (access requests, holds)."""
    return _all(*conditions, include_due=True)


def get(public_id: str, *, kind: str | None = None) -> Record:
    """The live record with this public ID (of ``kind``, if given); ``NotFound`` otherwise."""
    conditions = [table.c.public_id == public_id]
    if kind is not None:
        conditions.append(table.c.kind == kind)
    found = _all(*conditions)
    if not found:
        raise NotFound("No such record: it never existed, or it has expired and been deleted.")
    return found[0]


def of_kind(
    kind: str, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[Record]:
    """The live records of one kind created in ``[since, until)``, oldest first."""
    conditions = [table.c.kind == kind]
    if since is not None:
        conditions.append(table.c.created_at >= since)
    if until is not None:
        conditions.append(table.c.created_at < until)
    return _all(*conditions)


def receipt(record: Record) -> str:
    """The token a visitor keeps to look the record up later."""
    return signing.receipt(record.kind, record.public_id)


def from_receipt(kind: str, token: str) -> Record:
    """The record a receipt names: ``BadReceipt`` if forged or damaged, ``NotFound`` if gone,
    ``RecordTampered`` if the stored record no longer matches its signature."""
    record = get(signing.read_receipt(kind, token), kind=kind)
    if not record.is_authentic():
        raise RecordTampered(
            "The stored record no longer matches its signature; it cannot be vouched for."
        )
    return record


@dataclass(frozen=True)
class Verification:
    checked: int
    failed: list[Record]


def verify_all(batch_size: int = 1000) -> Verification:
    """Check the signature of every stored record, expired or not."""
    checked, failed = 0, []
    with storage.reading() as connection:
        rows = connection.execution_options(yield_per=batch_size).execute(_select(include_due=True))
        for row in rows:
            record = _from_row(row)
            checked += 1
            if not record.is_authentic():
                failed.append(record)
    return Verification(checked, failed)


def delete_ids(connection: Connection, ids: Sequence[int]) -> int:
    """Delete the records with these row ids in the caller's transaction; returns how many went.
    What refers to a record (the outbox) goes with it, by ``ON DELETE CASCADE``."""
    if not ids:
        return 0
    return connection.execute(delete(table).where(table.c.id.in_(ids))).rowcount
