"""What leaves SQLite's files and when: checkpoints of the write-ahead log, and the vacuums
that make deleted bytes leave the file after a purge or an erasure.

Flask-free: ``storage`` calls these with its engine and write lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from consent_api.records.sqlite import WriteLock


def checkpoint(engine: Engine) -> str:
    """A ``PASSIVE`` checkpoint (no write lock taken); returns what it copied."""
    connection = engine.raw_connection()
    try:
        busy, logged, copied = (
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        )
    finally:
        connection.close()
    return f"checkpointed {copied} of {logged} WAL pages" + (" (busy)" if busy else "")


#: ``scrub`` gives free pages back to the file system once they are this share of the file, and
#: at least this many. Free pages hold no data (secure_delete zeroes them) and new records reuse
#: them: giving them back is for the space after a pile-up (a shortened period, a long outage).
VACUUM_FREE_SHARE = 0.25
VACUUM_MIN_FREE_PAGES = 256
#: Free pages given back per step of an incremental vacuum: each step is one short write, so a
#: writer waits for one step (a few milliseconds), never for the whole file.
VACUUM_STEP_PAGES = 1024
#: SQLite's ``auto_vacuum`` mode 2: free pages stay in the file until ``incremental_vacuum``.
INCREMENTAL = 2


def scrub(engine: Engine, writer: WriteLock, *, full_vacuum: bool = False) -> str:
    """After a deletion, make the deleted bytes leave the files; returns what it did (see
    ``storage.scrub``)."""
    done = []
    # The driver connection in autocommit: VACUUM and checkpoints cannot run in a transaction.
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()

        def pragma(statement: str) -> Any:
            return cursor.execute(f"PRAGMA {statement}").fetchall()

        free = pragma("freelist_count")[0][0]
        pages = pragma("page_count")[0][0]
        pile_up = free >= max(VACUUM_MIN_FREE_PAGES, pages * VACUUM_FREE_SHARE)
        incremental = pragma("auto_vacuum")[0][0] == INCREMENTAL
        if full_vacuum or (pile_up and not incremental):
            # Writers queue behind the vacuum, as behind any write.
            with writer.held():
                cursor.execute("VACUUM")
            done.append(f"vacuumed ({free} of {pages} pages were free)")
        elif pile_up:
            steps = 0
            while pragma("freelist_count")[0][0] > 0 and steps * VACUUM_STEP_PAGES <= free:
                with writer.held():
                    # executescript steps the pragma to its end (execute stops after one
                    # page: the pragma returns no rows, and the driver steps once).
                    cursor.executescript(f"PRAGMA incremental_vacuum({VACUUM_STEP_PAGES});")
                steps += 1
            done.append(f"gave {free} free pages of {pages} back in {steps} steps")
        with writer.held():
            busy, _, _ = pragma("wal_checkpoint(TRUNCATE)")[0]
        done.append("WAL busy, checkpoint incomplete" if busy else "WAL checkpointed")
    finally:
        connection.close()
    return ", ".join(done)
