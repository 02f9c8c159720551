"""``consent-api requests``: the staff's view of privacy requests and their actions.

``list`` and ``show`` read the request log (never an address); ``fulfil``, ``deny`` and
``extend`` act on one request and email the requester; ``overdue`` exits with status 1 while
any open request is past its due date, for a timer or a monitor to alert on.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import click
from flask.cli import with_appcontext

from consent_api.exc import NotFound
from consent_api.records import store as records
from consent_api.requests import deadlines, fulfil, log

#: Days, up to 9999: a larger number would overflow the dates it is added to.
_DURATION = re.compile(r"^(\d{1,4})d$")


def _duration(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> dt.timedelta | None:
    if value is None:
        return None
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter("a number of days, like 7d")
    return dt.timedelta(days=int(match.group(1)))


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _row(entry: log.Entry, now: dt.datetime) -> str:
    left = entry.days_left(now)
    days = (
        ""
        if left is None
        else (f"{_days(left)} left" if left >= 0 else f"OVERDUE by {_days(-left)}")
    )
    return (
        f"{entry.reference:24}  {entry.request_type:7}  {entry.status.replace('_', ' '):11}  "
        f"received {deadlines.local_date(entry.received_at)}  "
        f"due {deadlines.local_date(entry.due_at)}  {days}"
    ).rstrip()


@click.group("requests")
def requests_group() -> None:
    """Privacy requests: list, show, fulfil, deny, extend, overdue."""


@requests_group.command("list")
@click.option("--status", type=click.Choice(log.STATUSES), help="Only requests in this status.")
@click.option(
    "--due-within", callback=_duration, help="Only open requests due within this time, like 7d."
)
@with_appcontext
def list_command(status: str | None, due_within: dt.timedelta | None) -> None:
    """Every request, the soonest due first: reference, type, status, received, due, days left."""
    now = records.now()
    entries = log.listing(status=status, due_within=due_within)
    for entry in entries:
        click.echo(_row(entry, now))
    if not entries:
        click.echo("no requests")


@requests_group.command("show")
@click.argument("reference")
@with_appcontext
def show_command(reference: str) -> None:
    """One request as the log holds it, with its deadlines, as JSON."""
    try:
        entry = log.get(reference)
    except NotFound as error:
        raise click.ClickException(error.message) from error
    click.echo(json.dumps(entry.as_dict(), indent=2, ensure_ascii=False))


def _act(action: str, entry: log.Entry) -> None:
    click.echo(f"{entry.reference}: {action}; status {entry.status.replace('_', ' ')}")
    click.echo(_row(entry, records.now()))


def _run(action: str, work: object) -> None:
    try:
        entry = work() if callable(work) else None
    except fulfil.ActionRefused as error:
        raise click.ClickException(str(error)) from error
    if isinstance(entry, log.Entry):
        _act(action, entry)


@requests_group.command("fulfil")
@click.argument("reference")
@with_appcontext
def fulfil_command(reference: str) -> None:
    """Do what the request asks (access package, erasure or correction) and email the answer."""
    _run("fulfilled, the requester is emailed", lambda: fulfil.fulfil(reference))


@requests_group.command("deny")
@click.argument("reference")
@click.option("--reason", required=True, help="Why, in words the requester is sent.")
@with_appcontext
def deny_command(reference: str, reason: str) -> None:
    """Deny the request and email the requester the reason."""
    _run("denied, the requester is emailed the reason", lambda: fulfil.deny(reference, reason))


@requests_group.command("extend")
@click.argument("reference")
@click.option("--reason", required=True, help="Why more time is needed, as the requester reads it.")
@click.option(
    "--days",
    type=click.IntRange(1, deadlines.MAX_EXTENSION_DAYS),
    default=deadlines.MAX_EXTENSION_DAYS,
    show_default=True,
    help="How many days to add to the due date (once).",
)
@with_appcontext
def extend_command(reference: str, reason: str, days: int) -> None:
    """Extend the due date once, by up to 45 days, and email the requester why."""
    _run(
        f"extended by {days} days, the requester is emailed",
        lambda: fulfil.extend(reference, reason, days),
    )


@requests_group.command("overdue")
@with_appcontext
def overdue_command() -> None:
    """Exit with status 1 if any open request is past its due date, listing them."""
    now = records.now()
    late = log.overdue(now)
    for entry in late:
        click.echo(_row(entry, now))
    if late:
        raise click.ClickException(f"{len(late)} privacy request(s) past their due date")
    click.echo("no privacy request is overdue")
