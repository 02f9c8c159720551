"""The database: one SQLAlchemy engine per process, SQLite (embedded) or PostgreSQL."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

from .exc import StorageUnavailable

EXTENSION = "consent_api.storage"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; FULL makes a commit durable before it returns;
    # secure_delete overwrites deleted content so that erased data leaves the file.
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "busy_timeout=5000",
        "foreign_keys=ON",
        "secure_delete=ON",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas this service relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = make_engine(app.config["DATABASE_URL"])


def get_engine(app: Flask | None = None) -> Engine:
    engine: Engine = (app or current_app).extensions[EXTENSION]
    return engine


def after_fork(app: Flask) -> None:
    """Drop connections inherited from a parent process (gunicorn forks workers)."""
    get_engine(app).dispose(close=False)


def ping() -> None:
    """Raise ``StorageUnavailable`` unless the database answers a query."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise StorageUnavailable("The database is unavailable; try again shortly.") from error
