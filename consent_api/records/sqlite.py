"""What only SQLite needs: one queue for its write lock across processes, the group commit that
shares one durable commit (one fsync) among concurrent writers, and giving deleted bytes back.

PostgreSQL needs none of this: it queues writers itself and flushes concurrent commits together.
Flask-free: ``storage`` passes the engine and the lock in, and turns errors into 503s.
"""

from __future__ import annotations

import contextvars
import fcntl
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Dialect, Engine, Table
from sqlalchemy.exc import DBAPIError

#: Rows per statement of a multi-row insert: 64 rows of the records table use 768 of the 999
#: variables the oldest SQLite builds allow in one statement.
ROWS_PER_STATEMENT = 64


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


class BatchFailed(Exception):
    """This writer's write did not commit because its batch failed.

    Raised in each writer's own thread, a new instance for each, with the one failure as its
    ``__cause__``: the failure itself is never raised again in another thread, whose traceback
    would then be written into the same object from several threads at once.
    """


class PreparedInsert:
    """A multi-row ``INSERT`` of one table's columns, run on the driver's connection.

    Values go through SQLAlchemy's own bind processors for the dialect (the same conversion a
    Core insert makes: UTC datetimes to SQLite's text, booleans to integers), so the stored row
    is the one ``connection.execute(table.insert(), rows)`` would store; only the statement's
    bookkeeping is left out. sqlite3 keeps each statement text prepared (its statement cache).
    """

    def __init__(self, table: Table, columns: Sequence[str], dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        self.columns = tuple(columns)
        self.processors = [
            (name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in self.columns
        ]
        names = ", ".join(quote(name) for name in self.columns)
        self.head = f"INSERT INTO {quote(table.name)} ({names}) VALUES "
        self.row = "(" + ", ".join("?" * len(self.columns)) + ")"
        self.driver_error: type[Exception] = dialect.loaded_dbapi.Error

    def run(self, driver_connection: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            values = [
                process(row[name]) if process is not None else row[name]
                for row in chunk
                for name, process in self.processors
            ]
            sql = self.head + ", ".join([self.row] * len(chunk))
            try:
                driver_connection.execute(sql, values)
            except self.driver_error as error:
                # Wrapped as SQLAlchemy wraps the driver's errors, so that they are handled
                # alike; without the values, which are personal data, in its text.
                raise DBAPIError.instance(
                    sql, None, error, self.driver_error, hide_parameters=True
                ) from error


@dataclass(eq=False)
class _Write:
    """One writer's part of a batch: ``work`` to run, a ``row`` to insert with the others', or
    a ``merged`` value handed to its function with the other writers' values for it.

    ``wake`` is held from the start; the thread that ends the writer's wait lets go of it once,
    when the write is done or when the writer is to lead the next batch.
    """

    work: Callable[[Connection], Any] | None = None
    #: The context the writer called from (its own app and request), which ``work`` runs in.
    context: contextvars.Context | None = None
    row: tuple[Table, Mapping[str, Any]] | None = None
    merged: tuple[Callable[[Connection, list[Any]], None], Any] | None = None
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    wake: Any = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.wake.acquire()


class GroupCommit:
    """Runs concurrent writes in shared transactions: the first waiting writer leads a batch.

    The leader takes every write queued so far, runs it in one transaction and commits once
    (one fsync with ``synchronous=FULL``), then wakes each writer of the batch exactly once and
    hands the lead to the first writer that queued meanwhile. A request's own thread leads, so
    no write waits for a hand-off to a writer thread and back. Rows given to ``insert`` go in
    as one multi-row insert per table, before the batch's other work runs. Each ``work`` runs
    in the context of the writer that gave it (a copy of its ``contextvars``: its own app and
    request), never in the leader's.
    """

    def __init__(self, engine: Engine, writer: WriteLock) -> None:
        self.engine = engine
        self.writer = writer
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: list[_Write] = []
        self._leading = False
        #: The leaders' connection: one leader at a time uses it (``_leading``).
        self._connection: Connection | None = None
        self._inserts: dict[tuple[Table, tuple[str, ...]], PreparedInsert] = {}

    def run(self, work: Callable[[Connection], Any]) -> Any:
        """``work``'s result once its batch has committed; ``BatchFailed`` if it did not."""
        return self._join(_Write(work=work, context=contextvars.copy_context()))

    def insert(self, table: Table, values: Mapping[str, Any]) -> None:
        """Return once ``values`` is committed as a row of ``table``; ``BatchFailed`` if not."""
        self._join(_Write(row=(table, values)))

    def merge(self, flush: Callable[[Connection, list[Any]], None], value: Any) -> None:
        """Return once ``flush`` has had ``value``, with the batch's others, and committed."""
        self._join(_Write(merged=(flush, value)))

    def _join(self, item: _Write) -> Any:
        with self._lock:
            self._pending.append(item)
            lead = not self._leading
            self._leading = True
        if not lead:
            item.wake.acquire()  # let go once: done, or leading the next batch
        if not item.done:
            self._lead(item)
        if item.error is not None:
            raise BatchFailed("the write's batch did not commit") from item.error
        return item.result

    def _lead(self, leader: _Write) -> None:
        batch: list[_Write] = []
        error: BaseException | None = None
        results: list[Any] = []
        try:
            # Connected first: opening a connection can take a while, and no other process
            # should queue behind that. The batch is taken once the write lock is held, not
            # before: the writers that queue while another process commits join this commit.
            connection = self._connected()
            with self.writer.held():
                batch = self._take()
                results = self._transaction(connection, batch)
        except BaseException as failure:  # each writer raises its own BatchFailed from it
            error = failure
            batch = batch or self._take()
        for index, item in enumerate(batch):
            item.error = error
            item.result = results[index] if error is None else None
            item.done = True
        with self._lock:
            successor = self._pending[0] if self._pending else None
            if successor is None:
                self._leading = False
                self._idle.notify_all()
        for item in batch:
            if item is not leader:  # the others wait on their own lock
                item.wake.release()
        if successor is not None:
            successor.wake.release()

    def _take(self) -> list[_Write]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _connected(self) -> Connection:
        """The leaders' connection, kept open between batches (an SQLite file does not drop
        it); after a failed batch the next one opens a new one."""
        if self._connection is None:
            self._connection = self.engine.connect().execution_options(sqlite_immediate=True)
        return self._connection

    def _transaction(self, connection: Connection, batch: list[_Write]) -> list[Any]:
        """Run the batch in one transaction: its rows first, then each writer's work."""
        rows: dict[tuple[Table, tuple[str, ...]], list[Mapping[str, Any]]] = {}
        merged: dict[Callable[[Connection, list[Any]], None], list[Any]] = {}
        for item in batch:
            if item.row is not None:
                table, values = item.row
                rows.setdefault((table, tuple(values)), []).append(values)
            if item.merged is not None:
                merged.setdefault(item.merged[0], []).append(item.merged[1])
        try:
            with connection.begin():
                driver = connection.connection.driver_connection
                for key, table_rows in rows.items():
                    self._prepared(*key).run(driver, table_rows)
                for flush, given in merged.items():
                    flush(connection, given)
                return [
                    item.context.run(item.work, connection) if item.work and item.context else None
                    for item in batch
                ]
        except BaseException:
            connection.close()
            self._connection = None
            raise

    def _prepared(self, table: Table, columns: tuple[str, ...]) -> PreparedInsert:
        prepared = self._inserts.get((table, columns))
        if prepared is None:
            prepared = PreparedInsert(table, columns, self.engine.dialect)
            self._inserts[(table, columns)] = prepared
        return prepared

    def close(self) -> None:
        """Close the leaders' connection (once no batch is running); the next batch opens one."""
        with self._lock:
            while self._leading:
                self._idle.wait()
            if self._connection is not None:
                self._connection.close()
                self._connection = None
