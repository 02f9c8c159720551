"""The database: one SQLAlchemy engine per process, SQLite (embedded) or PostgreSQL.

Every database error leaves this module as ``StorageUnavailable`` (a 503), so that a caller never
answers success for a write that did not commit. On SQLite, ``write`` and ``insert`` commit the
writes of concurrent requests together (``sqlite.GroupCommit``): one durable commit, one fsync,
serves every request that arrived while the previous commit was on its way to disk. PostgreSQL
groups concurrent commits itself: there each write is a transaction on a pooled connection,
which ``pool_pre_ping`` replaces if the server dropped it.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from consent_api import background
from consent_api.exc import StorageUnavailable, described
from consent_api.records import files, schema
from consent_api.records.sqlite import BatchFailed, GroupCommit, WriteLock

EXTENSION = "consent_api.records.storage"
T = TypeVar("T")


#: WAL pages at which a commit checkpoints by itself (SQLite's default is 1,000): 40 MiB, several
#: seconds of the heaviest load, which the checkpoint job keeps the log well below.
AUTOCHECKPOINT_PAGES = 10_000


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling would run DDL outside transactions; the "begin"
    # listener below issues BEGIN itself instead (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    # WAL lets readers run beside the writer; FULL makes a commit durable before it returns;
    # secure_delete overwrites deleted content (and freed pages) so erased data leaves the file.
    # auto_vacuum first: it takes effect only in a new, empty file (or at the next VACUUM).
    # Incremental: the purge gives free pages back in short steps instead of one long VACUUM.
    # Set only when it differs: setting it writes the file's header, which takes the write lock.
    cursor = dbapi_connection.cursor()
    if cursor.execute("PRAGMA auto_vacuum").fetchone()[0] != files.INCREMENTAL:
        cursor.execute("PRAGMA auto_vacuum=INCREMENTAL")
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "busy_timeout=5000",
        "foreign_keys=ON",
        "secure_delete=ON",
        # Checkpoints run beside the writers (``checkpoint``), not inside a commit that other
        # writers queue behind; this is only the backstop if those stop.
        f"wal_autocheckpoint={AUTOCHECKPOINT_PAGES}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A writer takes the write lock at BEGIN, so it waits (busy_timeout) instead of failing
    # when it would have to upgrade a read lock that another writer is blocking.
    immediate = connection.get_execution_options().get("sqlite_immediate", False)
    # On the driver's connection: the same statement, without a statement's bookkeeping.
    connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
        "BEGIN IMMEDIATE" if immediate else "BEGIN"
    )


@contextmanager
def begin_write(engine: Engine, lock: WriteLock) -> Iterator[Connection]:
    """A write transaction that commits when the block ends, holding the write lock (queued
    behind other writers of every process) from before BEGIN until after COMMIT."""
    # Connected first: opening a connection (a process's first, above all) can take a while,
    # and nobody should queue behind that.
    connection = engine.connect().execution_options(sqlite_immediate=True)
    with connection, lock.held(), connection.begin():
        yield connection


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas this service relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, hide_parameters=True)


#: SQLite's SQLITE_FULL and PostgreSQL's disk_full (SQLSTATE 53100).
_SQLITE_FULL = 13
_PG_DISK_FULL = "53100"


def _is_full(error: SQLAlchemyError | OSError) -> bool:
    if isinstance(error, OSError):
        return error.errno == errno.ENOSPC
    orig = getattr(error, "orig", None)
    return (
        getattr(orig, "sqlite_errorcode", None) == _SQLITE_FULL
        or getattr(orig, "sqlstate", None) == _PG_DISK_FULL
    )


@contextmanager
def _unavailable_on_error() -> Iterator[None]:
    try:
        yield
    except (SQLAlchemyError, OSError, BatchFailed) as error:  # OSError: the write lock's file
        # A batch's failure comes chained to this writer's own BatchFailed (see GroupCommit).
        cause = error.__cause__ if isinstance(error, BatchFailed) else error
        if not isinstance(cause, SQLAlchemyError | OSError):
            raise  # not the database: a fault in a writer's own work (a 500)
        current_app.logger.error("database error: %s", described(cause))
        if _is_full(cause):
            raise StorageUnavailable(
                "The database has no space left; nothing was stored. Try again later.",
                code="storage_full",
            ) from error
        raise StorageUnavailable("The database is unavailable; try again shortly.") from error


@dataclass
class Storage:
    engine: Engine
    writer: WriteLock
    #: SQLite only; ``None`` on PostgreSQL.
    group: GroupCommit | None


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    if engine.dialect.name == "sqlite":
        background.register(app, "checkpoint", "CHECKPOINT_INTERVAL", _checkpoint_in_background)
    writer = WriteLock(engine)
    app.extensions[EXTENSION] = Storage(engine, writer, _group_commit(engine, writer))
    if app.config["AUTO_MIGRATE"]:
        try:
            with begin_write(engine, writer) as connection:
                schema.migrate(connection)
        except (SQLAlchemyError, OSError) as error:
            # Start anyway: health answers 503 and says why, instead of the process dying.
            app.logger.error("cannot migrate the database at start-up: %s", described(error))


def _group_commit(engine: Engine, writer: WriteLock) -> GroupCommit | None:
    return GroupCommit(engine, writer) if engine.dialect.name == "sqlite" else None


def get_engine(app: Flask | None = None) -> Engine:
    storage: Storage = (app or current_app).extensions[EXTENSION]
    return storage.engine


def dispose(app: Flask) -> None:
    """Close every connection this app holds (the pool's and the group commit's); the next
    write or read opens new ones."""
    storage: Storage = app.extensions[EXTENSION]
    if storage.group is not None:
        storage.group.close()
    storage.engine.dispose()


def after_fork(app: Flask) -> None:
    """Drop connections and locks inherited from a parent process (gunicorn forks workers)."""
    storage: Storage = app.extensions[EXTENSION]
    storage.engine.dispose(close=False)
    storage.group = _group_commit(storage.engine, storage.writer)


def write(work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a write transaction and return its result once durably committed.

    On SQLite ``work`` may share its transaction with other writers' and must not commit
    itself; if any writer of the batch fails, the batch rolls back and each of its writers gets
    the error. It runs in the caller's context (app, request), whichever thread leads the batch.
    """
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        if storage.group is not None:
            result: T = storage.group.run(work)
            return result
        with storage.engine.begin() as connection:
            return work(connection)


