"""The database: one SQLAlchemy engine per process, SQLite (embedded) or PostgreSQL.

Every database error leaves this module as ``StorageUnavailable`` (a 503), so that a caller never
answers success for a write that did not commit. Writes go through ``write``, which commits the
writes of concurrent requests together (group commit): one durable commit, one fsync on SQLite,
serves every request that arrived while the previous commit was on its way to disk.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from consent_api import background
from consent_api.exc import StorageUnavailable
from consent_api.records import schema

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
    if cursor.execute("PRAGMA auto_vacuum").fetchone()[0] != _INCREMENTAL:
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


class WriteLock:
    """A queue for SQLite's one write lock that every process of the service joins.

    SQLite has no queue of its own: a writer that finds the lock taken sleeps in its busy
    handler (1, 2, 5 … 100 ms) and retries, so under load a commit can wait many times longer
    than the commit it waited for. Here a writer first takes an exclusive ``flock`` on a file
    beside the database; the kernel wakes the next writer the moment the previous one lets go.
    Each holder opens the file itself, so threads of one process queue like processes do. On
    PostgreSQL, or an in-memory database, it does nothing.
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        memory = not database or database == ":memory:" or "mode=memory" in str(engine.url)
        self.path = None if memory else f"{database}-writer"

    @contextmanager
    def held(self) -> Iterator[None]:
        if self.path is None:
            yield
            return
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits in the kernel, without the GIL
            yield
        finally:
            os.close(descriptor)  # closing lets go of the lock


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
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


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
    except (SQLAlchemyError, OSError) as error:  # OSError: the write lock's file
        current_app.logger.error("database error: %s", error)
        if _is_full(error):
            raise StorageUnavailable(
                "The database has no space left; nothing was stored. Try again later.",
                code="storage_full",
            ) from error
        raise StorageUnavailable("The database is unavailable; try again shortly.") from error


@dataclass
class _Write(Generic[T]):
    """One writer's part of a batch: ``work`` to run, ``rows`` to insert with the others', or
    a ``merged`` value handed to its function with the other writers' values for it."""

    work: Callable[[Connection], T] | None = None
    rows: tuple[Table, dict[str, Any]] | None = None
    merged: tuple[Callable[[Connection, list[Any]], None], Any] | None = None
    done: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class GroupCommit:
    """Runs concurrent writes in shared transactions: the first waiting writer leads a batch.

    Rows given to ``insert`` go into the batch's transaction as one multi-row insert per table
    (one statement for the whole batch), before the batch's other work runs.
    """

    engine: Engine
    writer: WriteLock
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _pending: list[_Write[Any]] = field(default_factory=list)
    _leading: bool = False
    #: The leaders' connection: one leader at a time uses it (``_leading``).
    _connection: Connection | None = None

    def run(self, work: Callable[[Connection], T]) -> T:
        return self._join(_Write(work=work))  # type: ignore[no-any-return]

    def insert(self, table: Table, values: dict[str, Any]) -> None:
        self._join(_Write(rows=(table, values)))

    def merge(self, flush: Callable[[Connection, list[Any]], None], value: Any) -> None:
        self._join(_Write(merged=(flush, value)))

    def _join(self, item: _Write[Any]) -> Any:
        with self._lock:
            self._pending.append(item)
            while self._leading and not item.done:
                self._lock.wait()
            if not item.done:
                self._leading = True
                batch, self._pending = self._pending, []
        if not item.done:
            self._commit(batch)
        if item.error is not None:
            raise item.error
        return item.result

    def close(self) -> None:
        """Close the leaders' connection (when no batch is running); the next batch opens one."""
        with self._lock:
            while self._leading:
                self._lock.wait()
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def _commit(self, batch: list[_Write[Any]]) -> None:
        error: BaseException | None = None
        results: list[Any] = []
        try:
            results = self._transaction(batch)
        except BaseException as failure:  # handed to every writer of the batch, re-raised there
            error = failure
        with self._lock:
            for index, item in enumerate(batch):
                item.done, item.error = True, error
                item.result = results[index] if error is None else None
            self._leading = False
            self._lock.notify_all()

    def _transaction(self, batch: list[_Write[Any]]) -> list[Any]:
        """Run the batch in one transaction on the leaders' own connection, kept open between
        batches; a connection the database dropped (a restart) is replaced and the batch, which
        did not commit, runs once more on the new one."""
        rows: dict[Table, list[dict[str, Any]]] = {}
        merged: dict[Callable[[Connection, list[Any]], None], list[Any]] = {}
        for item in batch:
            if item.rows is not None:
                rows.setdefault(item.rows[0], []).append(item.rows[1])
            if item.merged is not None:
                merged.setdefault(item.merged[0], []).append(item.merged[1])
        for attempt in (1, 2):
            if self._connection is None:
                connection = self.engine.connect().execution_options(sqlite_immediate=True)
                self._connection = connection
            try:
                with self.writer.held(), self._connection.begin():
                    for table, values in rows.items():
                        self._connection.execute(table.insert(), values)
                    for flush, values in merged.items():
                        flush(self._connection, values)
                    return [item.work(self._connection) if item.work else None for item in batch]
            except BaseException as failure:
                self._connection.close()
                self._connection = None
                if attempt == 1 and getattr(failure, "connection_invalidated", False):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Storage:
    engine: Engine
    writer: WriteLock
    group: GroupCommit


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    if engine.dialect.name == "sqlite":
        background.register(app, "checkpoint", "CHECKPOINT_INTERVAL", _checkpoint_in_background)
    writer = WriteLock(engine)
    app.extensions[EXTENSION] = Storage(engine, writer, GroupCommit(engine, writer))
    if app.config["AUTO_MIGRATE"]:
        try:
            with begin_write(engine, writer) as connection:
                schema.migrate(connection)
        except (SQLAlchemyError, OSError) as error:
            # Start anyway: health answers 503 and says why, instead of the process dying.
            app.logger.error("cannot migrate the database at start-up: %s", error)


