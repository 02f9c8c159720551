"""A person's rights of access and deletion: export and erase every record about them.

Inquiries are found by email (through the indexed hash ``records.subject_of``), consent records,
which hold no email, by consent ID. ``export`` and ``erase`` do the work of a request; run from
the command line (a request staff took by phone or letter) they log it in the request log as
answered at once, under a reference that is never an email address.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, Connection, select

from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.requests import log
from consent_api.site.registry import PRIVACY_REQUEST

#: A ticket number or the privacy request's public ID; never an email address.
REFERENCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _selection(email: str | None, consent_id: str | None) -> ColumnElement[bool]:
    if (email is None) == (consent_id is None):
        raise click.UsageError("give either --email or --consent-id, not both")
    if email is not None:
        return table.c.subject == records.subject_of(email)
    return table.c.consent_id == consent_id


def _erasable(selected: ColumnElement[bool]) -> ColumnElement[bool]:
    # An open privacy request's own record stays until its answer is sent (``store``).
    return selected & (table.c.kind != PRIVACY_REQUEST)


def _reference(reference: str | None) -> str:
    if reference is None:
        return records.new_id()
    if not REFERENCE.match(reference):
        raise click.BadParameter(
            "letters, digits, '.', '_' and '-' only (at most 64): a ticket number, never an email",
            param_hint="--reference",
        )
    return reference


def _log(
    connection: Any, reference: str, request_type: str, counts: dict[str, int], email: str | None
) -> None:
    moment = records.now()
    log.add(
        connection,
        reference=reference,
        request_type=request_type,
        method="staff",
        received_at=moment,
        status=log.FULFILLED,
        subject_key=log.subject_key(email) if email else None,
        verified_at=moment,
        responded_at=moment,
        response="records exported" if request_type == "access" else "records erased",
        counts=counts,
    )


def _listed(found: list[records.Record]) -> dict[str, Any]:
    return {
        "counts": dict(Counter(record.kind for record in found)),
        "records": [
            {
                **record.as_dict(),
                "signature": record.signature,
                "due_at": records.isoformat(records.due_at(record)),
            }
            for record in found
        ],
    }


#: What a request's own flow does in the transaction that answers it (``consent_api.requests
#: .fulfil``): given the connection and the counts by kind. Without one, the work is logged as
#: a request staff answered at once.
Answered = Callable[[Connection, dict[str, Any]], None]


def export(
    *,
    email: str | None = None,
    consent_id: str | None = None,
    reference: str | None = None,
    answered: Answered | None = None,
) -> dict[str, Any]:
    """Every stored record about the person, with its signature checked, and the request's
    reference; records already due but not yet purged are included (they are still stored).
    ``answered`` is given the listing, in the transaction that logs the request."""
    selected, reference = _selection(email, consent_id), _reference(reference)
    listed = _listed(records.stored(selected))
    with storage.transaction() as connection:
        if answered is None:
            _log(connection, reference, "access", listed["counts"], email)
        else:
            answered(connection, listed)
    return {"reference": reference, "records": listed["records"]}


def erase(
    *,
    email: str | None = None,
    consent_id: str | None = None,
    reference: str | None = None,
    answered: Answered | None = None,
    full_vacuum: bool = True,
) -> dict[str, Any]:
    """Delete every stored record about the person (held ones too) and what depends on them,
    then scrub the database files; returns what was deleted. Repeating it deletes nothing.
    ``answered`` is given the counts in the deletion's own transaction: a request is answered
    exactly when its records are gone. ``full_vacuum=False`` skips the rebuild of an SQLite
    file, which only a row rewritten in place (a hold, a correction) needs (``storage.scrub``)."""
    selected = _erasable(_selection(email, consent_id))
    reference = _reference(reference)
    with storage.transaction() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.kind, table.c.public_id, table.c.created_at, table.c.hold)
            .where(selected)
            .order_by(table.c.id)
        ).all()
        records.delete_ids(connection, [row.id for row in rows])
        counts = dict(Counter(row.kind for row in rows))
        if answered is None:
            _log(connection, reference, "delete", counts, email)
        else:
            answered(connection, counts)
    scrubbed = storage.scrub(full_vacuum=full_vacuum) if rows else "nothing to scrub"
    return {
        "reference": reference,
        "deleted": [
            {
                "kind": row.kind,
                "public_id": row.public_id,
                "created_at": records.isoformat(row.created_at),
                "was_on_hold": row.hold,
            }
            for row in rows
        ],
        "counts": counts,
        "storage": scrubbed,
    }


_email = click.option("--email", help="The person's email address (inquiries).")
_consent_id = click.option("--consent-id", help="A consent ID (cookie-consent records).")
_reference_option = click.option(
    "--reference", help="The request's ticket or reference ID; a new one if omitted."
)


def _echo(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


@click.command("export")
@_email
@_consent_id
@_reference_option
@with_appcontext
def export_command(email: str | None, consent_id: str | None, reference: str | None) -> None:
    """Print every stored record about a person as JSON (an access request)."""
    _echo(export(email=email, consent_id=consent_id, reference=reference))


@click.command("erase")
@_email
@_consent_id
@_reference_option
@with_appcontext
def erase_command(email: str | None, consent_id: str | None, reference: str | None) -> None:
    """Delete every stored record about a person and print what went (a deletion request)."""
    _echo(erase(email=email, consent_id=consent_id, reference=reference))