def insert(table: Table, values: dict[str, Any]) -> None:
    """Insert one row and return once it is durably committed: on SQLite, in one multi-row
    insert with the rows of the other writers of its batch."""
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        if storage.group is not None:
            storage.group.insert(table, values)
            return
        # One statement in autocommit is a transaction of its own, durably committed before
        # the server answers: two round trips (BEGIN, COMMIT) fewer than a transaction block.
        with storage.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                table.insert(), values
            )


def merge(flush: Callable[[Connection, list[Any]], None], value: Any) -> None:
    """Hand ``value`` to ``flush`` together with the values that the other writers of the batch
    give the same ``flush``, in one call inside the batch's transaction; return once durably
    committed. For counters: a batch of events becomes one upsert per table, not one each."""
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        if storage.group is not None:
            storage.group.merge(flush, value)
            return
        with storage.engine.begin() as connection:
            flush(connection, [value])


@contextmanager
def transaction() -> Iterator[Connection]:
    """A write transaction of its own, for work that must not share one (migrations, purges)."""
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error(), begin_write(storage.engine, storage.writer) as connection:
        yield connection


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for reads."""
    with _unavailable_on_error(), get_engine().connect() as connection:
        yield connection


def scrub(*, full_vacuum: bool = False) -> str:
    """After a deletion on SQLite, make the deleted bytes leave the files; returns what it did.

    ``secure_delete`` has already zeroed the deleted rows in the pages written to the WAL; a
    ``wal_checkpoint(TRUNCATE)`` copies those pages into the database file and empties the WAL,
    where the rows' earlier versions were. A copy of a row can also survive in a page's unused
    space when the row was moved within the file (a hold rewrites it), which only a full
    ``VACUUM`` rebuilds away: ``full_vacuum`` runs one (erasure does). Otherwise, once free
    pages pile up, an incremental vacuum gives them back in short steps that writers queue
    between. (A file made before incremental vacuum gets one full ``VACUUM`` instead, which
    also converts it.) On PostgreSQL this does nothing (see the README).
    """
    storage: Storage = current_app.extensions[EXTENSION]
    if storage.engine.dialect.name != "sqlite":
        return "nothing to do on PostgreSQL"
    with _unavailable_on_error():
        return files.scrub(storage.engine, storage.writer, full_vacuum=full_vacuum)


def checkpoint() -> str:
    """Copy what the SQLite write-ahead log holds into the database file, beside the writers.

    A ``PASSIVE`` checkpoint takes no write lock: writers go on committing while it copies
    pages and syncs the file. Run by every serving process every ``CHECKPOINT_INTERVAL``
    seconds and by the purge after each batch, it keeps that work out of the commits that
    acknowledge records (SQLite would otherwise checkpoint inside a commit, every 1,000 pages).
    """
    engine = get_engine()
    if engine.dialect.name != "sqlite":
        return "nothing to do on PostgreSQL"
    with _unavailable_on_error():
        return files.checkpoint(engine)


#: ``app.extensions`` key: what the checkpoint job last failed with, while it keeps failing.
_CHECKPOINT_FAILING = "consent_api.records.storage.checkpoint_failing"


def _checkpoint_in_background() -> None:
    # Run every second: a failure (a full disk, a database that cannot be reached) is logged
    # once, when it starts or changes, and once more when checkpoints work again; in between
    # the job retries quietly, and the writes that fail meanwhile answer 503.
    failing = current_app.extensions.get(_CHECKPOINT_FAILING)
    try:
        files.checkpoint(get_engine())
    except (SQLAlchemyError, OSError, sqlite3.Error) as error:  # sqlite3: the raw connection's
        condition = described(error)
        if condition != failing:
            current_app.logger.error("checkpoints fail (%s); retrying quietly", condition)
            current_app.extensions[_CHECKPOINT_FAILING] = condition
        return
    if failing is not None:
        current_app.logger.warning("checkpoints work again after: %s", failing)
        del current_app.extensions[_CHECKPOINT_FAILING]


def ping() -> None:
    """Raise ``StorageUnavailable`` unless the database answers and its schema is current."""
    with reading() as connection:
        version = schema.current_version(connection)
    if version < schema.LATEST:
        raise StorageUnavailable(
            f"The database schema is at version {version} of {schema.LATEST}: "
            "run 'consent-api migrate'."
        )