def get_engine(app: Flask | None = None) -> Engine:
    storage: Storage = (app or current_app).extensions[EXTENSION]
    return storage.engine


def dispose(app: Flask) -> None:
    """Close every connection this app holds (the pool's and the group commit's); the next
    write or read opens new ones."""
    storage: Storage = app.extensions[EXTENSION]
    storage.group.close()
    storage.engine.dispose()


def after_fork(app: Flask) -> None:
    """Drop connections and locks inherited from a parent process (gunicorn forks workers)."""
    storage: Storage = app.extensions[EXTENSION]
    storage.engine.dispose(close=False)
    storage.group = GroupCommit(storage.engine, storage.writer)


def write(work: Callable[[Connection], T]) -> T:
    """Run ``work`` in a write transaction and return its result once durably committed.

    ``work`` may share its transaction with other writers' and must not commit itself; if any
    writer of the batch fails, the batch rolls back and each of its writers gets the error.
    """
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        return storage.group.run(work)


def insert(table: Table, values: dict[str, Any]) -> None:
    """Insert one row and return once it is durably committed: a ``write`` whose row shares a
    single insert statement with the rows of the other writers of its batch."""
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        storage.group.insert(table, values)


def merge(flush: Callable[[Connection, list[Any]], None], value: Any) -> None:
    """Hand ``value`` to ``flush`` together with the values that the other writers of the batch
    give the same ``flush``, in one call inside the batch's transaction; return once durably
    committed. For counters: a batch of events becomes one upsert per table, not one each."""
    storage: Storage = current_app.extensions[EXTENSION]
    with _unavailable_on_error():
        storage.group.merge(flush, value)


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


#: ``scrub`` gives free pages back to the file system once they are this share of the file, and
#: at least this many. Free pages hold no data (secure_delete zeroes them) and new records reuse
#: them: giving them back is for the space after a pile-up (a shortened period, a long outage).
VACUUM_FREE_SHARE = 0.25
VACUUM_MIN_FREE_PAGES = 256
#: Free pages given back per step of an incremental vacuum: each step is one short write, so a
#: writer waits for one step (a few milliseconds), never for the whole file.
VACUUM_STEP_PAGES = 1024
#: SQLite's ``auto_vacuum`` mode 2: free pages stay in the file until ``incremental_vacuum``.
_INCREMENTAL = 2


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
    engine = storage.engine
    if engine.dialect.name != "sqlite":
        return "nothing to do on PostgreSQL"
    done = []
    with _unavailable_on_error():
        # The driver connection in autocommit: VACUUM and checkpoints cannot run in a transaction.
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()

            def pragma(statement: str) -> Any:
                return cursor.execute(f"PRAGMA {statement}").fetchall()

            free = pragma("freelist_count")[0][0]
            pages = pragma("page_count")[0][0]
            pile_up = free >= max(VACUUM_MIN_FREE_PAGES, pages * VACUUM_FREE_SHARE)
            incremental = pragma("auto_vacuum")[0][0] == _INCREMENTAL
            if full_vacuum or (pile_up and not incremental):
                # Writers queue behind the vacuum, as behind any write.
                with storage.writer.held():
                    cursor.execute("VACUUM")
                done.append(f"vacuumed ({free} of {pages} pages were free)")
            elif pile_up:
                steps = 0
                while pragma("freelist_count")[0][0] > 0 and steps * VACUUM_STEP_PAGES <= free:
                    with storage.writer.held():
                        # executescript steps the pragma to its end (execute stops after one
                        # page: the pragma returns no rows, and the driver steps once).
                        cursor.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});")
                    steps += 1
                done.append(f"gave {free} free pages of {pages} back in {steps} steps")
            with storage.writer.held():
                busy, _, _ = pragma("wal_checkpoint(TRUNCATE)")[0]
            done.append("WAL busy, checkpoint incomplete" if busy else "WAL checkpointed")
        finally:
            connection.close()
    return ", ".join(done)


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
        connection = engine.raw_connection()
        try:
            busy, logged, copied = (
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            )
        finally:
            connection.close()
    return f"checkpointed {copied} of {logged} WAL pages" + (" (busy)" if busy else "")


def _checkpoint_in_background() -> None:
    # A database that cannot be reached is logged once per try (``_unavailable_on_error``), not
    # again with a traceback every second; the writes that fail meanwhile answer 503.
    with suppress(StorageUnavailable):
        checkpoint()


def ping() -> None:
    """Raise ``StorageUnavailable`` unless the database answers and its schema is current."""
    with reading() as connection:
        version = schema.current_version(connection)
    if version < schema.LATEST:
        raise StorageUnavailable(
            f"The database schema is at version {version} of {schema.LATEST}: "
            "run 'consent-api migrate'."
        )
