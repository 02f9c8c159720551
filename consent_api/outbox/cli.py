"""``consent-api outbox``: what waits, failed or went recently, per channel; ``retry`` and
``deliver``. It shows IDs, kinds, endpoints' host names and errors, never personal data."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import Row

from consent_api.outbox import queue, webhook
from consent_api.outbox.deliver import deliver
from consent_api.records import store as records

_channel = click.option(
    "--channel", type=click.Choice(queue.CHANNELS), help="Only this channel (default: each)."
)
#: Who an email goes to, by purpose: a role, never the address.
_RECIPIENT = {"notify": "sales", "acknowledge": "sender"}


def _where(row: Row[Any]) -> str:
    if row.channel == "email":
        return _RECIPIENT.get(row.purpose, str(row.purpose))
    endpoint = webhook.endpoints().get(row.target or "")
    return endpoint.host if endpoint else f"removed endpoint {row.target}"


def _line(row: Row[Any], status: str) -> str:
    if status == queue.PENDING:
        when = f"next {records.isoformat(row.next_attempt_at)}"
    else:
        when = f"{status} {records.isoformat(row.finished_at)}" if row.finished_at else status
    error = f"  {row.last_error}" if row.last_error and status != queue.SENT else ""
    return (
        f"  {row.id:>6}  {row.channel:7}  {row.purpose:11}  {row.kind:8}  {row.record_id}  "
        f"{_where(row)}  attempts {row.attempts}  {when}{error}"
    )


@click.group("outbox", invoke_without_command=True)
@_channel
@click.pass_context
@with_appcontext
def cli(context: click.Context, channel: str | None) -> None:
    """List the deliveries that wait, failed or were sent in the last week, per channel."""
    if context.invoked_subcommand is not None:
        return
    counts = queue.counts()
    for name in queue.CHANNELS:
        if channel not in (None, name):
            continue
        count = counts[name]
        click.echo(
            f"{name}: {count[queue.PENDING]} waiting, {count[queue.FAILED]} failed, "
            f"{count[queue.SENT]} sent in the last {queue.SENT_KEPT.days} days"
        )
    for status, title in (
        (queue.FAILED, "failed (consent-api outbox retry ID)"),
        (queue.PENDING, "waiting"),
        (queue.SENT, "sent recently"),
    ):
        rows = [row for row in queue.listing(status) if channel in (None, row.channel)]
        if rows:
            click.echo(f"\n{title}:")
            for row in rows:
                click.echo(_line(row, status))


@cli.command("retry")
@click.argument("delivery_id", type=int, required=False)
@click.option("--failed", "every", is_flag=True, help="Every failed delivery (of --channel).")
@_channel
@with_appcontext
def retry_command(delivery_id: int | None, every: bool, channel: str | None) -> None:
    """Queue a failed delivery again, due now (ID from `consent-api outbox`)."""
    if (delivery_id is None) == (not every):
        raise click.UsageError("give either a delivery's ID or --failed, not both")
    if delivery_id is not None:
        if not queue.retry(delivery_id):
            raise click.ClickException(f"{delivery_id}: no failed delivery has this ID")
        click.echo(f"delivery {delivery_id} queued again")
        return
    click.echo(f"{queue.retry_failed(channel)} failed deliveries queued again")


@cli.command("deliver")
@_channel
@with_appcontext
def deliver_command(channel: str | None) -> None:
    """Send what is due (for deployments that deliver from a timer)."""
    result = deliver(channel)
    click.echo(f"{result.sent} sent, {result.failed} failed, {queue.pending(channel)} waiting")
    if result.failed:
        raise click.ClickException(
            f"{result.failed} deliveries could not be sent; they are retried with back-off "
            "(see consent-api outbox)"
        )
