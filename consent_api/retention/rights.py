"""A person's rights of access and deletion: export and erase every record about them.

Inquiries are found by email (through the indexed hash ``records.subject_of``), consent records,
which hold no email, by consent ID. Each request is logged under a reference ID with counts
only: the log never holds who asked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import ColumnElement, select

from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import records as table
from consent_api.records.schema import rights_requests

#: A ticket number or the privacy request's public ID; never an email address.
REFERENCE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _selection(email: str | None, consent_id: str | None) -> ColumnElement[bool]:
    if (email is None) == (consent_id is None):
        raise click.UsageError("give either --email or --consent-id, not both")
    if email is not None:
        return table.c.subject == records.subject_of(email)
    return table.c.consent_id == consent_id


def _reference(reference: str | None) -> str:
    if reference is None:
        return records.new_id()
    if not REFERENCE.match(reference):
        raise click.BadParameter(
            "letters, digits, '.', '_' and '-' only (at most 64): a ticket number, never an email",
            param_hint="--reference",
        )
    return reference


def _log(connection: Any, reference: str, action: str, counts: dict[str, int]) -> None:
    connection.execute(
        rights_requests.insert(),
        {
            "reference": reference,
            "action": action,
            "requested_at": records.now(),
            "counts": json.dumps(counts, sort_keys=True),
        },
    )


def export(
    *, email: str | None = None, consent_id: str | None = None, reference: str | None = None
) -> dict[str, Any]:
    """Every stored record about the person, with its signature checked, and the request's
    reference; records already due but not yet purged are included (they are still stored)."""
    selected, reference = _selection(email, consent_id), _reference(reference)
    found = records.stored(selected)
    counts = dict(Counter(record.kind for record in found))
    with storage.transaction() as connection:
        _log(connection, reference, "export", counts)
    return {
        "reference": reference,
        "records": [
            {
                **record.as_dict(),
                "signature": record.signature,
                "due_at": records.isoformat(records.due_at(record)),
            }
            for record in found
        ],
    }


def erase(
    *, email: str | None = None, consent_id: str | None = None, reference: str | None = None
) -> dict[str, Any]:
    """Delete every stored record about the person (held ones too) and what depends on them,
    then scrub the database files; returns what was deleted. Repeating it deletes nothing."""
    selected, reference = _selection(email, consent_id), _reference(reference)
    with storage.transaction() as connection:
        rows = connection.execute(
            select(table.c.id, table.c.kind, table.c.public_id, table.c.created_at, table.c.hold)
            .where(selected)
            .order_by(table.c.id)
        ).all()
        records.delete_ids(connection, [row.id for row in rows])
        counts = dict(Counter(row.kind for row in rows))
        _log(connection, reference, "erase", counts)
    scrubbed = storage.scrub(full_vacuum=True) if rows else "nothing to scrub"
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


def history(limit: int = 50) -> list[dict[str, Any]]:
    """The most recent requests, newest first: reference, action, time and counts."""
    query = select(rights_requests).order_by(rights_requests.c.id.desc()).limit(limit)
    with storage.reading() as connection:
        return [
            {
                "reference": row.reference,
                "action": row.action,
                "requested_at": records.isoformat(row.requested_at),
                "counts": json.loads(row.counts),
            }
            for row in connection.execute(query)
        ]


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


@click.command("requests")
@with_appcontext
def requests_command() -> None:
    """Show the log of access and deletion requests (references and counts only)."""
    for entry in history():
        counts = ", ".join(f"{name} {count}" for name, count in entry["counts"].items())
        click.echo(
            f"{entry['requested_at']}  {entry['action']:6}  {entry['reference']}  "
            f"{counts or 'nothing found'}"
        )
