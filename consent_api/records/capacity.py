"""Whether the database has room for a write, for ``GET /api/health``.

A full disk lets reads go on, so a health check that only reads says ok while every write
answers 503 ``storage_full``. On SQLite the room is measured: the free space of the file system
that holds the database, and the pages SQLite may still use (its ``max_page_count`` less the
pages in use, counting free pages inside the file). On PostgreSQL the server's disk is its own
affair, and the check reads only.
"""

from __future__ import annotations

import os
from pathlib import Path

from consent_api.exc import StorageUnavailable
from consent_api.records import storage

#: Below this many pages of room a write may fail (a record and its index entries, in the
#: write-ahead log and then in the file): health says full a little before a write would.
MIN_ROOM_PAGES = 64


def room() -> int | None:
    """Pages a write may still use on SQLite; ``None`` on PostgreSQL, which does not say."""
    engine = storage.get_engine()
    if engine.dialect.name != "sqlite":
        return None
    with storage.reading() as connection:

        def pragma(name: str) -> int:
            return int(connection.exec_driver_sql(f"PRAGMA {name}").scalar() or 0)

        page_size = pragma("page_size")
        pages = pragma("max_page_count") - pragma("page_count") + pragma("freelist_count")
    database = engine.url.database
    if database and database != ":memory:" and "mode=memory" not in str(engine.url):
        disk = os.statvfs(Path(database).resolve().parent)
        pages = min(pages, disk.f_bavail * disk.f_frsize // page_size)
    return pages


def check() -> None:
    """Raise ``StorageUnavailable`` (``storage_full``) when a write would find no room."""
    pages = room()
    if pages is not None and pages < MIN_ROOM_PAGES:
        raise StorageUnavailable(
            "The database has no space left: writes are refused until space is freed.",
            code="storage_full",
        )
