"""Keeping records for their retention period and no longer: the purge, its log, and holds.

A record is due for deletion once its kind's current period (``extra.retention`` in
``mkdocs.yml``, the numbers the published schedule shows) has passed since it was made, unless
it is on hold (``records.due``). The purge deletes due records in short batches, each its own
transaction, so that writers wait at most one batch; on PostgreSQL a batch skips rows another
host's purge has locked, so purges on several hosts at once delete each record exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import Select, func, select

from consent_api import background
from consent_api.exc import ConfigError, NotFound
from consent_api.records import storage
from consent_api.records import store as records
from consent_api.records.schema import purge_log
from consent_api.records.schema import records as table
from consent_api.site.registry import INQUIRY_KINDS, RECORD_KINDS

logger = logging.getLogger("consent_api.retention.purge")

#: Between two batches on SQLite: long enough for the writers queued behind a batch to take the
#: write lock before the next batch does.
PAUSE_SECONDS = 0.002
#: Kinds a hold can keep: an ongoing relationship extends inquiries, never consent records.
HOLDABLE = INQUIRY_KINDS


#: What else the purge deletes, beside records: ``{name: Step}``, added by ``register``.
STEPS = "consent_api.retention.purge.steps"


@dataclass(frozen=True)
class Step:
    """Another kind of stored data with a period of its own (the analytics aggregates): how
    much of it is due at a moment, and deleting that; each returns a count of rows."""

    due: Callable[[dt.datetime], int]
    delete: Callable[[dt.datetime], int]


def register(app: Flask, name: str, step: Step) -> None:
    """Have the purge (and its dry run) also delete what ``step`` finds due, counted as
    ``name``: the package that owns the data says what is due, the purge runs it."""
    app.extensions.setdefault(STEPS, {})[name] = step


def _steps() -> dict[str, Step]:
    steps: dict[str, Step] = current_app.extensions.get(STEPS, {})
    return steps


def init_app(app: Flask) -> None:
    size = app.config["PURGE_BATCH_SIZE"]
    if not isinstance(size, int) or size < 1:
        raise ConfigError(f"CONSENT_API_PURGE_BATCH_SIZE must be a whole number ≥ 1, not {size!r}")
    background.register(app, "purge", "PURGE_INTERVAL", _purge_in_background)


def due_counts(moment: dt.datetime | None = None) -> dict[str, int]:
    """How many records of each kind the purge would delete at ``moment`` (default: now)."""
    moment = moment or records.now()
    with storage.reading() as connection:
        counts = {
            kind: int(connection.scalar(select(func.count()).where(records.due(kind, moment))) or 0)
            for kind in RECORD_KINDS
        }
    return counts | {name: step.due(moment) for name, step in _steps().items()}


def due_ids(kind: str, moment: dt.datetime, size: int) -> Select[int]:
    """The row ids of one batch of due records of ``kind``, locked for deletion."""
    # SKIP LOCKED (PostgreSQL; SQLite serialises writers anyway): rows another host's purge is
    # deleting right now are left to it, instead of both waiting on them and counting them.
    return (
        select(table.c.id)
        .where(records.due(kind, moment))
        .limit(size)
        .with_for_update(skip_locked=True)
    )


def _purge_batch(
    kind: str, moment: dt.datetime, size: int, run: int, deleted: dict[str, int]
) -> int:
    with storage.transaction() as connection:
        ids = connection.scalars(due_ids(kind, moment, size)).all()
        count = records.delete_ids(connection, ids)
        if count:
            # In the batch's own transaction: the log counts exactly what is gone, even if the
            # run is killed before the next batch.
            so_far = {**deleted, kind: deleted[kind] + count}
            connection.execute(
                purge_log.update().where(purge_log.c.id == run).values(deleted=json.dumps(so_far))
            )
        return count


def purge(moment: dt.datetime | None = None) -> dict[str, int]:
    """Delete every record due at ``moment`` (default: now), and what the registered steps find
    due, log the run and scrub the files; returns how many of each kind this run deleted.

    The run's log row is written before the first deletion, kept up to date by every batch and
    completed (``finished_at``) at the end: a run killed midway shows as unfinished, with what
    it had deleted."""
    started = records.now()
    moment = moment or started
    size: int = current_app.config["PURGE_BATCH_SIZE"]
    sqlite = storage.get_engine().dialect.name == "sqlite"
    deleted: dict[str, int] = dict.fromkeys(RECORD_KINDS, 0)
    with storage.transaction() as connection:
        run = connection.execute(
            purge_log.insert().returning(purge_log.c.id),
            {"started_at": started, "finished_at": None, "deleted": json.dumps(deleted)},
        ).scalar_one()
    for kind in RECORD_KINDS:
        while True:
            count = _purge_batch(kind, moment, size, run, deleted)
            deleted[kind] += count
            if count < size:
                break
            if sqlite:
                # The batch's pages go into the database file beside the writers, not inside
                # a later commit; writers queue for SQLite's write lock (storage.WriteLock),
                # and a moment's pause lets the ones that queued during the batch go first.
                storage.checkpoint()
                time.sleep(PAUSE_SECONDS)
    for name, step in _steps().items():
        deleted[name] = step.delete(moment)
    with storage.transaction() as connection:
        connection.execute(
            purge_log.update()
            .where(purge_log.c.id == run)
            .values(finished_at=records.now(), deleted=json.dumps(deleted))
        )
    if any(deleted.values()):
        logger.info("purge: %s", storage.scrub())
    return deleted


def _purge_in_background() -> None:
    deleted = purge()
    logger.info("purge: %s", _counts(deleted))


def history(limit: int = 20) -> list[dict[str, Any]]:
    """The most recent purge runs, newest first: times and counts per kind; ``finished_at`` is
    ``None`` for a run still going, or killed before it ended."""
    query = select(purge_log).order_by(purge_log.c.id.desc()).limit(limit)
    with storage.reading() as connection:
        return [
            {
                "started_at": records.isoformat(row.started_at),
                "finished_at": records.isoformat(row.finished_at) if row.finished_at else None,
                "deleted": json.loads(row.deleted),
            }
            for row in connection.execute(query)
        ]


def _selection(public_id: str | None, email: str | None) -> Any:
    if (public_id is None) == (email is None):
        raise click.UsageError("give either a record's PUBLIC_ID or --email, not both")
    if email is not None:
        return table.c.subject == records.subject_of(email)
    return table.c.public_id == public_id


def hold(public_id: str | None, email: str | None, reason: str) -> list[records.Record]:
    """Keep the live inquiries selected past their period, recording why and when."""
    selected = [r for r in records.stored(_selection(public_id, email)) if _is_live(r)]
    if public_id is not None and selected and selected[0].kind not in HOLDABLE:
        raise NotFound(
            f"{public_id} is a {selected[0].kind} record: only inquiries "
            f"({', '.join(HOLDABLE)}) can be held; the schedule never extends the others."
        )
    selected = [record for record in selected if record.kind in HOLDABLE]
    if not selected:
        raise NotFound("No live inquiry matches: it never existed, or it is already due.")
    values = {"hold": True, "hold_reason": reason, "held_at": records.now()}
    return _set(selected, values)


def release(public_id: str | None, email: str | None) -> list[records.Record]:
    """Let normal expiry apply again to the held records selected."""
    selected = [r for r in records.stored(_selection(public_id, email)) if r.hold]
    if not selected:
        raise NotFound("No record on hold matches.")
    return _set(selected, {"hold": False, "hold_reason": None, "held_at": None})


def _is_live(record: records.Record) -> bool:
    return record.hold or records.due_at(record) > records.now()


def _set(selected: list[records.Record], values: dict[str, Any]) -> list[records.Record]:
    ids = [record.public_id for record in selected]
    with storage.transaction() as connection:
        connection.execute(table.update().where(table.c.public_id.in_(ids)).values(**values))
    return records.stored(table.c.public_id.in_(ids))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in counts.items())


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option("--history", "show_history", is_flag=True, help="Show the log of purge runs.")
@with_appcontext
def purge_command(dry_run: bool, show_history: bool) -> None:
    """Delete every record past its retention period and not on hold."""
    if show_history:
        for run in history():
            if run["finished_at"] is None:
                # Still running (here or on another host), or stopped midway: never finished.
                done = f"UNFINISHED, deleted {_counts(run['deleted'])} before it stopped or so far"
            else:
                done = f"deleted {_counts(run['deleted'])}"
            click.echo(f"{run['started_at']}  {done}")
        return
    if dry_run:
        click.echo(f"would delete {_counts(due_counts())} (dry run: nothing deleted)")
        return
    click.echo(f"deleted {_counts(purge())}")


def _print(records_: list[records.Record], verb: str) -> None:
    for record in records_:
        due = records.isoformat(records.due_at(record))
        click.echo(f"{verb} {record.kind} {record.public_id} (due {due})")


@click.command("hold")
@click.argument("public_id", required=False)
@click.option("--email", help="Hold every inquiry from this email address.")
@click.option("--reason", required=True, help="Why: the ongoing relationship, a ticket.")
@with_appcontext
def hold_command(public_id: str | None, email: str | None, reason: str) -> None:
    """Keep inquiries of an ongoing relationship past their retention period."""
    try:
        _print(hold(public_id, email, reason), "held")
    except NotFound as error:
        raise click.ClickException(error.message) from error


@click.command("release")
@click.argument("public_id", required=False)
@click.option("--email", help="Release every held inquiry from this email address.")
@with_appcontext
def release_command(public_id: str | None, email: str | None) -> None:
    """End a hold: the records are deleted once their period has passed."""
    try:
        _print(release(public_id, email), "released")
    except NotFound as error:
        raise click.ClickException(error.message) from error
