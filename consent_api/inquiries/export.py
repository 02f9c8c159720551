"""Inquiries for sales and support: ``consent-api inquiries list`` and ``inquiries export``.

The CSV is meant for spreadsheets, which run a cell that starts like a formula. Following OWASP's
advice against CSV injection, every cell is quoted, and a formula start gets a leading apostrophe
both at the start of a cell and after every character that some import splits cells on (comma,
semicolon, tab, pipe, line breaks): a spreadsheet in a locale that splits on ``;``, or a
tab-separated import, finds no formula either, so a visitor cannot plant one in the sales team's
spreadsheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable
from typing import Any

import click
from flask.cli import with_appcontext

from consent_api.records import store as records
from consent_api.site.forms import FORMS

#: The columns of a row: the record's own, then every field of either form.
COLUMNS = [
    "reference",
    "kind",
    "created_at",
    "policy_version",
    *dict.fromkeys(field.name for form in FORMS.values() for field in form.fields),
    "signature_valid",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A formula start at the start of the text or after a character an import may split cells on.
_FORMULA_AT_CELL_START = re.compile(
    r"(^|[,;|\t\r\n])(?=[" + re.escape("".join(FORMULA_STARTS)) + "])"
)


def rows(
    kinds: Iterable[str], since: dt.datetime | None, until: dt.datetime | None
) -> list[dict[str, Any]]:
    """One flat row per live inquiry of ``kinds`` created in ``[since, until)``, oldest first."""
    found = [record for kind in kinds for record in records.of_kind(kind, since=since, until=until)]
    found.sort(key=lambda record: record.created_at)
    return [
        {
            **dict.fromkeys(COLUMNS),
            **record.payload,
            "reference": record.public_id,
            "kind": record.kind,
            "created_at": records.isoformat(record.created_at),
            "policy_version": record.policy_version,
            "signature_valid": record.is_authentic(),
        }
        for record in found
    ]


def neutralise(value: Any) -> str:
    """A CSV cell that no spreadsheet runs as a formula, however it splits the cells."""
    text = "" if value is None else str(value)
    return _FORMULA_AT_CELL_START.sub(r"\1'", text)


def write_csv(found: list[dict[str, Any]], out: Any) -> None:
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for row in found:
        writer.writerow([neutralise(row[column]) for column in COLUMNS])


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None else None


def _filters(function: Any) -> Any:
    options = [
        click.option(
            "--kind", type=click.Choice(sorted(FORMS)), help="Only this form's inquiries."
        ),
        click.option(
            "--since",
            type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
            help="Created at or after this UTC date or time.",
        ),
        click.option(
            "--until",
            type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
            help="Created before this UTC date or time.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group("inquiries")
def cli() -> None:
    """Contact inquiries and demo requests, for sales and support."""


@cli.command("list")
@_filters
@with_appcontext
def list_command(kind: str | None, since: dt.datetime | None, until: dt.datetime | None) -> None:
    """One line per inquiry: time, reference, kind, name, organization, email."""
    found = rows([kind] if kind else FORMS, _utc(since), _utc(until))
    for row in found:
        click.echo(
            "  ".join(
                str(row[column] or "-")
                for column in ("created_at", "reference", "kind", "name", "organization", "email")
            )
        )
    click.echo(f"{len(found)} inquiries", err=True)


@cli.command("export")
@click.option(
    "--format", "form", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@_filters
@with_appcontext
def export_command(
    form: str, kind: str | None, since: dt.datetime | None, until: dt.datetime | None
) -> None:
    """Print the inquiries as CSV (a header row, one row per inquiry) or as a JSON list."""
    found = rows([kind] if kind else FORMS, _utc(since), _utc(until))
    if form == "json":
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    else:
        write_csv(found, sys.stdout)
